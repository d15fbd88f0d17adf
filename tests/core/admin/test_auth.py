"""Signing in and out of the admin; who gets in; CSRF on every POST; the session cookie."""
from core.accounts import ratelimit
from core.accounts.services import set_active, set_password
from core.security import CUSTOMER

from .conftest import PASSWORD, text_of


def test_a_guest_is_sent_to_the_login_page_and_back_after_signing_in(admin, staff):
    response = admin.get("/admin/plugins?q=al", status=303)
    assert response.location == "http://shop.test/admin/login?next=%2Fadmin%2Fplugins%3Fq%3Dal"
    page = response.follow()
    assert page.html.find("input", {"name": "next"})["value"] == "/admin/plugins?q=al"
    form = page.forms[0]
    form["email"], form["password"] = staff.email.upper(), PASSWORD
    signed_in = form.submit(status=303)
    assert signed_in.location == "http://shop.test/admin/plugins?q=al"
    page = signed_in.follow()
    assert admin.flashes(page) == [f"Signed in as {staff.email}."]
    assert page.html.select_one(".signout .who").get_text() == staff.email


def test_every_admin_page_needs_a_signed_in_staff_member(admin):
    for url in ("/admin", "/admin/plugins", "/admin/plugins/alpha", "/admin/plugins/alpha/install",
                "/admin/logout"):
        assert admin.get(url, status=303).location.startswith("http://shop.test/admin/login")


def test_the_login_page_and_the_stylesheet_are_public(admin):
    page = admin.get("/admin/login")
    assert page.forms[0].action == "/admin/login"
    css = admin.get("/admin/static/admin.css")
    assert css.content_type == "text/css" and "@media" in css.text


def test_wrong_password_and_unknown_email_get_the_same_answer(admin, staff):
    wrong = admin.login(staff, password="not the password", status=400)
    unknown = admin.login(type("U", (), {"email": "nobody@example.com"}), status=400)
    for page in (wrong, unknown):
        assert admin.flashes(page) == ["The e-mail address or the password is not correct."]
    assert wrong.html.find("input", {"name": "email"})["value"] == staff.email
    admin.get("/admin", status=303)  # still signed out


def test_empty_form_is_refused_in_words(admin):
    page = admin.post("/admin/login", {"email": "", "password": ""}, status=400)
    assert admin.flashes(page) == ["Enter your e-mail address and your password."]


def test_a_customer_gets_403_and_no_session(admin, customer):
    page = admin.login(customer, status=403)
    assert "has no access to the admin" in text_of(page)
    admin.get("/admin", status=303)


def test_a_deactivated_staff_member_cannot_sign_in(admin, staff, dbsession):
    set_active(dbsession, staff, False)
    page = admin.login(staff, status=403)
    assert admin.flashes(page) == ["This account is deactivated."]


def test_losing_the_staff_role_turns_the_session_into_403(signed_in, staff, dbsession):
    signed_in.get("/admin")
    staff.roles = [CUSTOMER]
    dbsession.flush()
    page = signed_in.get("/admin/plugins", status=403)
    assert "not allowed to use this page" in text_of(page)


def test_deactivation_or_a_new_password_ends_the_session(signed_in, staff, dbsession):
    set_password(dbsession, staff, "a completely new password")
    assert signed_in.get("/admin", status=303).location.startswith(
        "http://shop.test/admin/login")
    signed_in.login(staff, password="a completely new password")
    signed_in.get("/admin")
    set_active(dbsession, staff, False)
    signed_in.get("/admin", status=303)


def test_failed_sign_ins_are_rate_limited_like_the_api(admin, staff):
    # the last form is fetched first: the block lasts 2 seconds from the last failure,
    # which leaves no time to spare on a busy machine
    last = admin.get("/admin/login").forms[0]
    last["email"], last["password"] = staff.email, PASSWORD  # even the right password
    for _ in range(ratelimit.ACCOUNT.free + 1):
        admin.login(staff, password="not the password", status=400)
    page = admin.checked(last.submit(status=429, expect_errors=True), 429)
    seconds = page.headers["Retry-After"]
    assert seconds in ("1", "2")
    assert admin.flashes(page) == [f"Too many failed sign-ins; try again in {seconds} seconds."]


