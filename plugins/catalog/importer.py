"""Bulk import of products from CSV or JSON (docs/catalog.md has the formats).

A product is found by its slug: a new slug creates a product, a known one
updates it. Its variants are found by SKU the same way; variants that the file
does not mention are left alone. ``stock`` sets the units on hand (the ledger
records the difference, as kind "import").

The unit that is accepted or rejected is a product (in CSV: all the rows with
its slug). Each product is written inside its own savepoint, so a rejected one
leaves nothing behind. All-or-nothing by default: if any product is rejected,
``ImportRejected`` (a 422 carrying the report) makes the caller roll the whole
transaction back; ``partial=True`` keeps the good products.
"""
import csv
import io
import json

import sqlalchemy as sa
from marshmallow import ValidationError

from core.api.errors import APIError, BadRequest, Unprocessable

from . import inventory, services
from .models import Category, Product, Variant
from .schemas import ImportProduct

PRODUCT_COLUMNS = ("slug", "name", "description", "brand", "category", "is_active", "images")
VARIANT_COLUMNS = ("sku", "price", "compare_at_price", "currency", "weight_grams", "stock")
OPTION_PREFIX = "option."
FORMATS = ("csv", "json")


class ImportRejected(Unprocessable):
    code = "import_rejected"

    def __init__(self, report):
        self.report = report
        count = report["counts"]["rejected"]
        super().__init__(
            f"{count} product{'s' if count != 1 else ''} rejected; nothing was imported "
            "(import with partial to keep the others).", extra={"report": report})


class Item:
    """One product to import: its data and the rows (CSV) or position (JSON) it came from."""

    def __init__(self, rows, data, errors=None):
        self.rows = rows
        self.data = data
        self.errors = errors or {}

    @property
    def row(self):
        return self.rows[0]


# --- reading ------------------------------------------------------------------------------


def read(content, fmt):
    """Items from the text (CSV) or bytes/str (JSON) of a file; BadRequest if unreadable."""
    if fmt not in FORMATS:
        raise BadRequest(f"Unknown import format {fmt!r}: use csv or json.", code="bad_format")
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadRequest("The file is not UTF-8 text.", code="bad_file") from None
    return read_csv(content) if fmt == "csv" else read_json(content)


def read_json(text):
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"The file is not valid JSON: {exc}.", code="bad_file") from None
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    if not isinstance(data, list):
        raise BadRequest('The JSON file holds a list of products (or {"products": [...]}).',
                         code="bad_file")
    items = []
    for index, product in enumerate(data, start=1):
        if not isinstance(product, dict):
            items.append(Item([index], {}, {"_schema": ["A product is a JSON object."]}))
            continue
        product = dict(product)
        if isinstance(product.get("images"), list):
            product["images"] = [{"url": i} if isinstance(i, str) else i
                                 for i in product["images"]]
        items.append(Item([index], product))
    return items


def read_csv(text):
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="", strict=False)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise BadRequest(f"The CSV file cannot be read: {exc}.", code="bad_file") from None
    header = [name.strip() for name in header]
    reader.fieldnames = header
    unknown = [name for name in header if name not in PRODUCT_COLUMNS + VARIANT_COLUMNS
               and not (name.startswith(OPTION_PREFIX) and len(name) > len(OPTION_PREFIX))]
    if unknown:
        raise BadRequest(f"Unknown column(s): {', '.join(unknown)}.", code="bad_file")
    if "slug" not in header and "name" not in header:
        raise BadRequest("The CSV file needs a slug or a name column.", code="bad_file")
    items, by_slug = [], {}
    try:
        for number, row in enumerate(reader, start=2):
            if None in row:
                extra = Item([number], {}, {"_schema": ["The row has more cells than the "
                                                        "header has columns."]})
                items.append(extra)
                continue
            cells = {key: (value or "").strip() for key, value in row.items()}
            if not any(cells.values()):
                continue
            if not cells.get("slug") and not cells.get("name"):
                items.append(Item([number], {}, {"slug": [
                    "Each row names its product by slug (or by name)."]}))
                continue
            slug = cells.get("slug") or services.slugify(cells.get("name", ""))
            item = by_slug.get(slug)
            if item is None:
                item = by_slug[slug] = Item([], {"slug": slug})
                items.append(item)
            item.rows.append(number)
            _merge_row(item, number, cells)
    except csv.Error as exc:
        raise BadRequest(f"The CSV file cannot be read: {exc}.", code="bad_file") from None
    return items


def _merge_row(item, number, cells):
    data = item.data
    for column in PRODUCT_COLUMNS:
        value = cells.get(column, "")
        if not value or column == "slug":
            continue
        if column == "images":
            value = [{"url": url} for url in value.replace("|", " ").split()]
        if column in data and data[column] != value:
            item.errors.setdefault(column, []).append(
                f"Row {number} differs from row {item.rows[0]}; leave it empty or repeat it.")
            continue
        data[column] = value
    variant = {column: cells[column] for column in VARIANT_COLUMNS if cells.get(column)}
    options = {key[len(OPTION_PREFIX):]: value for key, value in cells.items()
               if key.startswith(OPTION_PREFIX) and value}
    if options:
        variant["options"] = options
    if variant:
        data.setdefault("variants", []).append(variant)


# --- importing ----------------------------------------------------------------------------


