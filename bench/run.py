"""Emporium's load benchmark against a bare-Pyramid baseline, in one command.

    .venv/bin/python bench/run.py [--quick] [--database-url URL] [--out bench/results]
                                  [--reuse] [--processes 2] [--threads 8] [--drop]

1. Prepares a PostgreSQL database (dropped and created again; with ``--reuse`` a
   database seeded by an earlier run of the same mode is kept), migrates it and
   installs every built-in plugin through the kernel's lifecycle, as
   ``emporium init`` and ``emporium plugins install`` do, and sets up a shipping zone.
2. Seeds it with COPY: 100,000 products with 300,000 variants in a tree of 1,110
   categories, 1,000 customers with filled carts, and the buyers whose carts the
   orders take (``--quick``: 2,000 products, 6,000 variants, 50 customers).
3. Serves the baseline (bench/baseline.py), then Emporium, each with bench/server.py
   (waitress, production settings, ``--processes`` processes of ``--threads``
   threads), and drives each endpoint with wrk from a separate process
   (bench/load.lua) at 8 and 32 clients (place order also at 16), after a warm-up.
   For the plugin overhead, some lines run again right away with only catalog, cart
   and orders enabled (switched at run time, as a merchant would).
4. Writes ``<out>/<time>-<mode>.md`` (the table) and ``.json`` (the same with machine
   and settings), and prints the table, with the issue's targets as met or not met.

Exits with status 1 when the benchmark could not run or an answer was wrong (an
unexpected status, a quote with errors, a socket error), never because of a timing.
Needs wrk (``apt-get install -y wrk``), PostgreSQL and Redis (tasks are sent to it;
no worker runs, and the queued tasks are deleted at the end). See docs/performance.md.
"""
import argparse
import datetime as dt
import json
import os
import pathlib
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import sqlalchemy as sa

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import load, pools, report, seed, shop  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/emporium_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
CLIENTS = (8, 32)
ORDER_CLIENTS = 16  # the place-order target is at 16 clients
ENDPOINTS = ("list", "search", "detail", "cart_add", "quote", "order")
# what the plugin overhead is measured on (each also runs with every plugin)
OVERHEAD = (("list", 8), ("detail", 8), ("quote", 8), ("order", ORDER_CLIENTS))
SERVER = pathlib.Path(__file__).with_name("server.py")