def test_logout_ends_the_session(signed_in):
    page = signed_in.get("/admin/logout")
    assert page.forms[0].method.lower() == "post"
    response = signed_in.post("/admin/logout")
    assert response.location == "http://shop.test/admin/login"
    assert signed_in.flashes(response.follow()) == ["You are signed out."]
    signed_in.get("/admin", status=303)


def test_a_post_without_or_with_a_wrong_csrf_token_is_403(signed_in, admin, staff):
    for token in (None, "forged-token"):
        page = signed_in.post("/admin/plugins/alpha/install", token=token, status=403)
        assert "The form has expired" in text_of(page)
        page = signed_in.post("/admin/logout", token=token, status=403)
    signed_in.get("/admin")  # the refused logout did not sign out
    assert signed_in.get("/admin/plugins/alpha").html.select_one(".badge").text == "available"
    # the login form too: a token from the header works as well as the form field
    signed_in.post("/admin/logout")
    admin.post("/admin/login", {"email": staff.email, "password": PASSWORD}, token=None,
               status=403)
    admin.testapp.post("/admin/login", {"email": staff.email, "password": PASSWORD},
                       headers={"X-CSRF-Token": admin.token()}, status=303)


def test_over_https_a_post_must_come_from_this_site(signed_in):
    token = signed_in.token()
    https = {"wsgi.url_scheme": "https"}
    signed_in.testapp.post("/admin/logout", {"csrf_token": token}, extra_environ=https,
                           headers={"Referer": "https://evil.example/page"}, status=403)
    signed_in.testapp.post("/admin/logout", {"csrf_token": token}, extra_environ=https,
                           headers={"Origin": "https://shop.test"}, status=303)


def test_the_session_cookie_is_http_only_lax_and_kept_to_admin(admin, staff):
    response = admin.login(staff)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("emporium_admin=")
    assert "Path=/admin" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "secure" not in cookie.lower()  # plain HTTP here; see the next test
    admin.testapp.reset()
    https = admin.testapp.get("/admin/login", extra_environ={"wsgi.url_scheme": "https"})
    assert "; secure" in https.headers["Set-Cookie"].lower()


def test_the_session_does_not_sign_in_to_the_json_api(signed_in):
    # the cookie's path keeps it off the API; sent by hand, the API ignores it anyway
    cookie = signed_in.testapp.cookies["emporium_admin"]
    response = signed_in.testapp.get("/api/v1/admin/plugins", status=401,
                                     headers={"Cookie": f"emporium_admin={cookie}"})
    assert response.json["error"]["code"] == "unauthorized"


def test_next_never_leaves_the_admin(admin, staff):
    for evil in ("https://evil.example/", "//evil.example/admin", "/api/v1/users/me",
                 "/admin\\@evil.example"):
        response = admin.login(staff, next_url=evil)
        assert response.location == "http://shop.test/admin", evil
        admin.post("/admin/logout")


def test_signed_in_login_page_goes_to_the_dashboard(signed_in):
    assert signed_in.get("/admin/login", status=303).location == "http://shop.test/admin"
    assert signed_in.get("/admin/", status=303).location == "http://shop.test/admin"


def test_the_user_logged_in_hook_hears_of_admin_sign_ins(admin, staff, registry):
    from core.plugins import hookimpl

    class Probe:
        seen = []

        @hookimpl
        def user_logged_in(self, user, request):
            self.seen.append((user.id, request.path))

    probe = Probe()
    registry["plugins"].pm.register(probe, name="probe")
    try:
        admin.login(staff)
    finally:
        registry["plugins"].pm.unregister(probe)
    assert probe.seen == [(staff.id, "/admin/login")]


def test_passwords_are_never_echoed(admin, staff):
    page = admin.login(staff, password="not the password", status=400)
    assert "not the password" not in page.text
    assert page.html.find("input", {"name": "password"})["value"] == ""
