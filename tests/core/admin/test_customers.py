"""The customers pages: the list (search, filters, sorting, pages), an account's page with
its addresses and plugins' sections, deactivating and activating; who may use them."""
import datetime as dt

import pytest

from core.accounts.services import add_address, set_active
from core.plugins import hookimpl
from core.security import CUSTOMER

from .conftest import Admin, text_of


def emails(page):
    return [a.get_text() for a in page.html.select("table.customers tbody td:first-child a")]


def facts(page):
    return {dt_.get_text(): dt_.find_next("dd").get_text(" ", strip=True)
            for dt_ in page.html.select("section.account dt")}


@pytest.fixture
def people(make_user, dbsession):
    """Three customers with distinct names, joined a day apart (the oldest first), and a
    deactivated one."""
    now = dt.datetime.now(dt.timezone.utc)
    made = {}
    for days, key, name in ((3, "ada", "Ada Lovelace"), (2, "grace", "Grace Hopper"),
                            (1, "alan", "Alan Turing")):
        user = make_user(email=f"{key}-{id(made)}@example.com", name=name)
        user.created_at = now - dt.timedelta(days=days)
        made[key] = user
    made["gone"] = make_user(email=f"gone-{id(made)}@example.com", name="Gone Away")
    set_active(dbsession, made["gone"], False)
    dbsession.flush()
    return made


def test_the_list_searches_by_email_and_name_filters_and_sorts(signed_in, people, staff):
    page = signed_in.get("/admin/customers")
    assert people["ada"].email in emails(page) and staff.email in emails(page)
    assert "Customers" in signed_in.menu()

    def found(**params):
        return emails(signed_in.testapp.get("/admin/customers", params=params))

    tag = people["ada"].email.split("-")[1].split("@")[0]  # in these accounts' e-mails only
    assert found(q="ADA-") == [people["ada"].email]
    assert found(q="hopper") == [people["grace"].email]  # by name, any case
    counted = signed_in.testapp.get("/admin/customers", params={"q": "hopper"})
    assert counted.html.select_one("nav.pagination span").get_text() == "1 account"
    assert found(q="%") == [] and found(q="_") == []  # LIKE's wildcards are plain characters
    assert found(q=tag, sort="oldest") == [people[k].email for k in ("ada", "grace", "alan",
                                                                     "gone")]
    assert found(q=tag) == [people[k].email for k in ("gone", "alan", "grace", "ada")]
    assert found(q=tag, sort="email") == sorted(people[k].email for k in people)
    assert found(q=tag, status="inactive") == [people["gone"].email]
    assert people["gone"].email not in found(q=tag, status="active")
    assert found(q=staff.email, role="customer") == []
    assert found(q=staff.email, role="staff") == [staff.email]
    # values that are not choices are ignored, not errors
    assert found(q=tag, status="lost", role="root", sort="drop table") == found(q=tag)

    page = signed_in.get("/admin/customers", q="gone-")
    row = [td.get_text(" ", strip=True) for td in page.html.select("tbody tr")[0].find_all("td")]
    assert row[1:5] == ["Gone Away", "customer", "no", "deactivated"]


def test_the_list_is_paginated(signed_in, people):
    tag = people["ada"].email.split("-")[1].split("@")[0]
    first = signed_in.get("/admin/customers", q=tag, per_page="3")
    assert len(emails(first)) == 3
    assert "4 accounts, page 1 of 2" in text_of(first)
    following = first.html.select_one("a[rel=next]")["href"]
    second = signed_in.get(following)
    assert emails(second) == [people["ada"].email]  # the filters kept, the oldest last
    assert second.html.select_one("a[rel=prev]") is not None
    assert emails(signed_in.get("/admin/customers", q=tag, per_page="3", page="99")) == []
    assert len(emails(signed_in.get("/admin/customers", q=tag, page="x", per_page="-1"))) == 1


