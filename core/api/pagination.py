"""Pagination for every list: ``?page=&per_page=``, answered with where the next page is."""
import sqlalchemy as sa
from marshmallow import Schema, fields, validate

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


class PageQuery(Schema):
    """Query parameters of any paginated list; subclass it to add filters."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE)
    )


class PageSchema(Schema):
    """The envelope of a page; a list's response schema subclasses it with ``items``."""

    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    next = fields.String(allow_none=True, metadata={"description": "URL of the next page"})
    previous = fields.String(allow_none=True)


def page_of(request, items, total, page, per_page):
    """Build the page envelope: items, total, page, per_page, pages, next, previous."""
    pages = max(1, -(-total // per_page))

    def link(number):
        params = dict(request.GET)
        params.update(page=str(number), per_page=str(per_page))
        return request.current_route_url(_query=params) if request.matched_route else None

    return {
        "items": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": pages,
        "next": link(page + 1) if page < pages else None,
        "previous": link(page - 1) if 1 < page <= pages else None,
    }


def paginate_query(dbsession, statement, page, per_page):
    """Run a SELECT for one page; returns (rows, total)."""
    total = dbsession.execute(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    rows = dbsession.execute(statement.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return rows, total
