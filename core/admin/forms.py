"""What every admin page needs around a service call: refusals, form values, pages of
lists, and the answers to a form (a redirect with a message, or the form again)."""
import dataclasses
import datetime as dt

from marshmallow import ValidationError
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther

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

    def in_words(self):
        """The refusal as one sentence, for a message on the next page: bad input (400)
        by its fields' messages, a broken rule by its message and then the fields'."""
        details = " ".join(" ".join(messages) for messages in self.fields.values())
        if self.status == 400:
            return details or self.message
        return f"{self.message} {details}".strip()


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


def done(request, message, route_name, _kind="success", **params):
    """A form that worked: ``message`` shown on the page of ``route_name``, reached by a
    redirect so that reloading it does not post the form again. ``_kind="info"`` when
    there was nothing to do."""
    request.admin.flash(message, _kind)
    return HTTPSeeOther(request.route_url(route_name, **params))


def refused(request, refusal):
    """A form shown again after a refusal: the page answers with the refusal's status;
    returns the message to show above the form."""
    request.response.status = refusal.status
    return refusal.message


def not_done(request, refusal, route_name, **params):
    """A button that was refused (there is no form to show again): the ``Refusal`` in
    words, or the message given, on the page of ``route_name``."""
    message = refusal if isinstance(refusal, str) else refusal.in_words()
    request.admin.flash(message, "error")
    return HTTPSeeOther(request.route_url(route_name, **params))


def found_or_404(found):
    """``found``, or the admin's "nothing here" page when a lookup found nothing."""
    if found is None:
        raise HTTPNotFound()
    return found


def load_filters(request, load):
    """``(load(), {})``, or ``(None, per-field messages)`` with status 400 when ``load``
    refused: a list page's filters, loaded with the REST API's query schema, refused
    with its messages."""
    try:
        return load(), {}
    except ValidationError as exc:
        request.response.status = 400
        return None, field_messages(exc.messages)


def utc_day(value, field, end=False):
    """A date input (YYYY-MM-DD) as the ISO string of that day's start in UTC (of the next
    day's start with ``end``: the whole day given), as query and body schemas take it."""
    try:
        day = dt.date.fromisoformat(value) + dt.timedelta(days=1 if end else 0)
    except (ValueError, OverflowError):
        raise ValidationError({field: ["Enter a date as YYYY-MM-DD."]}) from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc).isoformat()


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
