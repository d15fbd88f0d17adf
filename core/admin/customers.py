"""What the customers pages and the dashboard ask of ``core_user``: a filtered page of
accounts, and the counts of the dashboard's Accounts widget.

Only reads: deactivating and activating go through ``core.accounts.services.set_active``,
as ``emporium users deactivate|activate`` does.
"""
import dataclasses

import sqlalchemy as sa

from core.security import STAFF, User

MAX_SEARCH = 254
SORTS = (("newest", "Newest first"), ("oldest", "Oldest first"), ("email", "E-mail"))
STATUSES = (("active", "Active"), ("inactive", "Deactivated"))
ROLES = (("customer", "Customers"), ("staff", "Staff"))
ORDER_BY = {"newest": (User.created_at.desc(), User.id.desc()),
            "oldest": (User.created_at, User.id),
            "email": (User.email,)}


def is_staff():
    # roles is a JSON list; its text form names the role on every database
    return sa.cast(User.roles, sa.Text).like(f'%"{STAFF}"%')


@dataclasses.dataclass(frozen=True)
class Filters:
    """A customers list's filters; a value that is not one of the choices is ignored."""

    q: str = ""  # part of the e-mail or the name
    status: str = ""  # "active", "inactive" or "" (both)
    role: str = ""  # "customer" (not staff), "staff" or "" (both)
    sort: str = "newest"

    @classmethod
    def of(cls, params):
        def choice(name, choices, default=""):
            value = params.get(name, default)
            return value if value in dict(choices) else default

        q = params.get("q", "")
        return cls(q=q.strip()[:MAX_SEARCH] if isinstance(q, str) else "",
                   status=choice("status", STATUSES), role=choice("role", ROLES),
                   sort=choice("sort", SORTS, "newest"))

    def conditions(self):
        found = []
        if self.q:
            q = self.q.lower()
            found.append(sa.or_(User.email.contains(q, autoescape=True),
                                sa.func.lower(User.name).contains(q, autoescape=True)))
        if self.status:
            found.append(User.is_active.is_(self.status == "active"))
        if self.role:
            found.append(is_staff() if self.role == "staff" else sa.not_(is_staff()))
        return found


def find_accounts(dbsession, filters, page, per_page):
    """``(users, total)``: one page of the accounts matching ``filters``, in its order."""
    conditions = filters.conditions()
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(User).where(*conditions))
    users = dbsession.scalars(sa.select(User).where(*conditions)
                              .order_by(*ORDER_BY[filters.sort])
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return users, total


def account_counts(dbsession, now):
    """Customers (accounts without the staff role), those new today and this month (UTC),
    deactivated accounts, and staff."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = today.replace(day=1)
    customer = sa.not_(is_staff())
    row = dbsession.execute(sa.select(
        sa.func.count().filter(customer),
        sa.func.count().filter(customer, User.created_at >= today),
        sa.func.count().filter(customer, User.created_at >= month),
        sa.func.count().filter(User.is_active.is_(False)),
        sa.func.count().filter(is_staff()),
    ).select_from(User)).one()
    return dict(zip(("customers", "today", "month", "inactive", "staff"), row))
