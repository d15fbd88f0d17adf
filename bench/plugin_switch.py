"""How long a plugin switch made in one process takes to reach a running server.

    .venv/bin/python bench/plugin_switch.py [--database-url URL] [--rounds 10]

Starts a waitress server on a fresh database (SQLite in a temporary folder by
default), then enables and disables the example plugin `announcements` with the
`emporium` command (another process) and measures, for each change, the time from
the command's exit to the server answering accordingly. Needs
`pip install -e examples/emporium-announcements`.
"""
import argparse
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
SERVE = ("import sys; from pyramid.paster import get_app; from waitress import serve; "
         "serve(get_app(sys.argv[1]), listen=sys.argv[2], threads=4)")


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except urllib.error.URLError:
        return None


def wait(url, expected, limit=30.0):
    start = time.monotonic()
    while status(url) != expected:
        if time.monotonic() - start > limit:
            raise SystemExit(f"{url} never answered {expected}")
        time.sleep(0.01)
    return time.monotonic() - start


def emporium(ini, *args):
    subprocess.run([sys.executable, "-m", "core.cli", "-c", ini, *args], cwd=ROOT, check=True,
                   capture_output=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--port", type=int, default=6590)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
        ini = pathlib.Path(folder) / "bench.ini"
        ini.write_text(f"[app:main]\nuse = egg:emporium\nsqlalchemy.url = {url}\n"
                       f"emporium.jwt_secret = {'b' * 40}\n"
                       "emporium.plugins.refresh_interval = 1\n")
        emporium(str(ini), "init")
        emporium(str(ini), "plugins", "install", "announcements")
        server = subprocess.Popen([sys.executable, "-c", SERVE, str(ini),
                                   f"127.0.0.1:{args.port}"], cwd=ROOT,
                                  stderr=subprocess.DEVNULL)
        target = f"http://127.0.0.1:{args.port}/api/v1/announcements"
        try:
            wait(target, 200)
            delays = []
            for _ in range(args.rounds):
                emporium(str(ini), "plugins", "disable", "announcements")
                delays.append(wait(target, 404))
                emporium(str(ini), "plugins", "enable", "announcements")
                delays.append(wait(target, 200))
        finally:
            server.terminate()
            server.wait()
    print(f"{len(delays)} switches: min {min(delays):.3f} s, median "
          f"{statistics.median(delays):.3f} s, max {max(delays):.3f} s")


if __name__ == "__main__":
    main()
