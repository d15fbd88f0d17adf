"""One measurement: wrk (a separate process) against one endpoint, with bench/load.lua
making the requests and checking the answers."""
import json
import os
import pathlib
import shutil
import subprocess

SCRIPT = pathlib.Path(__file__).with_name("load.lua")
WRK_THREADS = 2  # wrk's own threads (at most one per client); the machine's cores are few
WRK_TIMEOUT = 10  # seconds before wrk counts a request as timed out


def wrk_path():
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("bench: wrk is missing: apt-get install -y wrk (Debian's package)")
    return path


def wrk_version():
    result = subprocess.run([wrk_path(), "--version"], capture_output=True, text=True)
    # "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer": the first two words
    return " ".join((result.stdout or result.stderr).split()[:2])


def run_wrk(base_url, endpoint, clients, seconds, data_dir, result_path, variables):
    """Run wrk for ``seconds`` with ``clients`` connections; the summary (a dict)."""
    threads = min(clients, WRK_THREADS)
    env = {**os.environ, **{k: str(v) for k, v in variables.items()},
           "BENCH_ENDPOINT": endpoint, "BENCH_DATA": str(data_dir),
           "BENCH_THREADS": str(threads), "BENCH_RESULT": str(result_path)}
    result_path.unlink(missing_ok=True)
    command = [wrk_path(), "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s",
               "--timeout", f"{WRK_TIMEOUT}s", "-s", str(SCRIPT), base_url]
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          timeout=seconds + WRK_TIMEOUT + 60)
    if done.returncode != 0 or not result_path.exists():
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return summarize(json.loads(result_path.read_text()))


def summarize(raw):
    """wrk's counts as the report gives them: rps, latency in ms, errors of every kind."""
    seconds = raw["duration_us"] / 1e6
    expected = str(raw["expected_status"])
    unexpected = {status: n for status, n in raw["statuses"].items() if status != expected}
    socket_errors = sum(raw["socket_errors"].values())
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 3),
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "latency_ms": {key: round(value / 1000, 2) for key, value in raw["latency_us"].items()},
        "errors": socket_errors + sum(unexpected.values()) + raw["bad_body"],
        "socket_errors": raw["socket_errors"],
        "statuses": raw["statuses"],
        "unexpected_statuses": unexpected,
        "bad_body": raw["bad_body"],
        "empty_results": raw["empty_results"],
        "pool_exhausted": raw["exhausted"] > 0,
        "samples": raw["samples"][:3],
    }