class Server:
    """bench/server.py in its own process group, stopped with everything it forked."""

    def __init__(self, ini, app, processes, threads, log_path):
        self.log = open(log_path, "a")
        self.log.write(f"--- {app} ---\n")
        self.log.flush()
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), ini, "--app", app, "--processes", str(processes),
             "--threads", str(threads)], cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log,
            text=True, start_new_session=True)
        line = self._first_line(timeout=120)
        if not line.startswith("ready "):
            self.stop()
            raise SystemExit(f"bench: the {app} server did not start (see {log_path})")
        self.url = "http://" + line.split()[1]

    def _first_line(self, timeout):
        lines = []
        reader = threading.Thread(target=lambda: lines.append(self.process.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        return lines[0].strip() if lines else ""

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


class Bench:
    def __init__(self, args, work):
        self.args = args
        self.sizes = seed.QUICK if args.quick else seed.FULL
        self.warmup, self.duration = (args.warmup, args.duration)
        self.work = work
        self.data = work / "data"
        self.data.mkdir()
        self.log_path = work / "server.log"
        self.rng = random.Random(7)
        self.run_id = f"{int(time.time())}{random.randrange(1000):03d}"
        self.runs = []

    def note(self, text):
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    # --- setting up -------------------------------------------------------------------

    def prepare(self):
        args = self.args
        self.ini = shop.write_ini(self.work / "bench.ini", args.database_url, args.redis_url,
                                  self.work / "mail", args.threads)
        started = time.monotonic()
        needs_seed = shop.prepare_database(args.database_url, self.sizes, reuse=args.reuse)
        self.shop = shop.Shop(self.ini)
        self.shop.initialize()
        self.shop.use_plugins(shop.CORE_PLUGINS + shop.OPTIONAL_PLUGINS)
        self.shop.configure_shipping()
        self.timings = {"setup_s": round(time.monotonic() - started, 1)}
        engine = self.shop.engine
        if needs_seed:
            self.note(f"seeding {self.sizes.products:,} products, {self.sizes.variants:,} "
                      f"variants, {self.sizes.customers + self.sizes.buyers:,} users")
            started = time.monotonic()
            self.facts = seed.seed(engine, self.sizes)
        else:
            self.note("reusing the seeded database")
        # the quotes' carts: a quote writes nothing, so they are made once
        self.customers = pools.user_ids(engine, "customer")
        pools.fill_user_carts(engine, self.customers, self.rng, self.sizes.variants,
                              pools.CUSTOMER_LINES)
        if needs_seed:
            seed.vacuum_analyze(engine)
            shop.mark_seeded(args.database_url, self.sizes)
            self.timings["seed_s"] = round(time.monotonic() - started, 1)
        self.buyers = pools.user_ids(engine, "buyer")
        self.guests = pools.guest_tokens(self.sizes.guest_carts)
        self.write_data()

    def write_data(self):
        settings = self.shop.settings
        slugs = [row[3] for row in seed.category_tree(self.sizes.tree, None)[0]]
        _, children, grandchildren = self.sizes.tree
        # as many pages of each level of the tree: top, middle and leaf categories
        levels = [[s for s in slugs if s.count("-") == n] for n in (0, 1, 3)]
        weights = [children * grandchildren, grandchildren, 1]
        pools.write_lines(self.data / "categories.txt",
                          [s for level, w in zip(levels, weights) for s in level * w])
        singles = len(seed.SEARCH_PAIRS) // len(seed.SEARCH_WORDS)
        pools.write_lines(self.data / "words.txt",
                          seed.SEARCH_WORDS * singles + seed.SEARCH_PAIRS)
        pools.write_lines(self.data / "guests.txt", self.guests)
        pools.write_lines(self.data / "customers.txt",
                          pools.access_tokens(settings, self.customers))
        pools.write_lines(self.data / "buyers.txt", pools.access_tokens(settings, self.buyers))

    # --- measuring --------------------------------------------------------------------

    def settle(self, limit=60.0):
        """Wait until the server has finished the requests wrk left in flight when it
        stopped: none of its database sessions is busy for a few polls in a row.
        Otherwise they would eat into the next measurement, and an order still running
        would close a buyer's cart just after the refill found it open."""
        query = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
            "AND state <> 'idle'")
        deadline, quiet = time.monotonic() + limit, 0
        with self.shop.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as connection:
            while quiet < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
                busy = connection.execute(query).scalar()
                quiet = quiet + 1 if busy == 0 else 0
        if quiet < 3:
            self.note(f"the server was still busy {limit:.0f} s after wrk stopped")

    def refill(self, endpoint):
        engine, variants = self.shop.engine, self.sizes.variants
        if endpoint == "cart_add":
            pools.reset_guest_carts(engine, self.guests, self.rng, variants)
        elif endpoint == "order":
            pools.fill_user_carts(engine, self.buyers, self.rng, variants, pools.BUYER_LINES)

    def measure(self, server, endpoint, clients, config, plugins=()):
        body = shop.checkout_body(plugins, payment=endpoint == "order")
        (self.data / "body.json").write_text(json.dumps(body))
        variables = {"BENCH_PRODUCTS": self.sizes.products, "BENCH_VARIANTS": self.sizes.variants,
                     "BENCH_RUN": self.run_id}
        result_path = self.work / "wrk.json"
        if self.warmup:
            self.refill(endpoint)
            load.run_wrk(server.url, endpoint, clients, self.warmup, self.data, result_path,
                         {**variables, "BENCH_RUN": f"{self.run_id}w{len(self.runs)}"})
            self.settle()
        self.refill(endpoint)
        summary = load.run_wrk(server.url, endpoint, clients, self.duration, self.data,
                               result_path,
                               {**variables, "BENCH_RUN": f"{self.run_id}m{len(self.runs)}"})
        self.settle()
        run = {"endpoint": endpoint, "config": config, "clients": clients,
               "request": report.REQUESTS[endpoint], **summary}
        self.runs.append(run)
        lat = run["latency_ms"]
        self.note(f"{endpoint:9} {config:8} c={clients:<3} {run['rps']:8.1f} rps  p50 "
                  f"{lat['p50']:7.1f}  p99 {lat['p99']:7.1f} ms  errors {run['errors']}")
        return run

    def serve(self, app):
        return Server(self.ini, app, self.args.processes, self.args.threads, self.log_path)

    def switch(self, server, plugins, limit=60.0):
        """Enable exactly ``plugins`` through the lifecycle, as a merchant would, and
        wait until every server process follows: 20 answers of /healthz in a row, each
        on a new connection (so from any process), name that set."""
        wanted = sorted(self.shop.use_plugins(plugins))
        deadline, agreeing = time.monotonic() + limit, 0
        while agreeing < 20:
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: the server did not follow the plugin change to "
                                 f"{', '.join(wanted)} within {limit:.0f} s")
            with urllib.request.urlopen(server.url + "/healthz", timeout=10) as answer:
                enabled = json.load(answer)["plugins"]["enabled"]
            agreeing = agreeing + 1 if enabled == wanted else 0
            if enabled != wanted:
                time.sleep(0.2)

    def measure_all(self):
        every = shop.CORE_PLUGINS + shop.OPTIONAL_PLUGINS
        server = self.serve("baseline")
        try:
            for clients in sorted({*CLIENTS, ORDER_CLIENTS}):
                self.measure(server, "baseline", clients, "baseline")
        finally:
            server.stop()
        server = self.serve("emporium")
        try:
            for endpoint in self.args.endpoints:
                wanted = sorted({*CLIENTS, ORDER_CLIENTS}) if endpoint == "order" else CLIENTS
                for clients in wanted:
                    self.measure(server, endpoint, clients, "all", every)
                    if (endpoint, clients) in OVERHEAD:
                        # right after the same line with every plugin, on the same
                        # server: what the optional plugins cost, not what changed
                        # on the machine in between
                        self.switch(server, shop.CORE_PLUGINS)
                        self.measure(server, endpoint, clients, "core", shop.CORE_PLUGINS)
                        self.switch(server, every)
        finally:
            server.stop()

    # --- the report -----------------------------------------------------------------------

    def result(self, started_at, loadavg_start):
        with self.shop.engine.connect() as connection:
            pg_version = connection.exec_driver_sql("SHOW server_version").scalar()
        from importlib.metadata import version

        report.add_ratios(self.runs)
        overheads = report.overhead(self.runs, OVERHEAD)
        log_lines = self.log_path.read_text().splitlines() if self.log_path.exists() else []
        errors = [line for line in log_lines if " ERROR " in line or "Traceback" in line]
        settings = self.shop.settings
        return {
            "started_at": started_at,
            "mode": "quick" if self.args.quick else "full",
            "command": " ".join(sys.argv),
            "machine": {
                "cpus": os.cpu_count(), "cpu_model": cpu_model(),
                "platform": platform.platform(), "python": platform.python_version(),
                "postgresql": pg_version, "waitress": version("waitress"),
                "sqlalchemy": version("sqlalchemy"), "wrk": load.wrk_version(),
                "loadavg_start": loadavg_start, "loadavg_end": loadavg(),
            },
            "settings": {
                "processes": self.args.processes, "threads": self.args.threads,
                "pool_size": int(settings["sqlalchemy.pool_size"]),
                "max_overflow": int(settings["sqlalchemy.max_overflow"]),
                "warmup_s": self.warmup, "duration_s": self.duration,
                "wrk_threads": load.WRK_THREADS, "wrk_timeout_s": load.WRK_TIMEOUT,
                "logging": "WARN", "celery": "broker Redis, no worker",
                "mail_backend": settings["emporium.mail.backend"],
                "plugins_all": list(shop.CORE_PLUGINS + shop.OPTIONAL_PLUGINS),
                "plugins_core": list(shop.CORE_PLUGINS),
                "quote_body": shop.checkout_body(shop.OPTIONAL_PLUGINS),
                "order_body": shop.checkout_body(shop.OPTIONAL_PLUGINS, payment=True),
            },
            "seed": {**self.sizes.as_dict(), **getattr(self, "facts", {}),
                     "reused": not hasattr(self, "facts")},
            "timings": self.timings,
            "runs": self.runs,
            "overhead": overheads,
            "targets": report.targets(self.runs, overheads, ORDER_CLIENTS),
            "server_log_errors": len(errors),
            "server_log_head": log_lines[:40],
        }


