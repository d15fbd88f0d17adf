"""A plugin switched in one process takes effect in another, running one, within 2 seconds."""
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.core.test_cli import ROOT, subprocess_env, write_ini

pytestmark = pytest.mark.slow

SERVE = "import sys; from pyramid.paster import get_app; from waitress import serve; " \
        "serve(get_app(sys.argv[1]), listen=sys.argv[2], threads=4)"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except urllib.error.URLError:  # not listening yet
        return None, None


def emporium(ini, *args):
    result = subprocess.run([sys.executable, "-m", "core.cli", "-c", ini, *args], cwd=ROOT,
                            env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def wait_for(url, expected, limit):
    """Seconds until ``url`` answers ``expected``; fails after ``limit`` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if status_of(url)[0] == expected:
            return time.monotonic() - start
        time.sleep(0.05)
    pytest.fail(f"{url} did not answer {expected} within {limit} s")


@pytest.fixture
def server(make_database, tmp_path):
    port = free_port()
    ini = write_ini(tmp_path / "shared.ini", make_database(), refresh_interval="1", port=port)
    emporium(ini, "init")
    process = subprocess.Popen([sys.executable, "-c", SERVE, ini, f"127.0.0.1:{port}"],
                               cwd=ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", 200, limit=30)
        yield ini, base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_enable_and_disable_reach_a_running_server_within_two_seconds(server):
    ini, base = server
    url = base + "/api/v1/alpha/items"
    assert status_of(url)[0] == 404
    emporium(ini, "plugins", "install", "alpha")  # another process
    assert wait_for(url, 200, limit=2.0) < 2.0
    assert status_of(url)[1]["items"][0]["name"] == "seeded, hello"
    emporium(ini, "plugins", "disable", "alpha")
    assert wait_for(url, 404, limit=2.0) < 2.0
    emporium(ini, "plugins", "enable", "alpha")
    emporium(ini, "plugins", "settings", "alpha", "greeting=bonjour")
    wait_for(url, 200, limit=2.0)
    deadline = time.monotonic() + 2.0
    while status_of(url)[1].get("greeting") != "bonjour":
        assert time.monotonic() < deadline, "settings change did not arrive within 2 s"
        time.sleep(0.05)
