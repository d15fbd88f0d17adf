"""A browser-like client of the admin: it signs in through the form and posts with the
CSRF token of its session, as a person's browser does."""
import re

import pytest

PASSWORD = "correct horse battery"  # the password of the `staff` and `customer` fixtures


class Admin:
    def __init__(self, testapp):
        self.testapp = testapp

    def login(self, user, password=PASSWORD, status=303, next_url=None):
        page = self.testapp.get("/admin/login" + (f"?next={next_url}" if next_url else ""))
        form = page.forms[0]
        form["email"] = user.email
        form["password"] = password
        return self.checked(form.submit(status=status, expect_errors=status >= 400), status)

    def token(self):
        """The CSRF token of the session, as every form of the admin carries it."""
        page = self.testapp.get("/admin/login")
        if page.status_int == 303:  # signed in already: the sign-out form has it too
            page = self.testapp.get("/admin/logout")
        return page.html.find("input", {"name": "csrf_token"})["value"]

    def get(self, url, status=200, **params):
        return self.checked(self.testapp.get(url, params=params, status=status,
                                             expect_errors=status >= 400), status)

    def post(self, url, data=None, status=303, token=True, upload_files=None):
        data = dict(data or {})
        if token is True:
            data["csrf_token"] = self.token()
        elif token:
            data["csrf_token"] = token
        return self.checked(self.testapp.post(url, data, status=status,
                                              expect_errors=status >= 400,
                                              upload_files=upload_files), status)

    @staticmethod
    def checked(response, status):
        # WebTest leaves the status unchecked when errors are expected
        assert response.status_int == status, f"{response.status} (not {status})"
        return response

    def flashes(self, page):
        return [node.get_text(" ", strip=True) for node in page.html.select(".flash")]

    @staticmethod
    def form(page, action_end):
        """The POST form of ``page`` whose action ends with ``action_end`` (not the
        sign-out form every page has)."""
        return next(form for form in page.forms.values() if form.method.lower() == "post"
                    and (form.action or page.request.path).split("#")[0].endswith(action_end))

    def menu(self, url="/admin"):
        page = self.get(url)
        return [a.get_text(strip=True) for a in page.html.select("nav.menu a")]


@pytest.fixture
def admin(testapp):
    return Admin(testapp)


@pytest.fixture
def signed_in(admin, staff):
    """The admin client, signed in as a staff member."""
    admin.login(staff)
    admin.user = staff
    return admin


def text_of(page):
    return re.sub(r"\s+", " ", page.html.get_text(" ", strip=True))
