"""What every admin page needs around a service call: refusals, form values, pages of lists."""
import dataclasses

from marshmallow import ValidationError

from core.api.errors import APIError, field_messages

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 100_000


@dataclasses.dataclass
class Refusal:
    """Why a service said no: its message in words, per-field messages, the HTTP status."""

    message: str
    fields: dict
    status: int
    error: Exception = None  # what the service raised (an import's report is on it)

    def field(self, name):
        return " ".join(self.fields.get(name, ()))


def attempt(request, action):
    """``(result, None)``, or ``(None, Refusal)`` when ``action()`` refused.

    The action runs in a savepoint: a refusal undoes whatever it wrote (an import
    rejected half-way, a failed migration step) while the page can still read the
    database to show the form again.
    """
    try:
        with request.dbsession.begin_nested():
            return action(), None
    except ValidationError as exc:
        return None, Refusal("Some fields are not valid; see the messages below.",
                             field_messages(exc.messages), 400, exc)
    except APIError as exc:
        return None, Refusal(exc.message, dict(exc.fields), exc.status, exc)


def text(post, name):
    value = post.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def integer(value):
    """An int from a form value; the string itself when it is not one, so that the
    schema refuses it with its own message."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def checked(post, name):
    return post.get(name) in ("1", "on", "true", "yes")


def lines(value):
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def pairs(value):
    """``Name=Value`` lines as a dict (``Size=M``); a line without ``=`` is an error."""
    found, bad = {}, []
    for line in lines(value):
        name, sep, val = line.partition("=")
        if not sep or not name.strip() or not val.strip():
            bad.append(line)
        else:
            found[name.strip()] = val.strip()
    return found, bad


def _number(value, default, low, high):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


@dataclasses.dataclass
class Pager:
    """One page of a list, and the links to the others (keeping the list's filters)."""

    request: object
    total: int
    page: int
    per_page: int

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self):
        return (self.page - 1) * self.per_page

    def url(self, page):
        query = dict(self.request.GET)
        query["page"] = str(page)
        return self.request.current_route_path(_query=query)

    @property
    def previous(self):
        return self.url(self.page - 1) if self.page > 1 else None

    @property
    def next(self):
        return self.url(self.page + 1) if self.page < self.pages else None


def pager(request, total, per_page=None):
    """The Pager of ``?page=`` and ``?per_page=``; values out of range are brought in range."""
    per_page = per_page or _number(request.GET.get("per_page"), DEFAULT_PER_PAGE, 1,
                                   MAX_PER_PAGE)
    page = _number(request.GET.get("page"), 1, 1, MAX_PAGE)
    return Pager(request, total, page, per_page)


def page_number(request):
    return _number(request.GET.get("page"), 1, 1, MAX_PAGE)


def per_page(request):
    return _number(request.GET.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)


def input_errors(fields, strip=(), collapse=()):
    """Per-field messages keyed by the form's input names.

    ``strip``: prefixes to remove (``"variants.0."`` when a form shows one variant's
    inputs by their plain names); ``collapse``: names whose nested messages belong to
    the one input of that name (``"images"`` for ``images.2.url``).
    """
    found = {}
    for key, messages in (fields or {}).items():
        for prefix in strip:
            if key.startswith(prefix):
                key = key[len(prefix):]
        for name in collapse:
            if key.startswith(name + "."):
                key = name
        found.setdefault(key, []).extend(messages)
    return found
