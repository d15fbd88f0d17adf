"""The admin in a real headless Chromium, against a real waitress server on a fresh database.

A merchant signs in, enables the orders plugin and sees its menu entry appear,
edits a product and a price, marks an order paid and ships it, then finds the
customer who placed it and sees the order on their page; screenshots
of each step are saved (``EMPORIUM_SCREENSHOT_DIR`` copies them elsewhere, as for
docs/images). Debian's chromium is used (``.ci/run`` installs it): a missing
browser fails the test, unless ``EMPORIUM_SKIP_BROWSER=1`` outside CI.
"""
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid

import pytest

from tests.conftest import JWT_SECRET
from tests.core.test_cli import ROOT, subprocess_env
from tests.core.test_cross_process import SERVE, free_port, wait_for

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
STAFF_EMAIL, PASSWORD = "merchant@example.com", "correct horse battery"
CUSTOMER_EMAIL = "ada@example.com"


def chromium_or_skip():
    """Playwright's sync API; a missing browser fails, except where skipping is allowed."""
    problem = None
    if not os.path.exists(CHROMIUM):
        problem = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "playwright is not installed: pip install -e '.[test]'"
        sync_playwright = None
    if problem is None:
        return sync_playwright
    if os.environ.get("EMPORIUM_SKIP_BROWSER") == "1" and not os.environ.get("CI"):
        pytest.skip(problem)
    pytest.fail(problem)


