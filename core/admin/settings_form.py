"""A plugin's settings form, generated from its marshmallow settings schema.

Field types become inputs (Boolean: a checkbox, Integer: a number, OneOf: a list
to choose from, List: one value a line, ...). Secrets are write-only: their input
is always empty, and leaving it empty keeps the stored value. Settings an operator
forced with ``EMPORIUM_PLUGIN_<NAME>__<KEY>`` are shown but cannot be changed here.
Only the values that differ from the effective ones are sent to
``Lifecycle.update_settings``, so a default is never frozen into the database.
"""
import dataclasses
import json

from marshmallow import fields, validate

from core.settings import plugin_overrides

SECRET_CLEAR_SUFFIX = "__clear"


@dataclasses.dataclass
class SettingField:
    name: str
    label: str
    kind: str  # text, number, checkbox, select, password, email, url, lines, json
    value: object
    description: str = ""
    choices: tuple = ()
    minimum: object = None
    maximum: object = None
    step: str = "1"
    secret: bool = False
    is_set: bool = False  # secrets: whether a value is stored
    forced: bool = False  # set by the operator's environment
    error: str = ""


def _kind(field):
    if field.metadata.get("secret"):
        return "password"
    if any(isinstance(v, validate.OneOf) for v in field.validators):
        return "select"
    for cls, kind in ((fields.Boolean, "checkbox"), (fields.Integer, "number"),
                      (fields.Float, "decimal"), (fields.Decimal, "decimal"),
                      (fields.Email, "email"), (fields.Url, "url"), (fields.List, "lines"),
                      (fields.Dict, "json"), (fields.Nested, "json")):
        if isinstance(field, cls):
            return kind
    return "text"


def _range(field):
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            return validator.min, validator.max
    return None, None


def _shown(kind, value):
    """The dumped value as the input shows it."""
    if value is None:
        return ""
    if kind == "lines":
        return "\n".join(str(item) for item in value)
    if kind == "json":
        return json.dumps(value, indent=2, sort_keys=True)
    if kind == "checkbox":
        return bool(value)
    return str(value)


def build_fields(registry, snapshot, name, submitted=None, errors=None):
    """The form's fields with the effective values (or what was just submitted)."""
    plugin = registry.get(name)
    schema_class = plugin.manifest.settings
    if schema_class is None:
        return []
    schema = schema_class()
    effective = schema.dump(registry.plugin_settings(name, snapshot))
    forced = plugin_overrides(registry.settings, name)
    errors = errors or {}
    result = []
    for key, field in schema.fields.items():
        if field.dump_only:
            continue
        kind = _kind(field)
        secret = kind == "password"
        if secret:
            value = ""
        elif submitted is not None and key in submitted:
            value = submitted[key]
        else:
            value = _shown(kind, effective.get(key))
        low, high = _range(field)
        choices = next((tuple(v.choices) for v in field.validators
                        if isinstance(v, validate.OneOf)), ())
        result.append(SettingField(
            name=key, label=key.replace("_", " ").capitalize(), kind=kind, value=value,
            description=field.metadata.get("description", ""), choices=choices,
            minimum=low, maximum=high, step="1" if kind == "number" else "any",
            secret=secret, is_set=secret and bool(effective.get(key)),
            forced=key in forced, error=" ".join(errors.get(key, ()))))
    return result


def parse(registry, snapshot, name, post):
    """``(changes, submitted, errors)`` from the posted form.

    ``changes`` maps keys to new values (``None`` resets a key to its default) and
    holds only what differs from the effective settings; ``submitted`` is what to
    show again if the form is refused; ``errors`` are problems found before the
    schema is asked (JSON that does not parse).
    """
    stored = snapshot.stored_settings.get(name, {})
    changes, submitted, errors = {}, {}, {}
    for field in build_fields(registry, snapshot, name):
        key, kind = field.name, field.kind
        if field.forced:
            continue
        if kind == "password":
            if post.get(key + SECRET_CLEAR_SUFFIX) in ("1", "on") and key in stored:
                changes[key] = None
            elif post.get(key):
                changes[key] = post.get(key)
            continue
        if kind == "checkbox":
            value = post.get(key) in ("1", "on", "true")
            submitted[key] = value
            if value != field.value:
                changes[key] = value
            continue
        raw = post.get(key, "")
        raw = raw if isinstance(raw, str) else ""
        submitted[key] = raw
        if kind == "lines":
            value = [line.strip() for line in raw.splitlines() if line.strip()]
            if raw.strip() != field.value.strip():
                changes[key] = value
        elif kind == "json":
            if raw.strip() == field.value.strip():
                continue
            try:
                changes[key] = json.loads(raw) if raw.strip() else None
            except ValueError as exc:
                errors[key] = [f"This is not valid JSON: {exc}."]
        elif kind in ("number", "decimal") and not raw.strip():
            if key in stored:
                changes[key] = None  # empty: back to the default
        elif raw.strip() != str(field.value).strip():
            changes[key] = raw.strip() if kind != "text" else raw
    return changes, submitted, errors