def test_an_account_page_shows_the_account_and_its_addresses(signed_in, people, dbsession):
    ada = people["ada"]
    add_address(dbsession, ada.id, {"name": "Ada Lovelace", "line1": "12 St James's Square",
                                    "city": "London", "postal_code": "SW1Y 4JH",
                                    "country": "GB"})
    add_address(dbsession, ada.id, {"name": "Ada at work", "line1": "1 Analytical Row",
                                    "city": "Manchester", "country": "GB"})
    ada.email_verified_at = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone.utc)
    dbsession.flush()
    page = signed_in.get(f"/admin/customers/{ada.id}")
    assert page.html.select_one("h1").get_text(" ", strip=True) == "Ada Lovelace active"
    shown = facts(page)
    assert shown["E-mail"] == ada.email and shown["Name"] == "Ada Lovelace"
    assert shown["Verified"] == "yes, 2024-05-01 09:30 UTC"
    assert shown["Roles"] == "customer" and shown["Active"] == "yes"
    assert shown["Joined"] == ada.created_at.strftime("%Y-%m-%d %H:%M") + " UTC"
    addresses = [a.get_text(" ", strip=True)
                 for a in page.html.select("section.addresses address")]
    assert addresses[0].startswith("Default Ada Lovelace 12 St James's Square SW1Y 4JH London")
    assert addresses[1].startswith("Ada at work 1 Analytical Row")
    assert page.html.find("a", string="Deactivate")["href"] == \
        f"/admin/customers/{ada.id}/deactivate"

    bare = signed_in.get(f"/admin/customers/{people['alan'].id}")
    assert "No address saved." in text_of(bare) and facts(bare)["Verified"] == "no"
    signed_in.get("/admin/customers/999999999", status=404)
    signed_in.get("/admin/customers/9999999999", status=404)  # beyond a 32-bit id
    signed_in.get("/admin/customers/12345678901", status=404)  # not a route at all


def test_deactivating_asks_first_then_signs_the_account_out(signed_in, people, testapp,
                                                           dbsession):
    grace = people["grace"]
    url = f"/admin/customers/{grace.id}/deactivate"
    plan = signed_in.get(url)
    assert "cannot sign in" in text_of(plan)
    assert testapp.get("/api/v1/users/me", headers=grace.headers).json["email"] == grace.email
    page = Admin.form(plan, url).submit(status=303).follow()
    assert signed_in.flashes(page) == [f"Account {grace.email} deactivated: it can no longer "
                                       "sign in."]
    assert facts(page)["Active"] == "no: deactivated, cannot sign in"
    dbsession.refresh(grace)
    assert grace.is_active is False
    # what `emporium users deactivate` does: the API's sign-in is refused too
    refused = testapp.post_json("/api/v1/auth/login", {"email": grace.email,
                                                      "password": "correct horse battery"},
                                status=403)
    assert refused.json["error"]["code"] == "account_inactive"

    again = signed_in.post(url).follow()
    assert signed_in.flashes(again) == [f"Nothing to do: {grace.email} is already "
                                        "deactivated."]
    assert "Nothing to do" in text_of(signed_in.get(url))

    page = signed_in.post(f"/admin/customers/{grace.id}/activate").follow()
    assert signed_in.flashes(page) == [f"Account {grace.email} activated: it can sign in "
                                       "again."]
    dbsession.refresh(grace)
    assert grace.is_active is True
    testapp.post_json("/api/v1/auth/login", {"email": grace.email,
                                             "password": "correct horse battery"})


def test_no_one_deactivates_their_own_account(signed_in, staff, dbsession):
    page = signed_in.get(f"/admin/customers/{staff.id}")
    assert page.html.find("a", string="Deactivate") is None
    assert "This is your own account" in text_of(page)
    plan = signed_in.get(f"/admin/customers/{staff.id}/deactivate")
    assert "You cannot deactivate your own account" in text_of(plan)
    assert not [f for f in plan.forms.values() if "deactivate" in (f.action or "")]
    page = signed_in.post(f"/admin/customers/{staff.id}/deactivate").follow()
    assert signed_in.flashes(page)[0].startswith("You cannot deactivate your own account")
    dbsession.refresh(staff)
    assert staff.is_active is True
    signed_in.get("/admin")  # still signed in


