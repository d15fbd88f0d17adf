"""The benchmark's quick mode, end to end: ``bench/run.py --quick`` seeds a small shop,
serves the baseline and Emporium under waitress, drives every endpoint with wrk and
writes its report. What is checked is that every endpoint answered correctly under
load (no unexpected status, no quote with errors, no socket error) and that the
report holds every measurement; timings are never asserted (docs/performance.md).

PostgreSQL only (the benchmark's database). Needs wrk, which ``.ci/run`` installs: a
missing wrk fails the test, unless ``EMPORIUM_SKIP_BENCH=1`` outside CI.
"""
import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from tests.core.test_cli import ROOT, subprocess_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("EMPORIUM_TEST_DATABASE_URL"),
                       reason="needs PostgreSQL (EMPORIUM_TEST_DATABASE_URL): the benchmark "
                              "runs on it"),
]


def wrk_or_skip():
    if shutil.which("wrk"):
        return
    problem = "wrk is missing: apt-get install wrk (.ci/run does it)"
    if os.environ.get("EMPORIUM_SKIP_BENCH") == "1" and not os.environ.get("CI"):
        pytest.skip(problem)
    pytest.fail(problem)


def test_quick_benchmark_runs_every_endpoint_without_errors(tmp_path):
    wrk_or_skip()
    server = sa.engine.make_url(os.environ["EMPORIUM_TEST_DATABASE_URL"])
    database = server.set(database=f"emporium_bench_{uuid.uuid4().hex[:12]}")
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--drop", "--out", str(tmp_path),
         "--database-url", database.render_as_string(hide_password=False)],
        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    [report] = tmp_path.glob("*-quick.json")
    data = json.loads(report.read_text())
    measured = {(run["endpoint"], run["config"], run["clients"]) for run in data["runs"]}
    for clients in (8, 16, 32):
        assert ("baseline", "baseline", clients) in measured
    for endpoint in ("list", "search", "detail", "cart_add", "quote", "order"):
        assert {(endpoint, "all", 8), (endpoint, "all", 32)} <= measured
    assert ("order", "all", 16) in measured
    for endpoint, clients in (("list", 8), ("detail", 8), ("quote", 8), ("order", 16)):
        assert (endpoint, "core", clients) in measured
    for run in data["runs"]:
        assert run["requests"] > 0, run
        assert run["errors"] == 0, run
        assert set(run["statuses"]) == {str(201 if run["endpoint"] in ("cart_add", "order")
                                            else 200)}, run
    assert data["server_log_errors"] == 0, data["server_log_head"]
    # reported, never asserted: each target is there with its measure
    assert len(data["targets"]) == 12
    assert all(isinstance(check["met"], bool) for check in data["targets"])
    table = report.with_suffix(".md").read_text()
    assert "| endpoint | plugins | clients | rps | p50 ms | p95 ms | p99 ms | errors |" in table
    # the benchmark cleans up after itself
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                      {"n": database.database}).scalar() is None
    finally:
        admin.dispose()