def emporium(ini, *args, env=None):
    result = subprocess.run([sys.executable, "-m", "core.cli", "-c", ini, *args], cwd=ROOT,
                            env={**subprocess_env(), **(env or {})}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def api(base, method, path, body=None, token=None, headers=None):
    request = urllib.request.Request(
        base + "/api/v1" + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {}),
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture
def shop(make_database, tmp_path):
    """A waitress server on a fresh database with the demo catalog, a staff member and
    one order waiting for payment; the orders plugin is then disabled."""
    port = free_port()
    ini = tmp_path / "shop.ini"
    ini.write_text(f"""
[app:main]
use = egg:emporium
sqlalchemy.url = {make_database()}
emporium.jwt_secret = {JWT_SECRET}
emporium.admin.session_secret = browser-test-session-secret-0123456789abcdef
emporium.plugins.refresh_interval = 1
emporium.mail.backend = file
emporium.mail_dir = {tmp_path / "mail"}
celery.task_always_eager = true
celery.broker_url = memory://
""")
    ini = str(ini)
    emporium(ini, "init", "--demo")
    emporium(ini, "create-user", "--email", STAFF_EMAIL, "--name", "Mia Merchant", "--staff",
             env={"EMPORIUM_NEW_USER_PASSWORD": PASSWORD})
    process = subprocess.Popen([sys.executable, "-c", SERVE, ini, f"127.0.0.1:{port}"],
                               cwd=ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", 200, limit=30)
        api(base, "POST", "/auth/register", {"email": CUSTOMER_EMAIL, "password": PASSWORD,
                                             "name": "Ada"})
        token = api(base, "POST", "/auth/login", {"email": CUSTOMER_EMAIL,
                                                  "password": PASSWORD})["access_token"]
        product = api(base, "GET", "/products?per_page=1&sort=name&in_stock=true")["items"][0]
        api(base, "POST", "/cart/items", {"variant_id": product["variants"][0]["id"],
                                          "quantity": 1}, token=token)
        order = api(base, "POST", "/orders", {"shipping_address": {
            "name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
            "postal_code": "SW1Y 4JH", "country": "GB"}}, token=token,
            headers={"Idempotency-Key": uuid.uuid4().hex})
        # with the plugins that build on orders, if any are enabled
        emporium(ini, "plugins", "disable", "orders", "--cascade")
        wait_for(base + "/api/v1/checkout/payment-methods", 404, limit=5)
        yield base, order["number"]
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def screenshots(tmp_path):
    folder = tmp_path / "screenshots"
    folder.mkdir()
    yield folder
    target = os.environ.get("EMPORIUM_SCREENSHOT_DIR")
    if target:
        os.makedirs(target, exist_ok=True)
        for path in folder.iterdir():
            shutil.copy(path, os.path.join(target, path.name))


def menu(page):
    return page.locator("nav.menu a").all_inner_texts()


def flash(page):
    return page.locator(".flash").all_inner_texts()


def test_a_merchant_runs_the_shop_from_the_browser(shop, screenshots):
    sync_playwright = chromium_or_skip()
    base, number = shop
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(15_000)

            # signing in, from a page that needs it
            page.goto(base + "/admin/plugins")
            assert page.url.startswith(base + "/admin/login")
            page.fill("input[name=email]", STAFF_EMAIL)
            page.fill("input[name=password]", PASSWORD)
            page.screenshot(path=screenshots / "admin-login.png")
            page.click("button:has-text('Sign in')")
            page.wait_for_url(base + "/admin/plugins")
            assert flash(page) == [f"Signed in as {STAFF_EMAIL}."]
            assert "Orders" not in menu(page) and "Products" in menu(page)

            # enabling a plugin: the plan first, then its menu entry appears
            page.click("#plugin-orders a:has-text('Enable')")
            assert page.locator("ol.steps > li strong").all_inner_texts() == ["Enable orders"]
            page.screenshot(path=screenshots / "admin-plugin-plan.png", full_page=True)
            page.click("button:has-text('Confirm: enable')")
            page.wait_for_url(base + "/admin/plugins/orders")
            assert flash(page) == ["Done: enable orders."]
            assert "Orders" in menu(page)
            page.screenshot(path=screenshots / "admin-plugin.png", full_page=True)

            # editing a product and the price of one of its variants
            page.click("nav.menu a:has-text('Products')")
            page.fill("input[name=q]", "tee")
            page.click("button:has-text('Search')")
            page.click("tbody tr:first-child td:first-child a")
            page.fill("input[name=name]", "Organic Crew Tee, relaxed fit")
            page.click("button:has-text('Save the product')")
            assert flash(page) == ["Product “Organic Crew Tee, relaxed fit” saved."]
            product_url = page.url
            page.click("section.card tbody tr:first-child a:has-text('Edit')")
            sku = page.input_value("input[name=sku]")
            page.fill("input[name=price]", "21.50")
            page.click("button:has-text('Save the variant')")
            assert flash(page) == [f"Variant {sku} saved."]
            assert page.url == product_url
            assert "21.50 EUR" in page.locator("section.card tbody").inner_text()
            page.screenshot(path=screenshots / "admin-product.png", full_page=True)
            slug = product_url.rsplit("/", 1)[-1]
            shown = api(base, "GET", f"/products/{slug}")
            assert shown["name"] == "Organic Crew Tee, relaxed fit"
            assert "21.50" in [v["price"] for v in shown["variants"]]

            # the order: mark it paid, then ship it
            page.click("nav.menu a:has-text('Orders')")
            page.click(f"a:has-text('{number}')")
            page.click("button:has-text('Mark paid')")
            assert flash(page) == [f"Order {number} is marked paid."]
            page.fill("input[name=carrier]", "Royal Mail")
            page.fill("input[name=tracking_number]", "RM123456785GB")
            page.click("button:has-text('Ship')")
            assert flash(page) == [f"Order {number} is shipped."]
            assert page.locator("h1 .badge").inner_text() == "shipped"
            assert "with Royal Mail, tracking RM123456785GB" in page.content()
            page.screenshot(path=screenshots / "admin-order.png", full_page=True)

            # the customer who placed it: found by name, with the order on their page
            page.click("nav.menu a:has-text('Customers')")
            page.fill("input[name=q]", "ada")
            page.click("button:has-text('Search')")
            assert page.locator("table.customers tbody td:first-child").all_inner_texts() == [
                CUSTOMER_EMAIL]
            page.screenshot(path=screenshots / "admin-customers.png", full_page=True)
            page.click(f"a:has-text('{CUSTOMER_EMAIL}')")
            assert number in page.locator("section.widget:has(h2:text-is('Orders'))").inner_text()
            page.screenshot(path=screenshots / "admin-customer.png", full_page=True)

            # the dashboard, and the same admin on a phone
            page.click("nav.menu a:has-text('Dashboard')")
            page.screenshot(path=screenshots / "admin-dashboard.png", full_page=True)
            phone = browser.new_context(viewport={"width": 390, "height": 844},
                                        device_scale_factor=2, is_mobile=True,
                                        storage_state=page.context.storage_state())
            small = phone.new_page()
            small.goto(base + "/admin")
            assert "Orders" in small.locator("nav.menu a").all_inner_texts()
            width = small.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "the dashboard scrolls sideways on a phone"
            small.screenshot(path=screenshots / "admin-phone.png", full_page=True)
        finally:
            browser.close()
    assert len(list(screenshots.iterdir())) == 9