def test_another_staff_member_can_be_deactivated_and_loses_the_admin(signed_in, make_user,
                                                                    testapp):
    colleague = make_user(staff=True)
    other = Admin(testapp.__class__(testapp.app, extra_environ=testapp.extra_environ))
    other.login(colleague)
    other.get("/admin")
    signed_in.post(f"/admin/customers/{colleague.id}/deactivate")
    assert other.get("/admin", status=303).location.startswith("http://shop.test/admin/login")


URLS = ["/admin/customers", "/admin/customers/{id}", "/admin/customers/{id}/deactivate"]


@pytest.mark.parametrize("url", URLS)
def test_guests_are_sent_to_sign_in_and_customers_get_403(admin, staff, customer, dbsession,
                                                          url):
    url = url.format(id=customer.id)
    assert admin.get(url, status=303).location.startswith("http://shop.test/admin/login")
    admin.login(customer, status=403)
    admin.get(url, status=303)
    # a signed-in member of staff who is a customer only by now
    admin.login(staff)
    staff.roles = [CUSTOMER]
    dbsession.flush()
    page = admin.get(url, status=403)
    assert "not allowed to use this page" in text_of(page)
    admin.post(f"/admin/customers/{customer.id}/deactivate", status=403)
    dbsession.refresh(customer)
    assert customer.is_active is True


@pytest.mark.parametrize("action", ["deactivate", "activate"])
def test_a_post_without_a_valid_csrf_token_is_403(signed_in, customer, dbsession, action):
    set_active(dbsession, customer, action == "activate")
    for token in (None, "forged"):
        page = signed_in.post(f"/admin/customers/{customer.id}/{action}", token=token,
                              status=403)
        assert "The form has expired" in text_of(page)
    dbsession.refresh(customer)
    assert customer.is_active is (action == "activate")


def test_a_guest_post_is_refused(admin, customer, dbsession):
    admin.post(f"/admin/customers/{customer.id}/deactivate", token=None, status=403)
    admin.post(f"/admin/customers/{customer.id}/deactivate", status=303)  # to the login
    dbsession.refresh(customer)
    assert customer.is_active is True


class Section:
    """Hooks registered for one test: a section, one without a title, one that needs a
    permission."""

    @hookimpl
    def admin_customer_sections(self, request, user):
        return [{"title": f"Probe of {user.email}", "order": 5,
                 "figures": [{"label": "Id", "value": str(user.id), "url": None}],
                 "template": "core.admin:templates/logout.jinja2"},
                {"order": 1}, {"title": "Hidden", "permission": "probe.secret"}]


def test_plugins_add_sections_through_the_hook(signed_in, register_hooks, customer, staff,
                                               dbsession):
    register_hooks(Section())
    page = signed_in.get(f"/admin/customers/{customer.id}")
    titles = [h.get_text() for h in page.html.select(".widget h2")]
    assert f"Probe of {customer.email}" in titles
    assert "Hidden" in titles  # staff hold every permission
    section = page.html.select(".widget")[titles.index(f"Probe of {customer.email}")]
    assert section.find("dd").get_text(strip=True) == str(customer.id)
    assert section.find("button", string="Sign out") is not None  # its template


def test_the_dashboard_counts_customers_new_today_and_this_month(signed_in, people, make_user):
    make_user()  # today
    page = signed_in.get("/admin")
    widget = next(w for w in page.html.select(".widget") if w.find("h2").get_text() ==
                  "Accounts")
    figures = {dt_.get_text(): dt_.find_next("dd") for dt_ in widget.select("dt")}
    assert set(figures) == {"Customers", "New today (UTC)", "New this month", "Deactivated",
                            "Staff"}
    assert int(figures["New today (UTC)"].get_text()) >= 2  # the one above and "gone"
    assert int(figures["New this month"].get_text()) >= int(
        figures["New today (UTC)"].get_text())
    assert int(figures["Deactivated"].get_text()) >= 1
    assert figures["Staff"].find("a")["href"] == "/admin/customers?role=staff"
    listed = signed_in.get(figures["Deactivated"].find("a")["href"])
    assert people["gone"].email in emails(listed) and people["ada"].email not in emails(listed)