def _message(exc):
    if isinstance(exc, ValidationError):
        return "Some fields are not valid.", _flat(exc.normalized_messages())
    return exc.message, dict(exc.fields)


def _flat(messages, prefix=""):
    flat = {}
    for key, value in (messages.items() if isinstance(messages, dict) else []):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, name + "."))
        else:
            flat[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return flat


def _row_of(item, errors):
    """The CSV row a variant's error is about, else the product's first row."""
    for field in errors:
        parts = field.split(".")
        if len(parts) > 1 and parts[0] == "variants" and parts[1].isdigit():
            index = int(parts[1])
            if len(item.rows) > index:
                return item.rows[index]
    return item.row


def _reason(message, errors):
    if not errors:
        return message
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())


def import_items(dbsession, items, currency, partial=False, hook=None, user_id=None):
    """Create or update the items' products; returns the report, or raises ImportRejected."""
    report = {"created": [], "updated": [], "rejected": []}
    categories = dict(dbsession.execute(sa.select(Category.slug, Category.id)).all())
    seen_slugs, seen_skus = {}, {}
    schema = ImportProduct()
    for item in items:
        try:
            if item.errors:
                raise ValidationError(item.errors)
            data = schema.load(item.data)
            _check_repeats(item, data, seen_slugs, seen_skus)
            with dbsession.begin_nested():
                action, product = _import_one(dbsession, data, categories, currency, hook,
                                              user_id)
            report[action].append({"row": item.row, "rows": item.rows, "slug": product.slug,
                                   "id": product.id})
        except (ValidationError, APIError) as exc:
            message, errors = _message(exc)
            report["rejected"].append({
                "row": _row_of(item, errors), "rows": item.rows,
                "slug": item.data.get("slug") if isinstance(item.data, dict) else None,
                "reason": _reason(message, errors), "errors": errors})
    report["counts"] = {key: len(report[key]) for key in ("created", "updated", "rejected")}
    report["applied"] = partial or not report["rejected"]
    if not report["applied"]:
        raise ImportRejected(report)
    return report


def _check_repeats(item, data, seen_slugs, seen_skus):
    if data["slug"] in seen_slugs:
        raise ValidationError({"slug": [
            f"The slug is also used by row {seen_slugs[data['slug']]}."]})
    seen_slugs[data["slug"]] = item.row
    for index, variant in enumerate(data.get("variants", [])):
        if variant["sku"] in seen_skus:
            raise ValidationError({f"variants.{index}.sku": [
                f"The SKU is also used by row {seen_skus[variant['sku']]}."]})
    for index, variant in enumerate(data.get("variants", [])):
        seen_skus[variant["sku"]] = item.rows[index] if len(item.rows) > index else item.row


def _import_one(dbsession, data, categories, currency, hook, user_id):
    fields = {key: data[key] for key in ("name", "description", "brand", "is_active", "images")
              if key in data}
    if data.get("category"):
        if data["category"] not in categories:
            raise ValidationError({"category": [f"There is no category {data['category']!r}."]})
        fields["category_id"] = categories[data["category"]]
    elif "category" in data:
        fields["category_id"] = None
    product = services.find_product(dbsession, data["slug"], include_inactive=True, load=False)
    variants = data.get("variants", [])
    if product is None:
        if "name" not in fields:
            raise ValidationError({"name": ["A new product needs a name."]})
        for index, variant in enumerate(variants):
            if "price" not in variant:
                raise ValidationError({f"variants.{index}.price": ["A new variant needs a price."]})
        fields["slug"] = data["slug"]
        fields["variants"] = variants
        product = services.create_product(dbsession, fields, currency, hook=hook, user_id=user_id)
        return "created", product
    services.update_product(dbsession, product, fields, hook=None)
    _import_variants(dbsession, product, variants, currency, user_id)
    services.notify(hook, dbsession, product, "updated")
    return "updated", product


def _import_variants(dbsession, product, variants, currency, user_id):
    if not variants:
        return
    skus = [v["sku"] for v in variants]
    existing = {v.sku: v for v in dbsession.scalars(
        sa.select(Variant).where(Variant.sku.in_(skus)))}
    for index, item in enumerate(variants):
        variant = existing.get(item["sku"])
        if variant is not None and variant.product_id != product.id:
            other = dbsession.get(Product, variant.product_id)
            raise ValidationError({f"variants.{index}.sku": [
                f"The SKU belongs to the product {other.slug!r}."]})
        changes = {k: v for k, v in item.items() if k not in ("sku", "stock")}
        try:
            if variant is None:
                if "price" not in item:
                    raise ValidationError({"price": ["A new variant needs a price."]})
                services.add_variant(dbsession, product, item, currency, user_id=user_id)
                continue
            if changes:
                services.update_variant(dbsession, variant, changes, currency)
            if "stock" in item:
                inventory.set_on_hand(dbsession, variant.id, item["stock"], "import",
                                      user_id=user_id, kind="import")
        except ValidationError as exc:
            raise ValidationError({f"variants.{index}.{k}": v
                                   for k, v in _flat(exc.normalized_messages()).items()}) from None
        except APIError as exc:
            exc.fields = {f"variants.{index}.{k}": v for k, v in exc.fields.items()} or {
                f"variants.{index}": [exc.message]}
            raise


def import_file(dbsession, content, fmt, currency, partial=False, hook=None, user_id=None):
    return import_items(dbsession, read(content, fmt), currency, partial=partial, hook=hook,
                        user_id=user_id)