def cpu_model():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg():
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def check_redis(url):
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=3).ping()
    except redis.RedisError as exc:
        raise SystemExit(f"bench: Redis at {url} does not answer ({exc}); the application "
                         "sends its tasks there (start redis-server, or --redis-url)") from None


def drop_queued_tasks(url):
    import redis

    # no worker ran: the e-mails the orders asked for wait in Celery's default queue
    redis.Redis.from_url(url, socket_timeout=3).delete("celery")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a small shop and a few seconds per endpoint (what CI runs)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE,
                        help="the PostgreSQL database to create (dropped first) "
                             f"(default {DEFAULT_DATABASE})")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database if an earlier run of this mode seeded it")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS,
                        help=f"the Celery broker (default {DEFAULT_REDIS})")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"),
                        help="where the .md and .json results go")
    parser.add_argument("--processes", type=int, default=2, help="waitress processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS),
                        help="comma-separated, of " + ", ".join(ENDPOINTS) + " (default all; "
                             "the baseline always runs)")
    parser.add_argument("--warmup", type=float, help="seconds (default 5, quick 1)")
    parser.add_argument("--duration", type=float, help="seconds (default 15, quick 2)")
    args = parser.parse_args(argv)
    args.endpoints = [name.strip() for name in args.endpoints.split(",") if name.strip()]
    unknown = sorted(set(args.endpoints) - set(ENDPOINTS))
    if unknown or not args.endpoints:
        parser.error(f"--endpoints: unknown {', '.join(unknown) or '(none given)'}; "
                     f"choose from {', '.join(ENDPOINTS)}")
    # in the table's order, whatever order they were given in
    args.endpoints = [name for name in ENDPOINTS if name in args.endpoints]
    if args.warmup is None:
        args.warmup = 1 if args.quick else 5
    if args.duration is None:
        args.duration = 2 if args.quick else 15
    args.warmup, args.duration = int(args.warmup), max(1, int(args.duration))
    return args


def main(argv=None):
    args = parse_args(argv)
    # the ini written here says everything: no EMPORIUM_* variable may override it
    for name in [n for n in os.environ if n.startswith("EMPORIUM_")]:
        del os.environ[name]
    load.wrk_path()
    check_redis(args.redis_url)
    started_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    stem = dt.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "-full")
    loadavg_start = loadavg()
    with tempfile.TemporaryDirectory(prefix="emporium-bench-") as folder:
        bench = Bench(args, pathlib.Path(folder))
        try:
            bench.prepare()
            bench.measure_all()
            result = bench.result(started_at, loadavg_start)
        finally:
            drop_queued_tasks(args.redis_url)
            if hasattr(bench, "shop"):
                bench.shop.close()
            if args.drop:
                shop.drop_database(args.database_url)
        text = report.write(result, pathlib.Path(args.out), stem)
    print()
    print(text)
    print(f"Written: {pathlib.Path(args.out) / stem}.md and .json")
    failed = [run for run in result["runs"] if run["errors"] or run["pool_exhausted"]]
    if failed:
        print(f"bench: {len(failed)} measurement(s) had errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
