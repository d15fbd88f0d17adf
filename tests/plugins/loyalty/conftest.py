"""Fixtures of the loyalty tests: the orders tests' storefront buyers and order desk, the
loyalty plugin installed for the test, and helpers that read balances and the ledger."""
import pytest
import sqlalchemy as sa

# the orders tests' fixtures, so that loyalty tests shop the way a storefront does
from tests.plugins.orders.conftest import (  # noqa: F401
    ADDRESS, API, Buyer, Desk, assert_error, blue, buyer, desk, error_codes, mail_dir,
    make_buyer, mug, orders_settings, probe, red, stock)

RULES = {"points_per_unit": "1", "point_value": "0.01", "min_redeem_points": "0",
         "max_redeem_percent": 100, "expiry_months": 12}


class Loyalty:
    """The plugin as staff and a test see it."""

    def __init__(self, testapp, staff, dbsession):
        self.testapp = testapp
        self.staff = staff
        self.dbsession = dbsession

    def settings(self, **values):
        return self.testapp.put_json(f"{API}/admin/plugins/loyalty/settings", values,
                                     headers=self.staff.headers)

    def adjust(self, user, points, reason="goodwill", status=201):
        return self.testapp.post_json(
            f"{API}/admin/loyalty/accounts/{user.id}/adjustments",
            {"points": points, "reason": reason}, headers=self.staff.headers, status=status)

    def me(self, user, status=200, **params):
        return self.testapp.get(f"{API}/loyalty/me", params=params, headers=user.headers,
                                status=status)

    def balance(self, user):
        from plugins.loyalty.models import Account

        self.dbsession.expire_all()
        return self.dbsession.scalar(sa.select(Account.balance)
                                     .where(Account.user_id == user.id)) or 0

    def ledger(self, user):
        """``[(kind, points)]`` oldest first."""
        from plugins.loyalty.models import Entry

        self.dbsession.expire_all()
        return [tuple(row) for row in self.dbsession.execute(
            sa.select(Entry.kind, Entry.points).where(Entry.user_id == user.id)
            .order_by(Entry.id))]

    def assert_consistent(self, user):
        """The balance is the sum of the ledger, and each row's balance_after adds up."""
        from plugins.loyalty.models import Entry

        self.dbsession.expire_all()
        running = 0
        for entry in self.dbsession.scalars(sa.select(Entry).where(Entry.user_id == user.id)
                                            .order_by(Entry.id)):
            running += entry.points
            assert entry.balance_after == running >= 0
        assert self.balance(user) == running


@pytest.fixture
def loyalty(install_plugin, testapp, staff, dbsession):
    """The loyalty plugin installed and enabled for this test, with RULES."""
    install_plugin("loyalty", settings=RULES)
    return Loyalty(testapp, staff, dbsession)


@pytest.fixture
def task_ctx(registry, db_connection, loyalty):
    """A task's context (its own transaction inside the test's), made after the plugin
    is installed so that its enabled plugins include loyalty."""
    import transaction

    from core.db import get_tm_session
    from core.tasks import TaskContext

    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    dbsession = get_tm_session(registry["dbsession_factory"], manager)
    yield TaskContext(registry, dbsession, manager, registry["plugins"].current(), None)
    manager.abort()
