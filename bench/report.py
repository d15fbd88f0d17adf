"""The benchmark's results: ratios to the baseline, the plugin overhead, the issue's
targets (reported as met or not, never asserted), a Markdown table and JSON."""
import json

# (endpoint, what the table calls it)
LABELS = {
    "baseline": "baseline: bare Pyramid, one SELECT by id",
    "list": "filtered, sorted product list",
    "search": "keyword search",
    "detail": "product detail",
    "cart_add": "add to cart",
    "quote": "quote",
    "order": "place order (manual payment)",
}
REQUESTS = {
    "baseline": "GET /baseline/products/{id}",
    "list": "GET /api/v1/products?category=&min_price=&max_price=&sort=price&per_page=24",
    "search": "GET /api/v1/products?q=&per_page=24",
    "detail": "GET /api/v1/products/{id}",
    "cart_add": "POST /api/v1/cart/items",
    "quote": "POST /api/v1/checkout/quote",
    "order": "POST /api/v1/orders",
}
READS, CHECKOUT = ("list", "detail"), ("quote", "order")


def find(runs, endpoint, clients, config="all"):
    for run in runs:
        if (run["endpoint"], run["clients"], run["config"]) == (endpoint, clients, config):
            return run
    return None


def add_ratios(runs):
    """Each run's rps as a ratio of the baseline's at the same number of clients."""
    for run in runs:
        base = find(runs, "baseline", run["clients"], "baseline")
        run["ratio_to_baseline"] = (round(run["rps"] / base["rps"], 3)
                                    if base and base["rps"] else None)


def overhead(runs, pairs):
    """How much slower each (endpoint, clients) is with every optional plugin enabled
    than with only catalog, cart and orders: 1 - rps(all) / rps(core)."""
    rows = []
    for endpoint, clients in pairs:
        every, core = find(runs, endpoint, clients, "all"), find(runs, endpoint, clients, "core")
        if every and core and core["rps"]:
            rows.append({"endpoint": endpoint, "clients": clients, "rps_all": every["rps"],
                         "rps_core": core["rps"],
                         "overhead": round(1 - every["rps"] / core["rps"], 3)})
    return rows


def _pct(value):
    return "n/a" if value is None else f"{value * 100:.0f}%"


def targets(runs, overheads, order_clients):
    """The issue's targets, each with what was measured and whether it was met."""
    checks = []

    def ratio_check(endpoint, minimum):
        for clients in sorted({r["clients"] for r in runs if r["endpoint"] == endpoint
                               and r["config"] == "all"}):
            run = find(runs, endpoint, clients)
            ratio = run["ratio_to_baseline"]
            checks.append({
                "target": f"{LABELS[endpoint]} at {clients} clients >= {minimum:.0%} of the "
                          "baseline's rps",
                "measured": _pct(ratio),
                "met": ratio is not None and ratio >= minimum})

    ratio_check("detail", 0.70)
    ratio_check("list", 0.50)
    ratio_check("search", 0.50)
    order = find(runs, "order", order_clients)
    if order:
        checks.append({
            "target": f"place order at {order_clients} clients >= 150 orders/s with p99 "
                      "< 150 ms",
            "measured": f"{order['rps']:.0f}/s, p99 {order['latency_ms']['p99']:.0f} ms",
            "met": order["rps"] >= 150 and order["latency_ms"]["p99"] < 150})
    for row in overheads:
        limit = 0.10 if row["endpoint"] in READS else 0.20
        checks.append({
            "target": f"every optional plugin costs {LABELS[row['endpoint']]} at "
                      f"{row['clients']} clients <= {limit:.0%}",
            "measured": _pct(row["overhead"]),
            "met": row["overhead"] <= limit})
    errors = sum(run["errors"] for run in runs)
    checks.append({"target": "zero errors", "measured": f"{errors} errors",
                   "met": errors == 0})
    return checks


def _ms(value):
    return f"{value:.1f}"


def markdown(result):
    lines = [f"# Emporium benchmark, {result['mode']} mode, {result['started_at']}", ""]
    machine, settings = result["machine"], result["settings"]
    lines += [
        f"{machine['cpus']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
        f"PostgreSQL {machine['postgresql']}, {machine['wrk']}; load average "
        f"{machine['loadavg_start']} at the start, {machine['loadavg_end']} at the end.",
        f"waitress: {settings['processes']} processes x {settings['threads']} threads; pool "
        f"{settings['pool_size']}+{settings['max_overflow']}; wrk {settings['warmup_s']} s "
        f"warm-up + {settings['duration_s']} s per line. Shop: {result['seed']['products']:,} "
        f"products, {result['seed']['variants']:,} variants, {result['seed']['customers']:,} "
        "customers.",
        "",
        "| endpoint | plugins | clients | rps | p50 ms | p95 ms | p99 ms | errors | x baseline |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    # the overhead's runs with only catalog, cart and orders last
    for run in sorted(result["runs"], key=lambda run: run["config"] == "core"):
        ratio = run["ratio_to_baseline"]
        lat = run["latency_ms"]
        lines.append(
            f"| {LABELS[run['endpoint']]} | {run['config']} | {run['clients']} | "
            f"{run['rps']:.0f} | {_ms(lat['p50'])} | {_ms(lat['p95'])} | {_ms(lat['p99'])} | "
            f"{run['errors']} | {'' if ratio is None else f'{ratio:.2f}'} |")
    found_nothing = [f"{LABELS[run['endpoint']]} at {run['clients']}: "
                     f"{run['empty_results'] / run['requests']:.0%}"
                     for run in result["runs"] if run["endpoint"] in ("list", "search")
                     and run["config"] == "all" and run["requests"]]
    if found_nothing:
        lines += ["", "Answers that found no product (random filters and words): "
                      + "; ".join(found_nothing) + "."]
    if result["overhead"]:
        lines += ["", "Plugin overhead (every optional plugin vs catalog, cart and orders "
                      "only):", "",
                  "| endpoint | clients | rps, all plugins | rps, core only | overhead |",
                  "|---|---:|---:|---:|---:|"]
        for row in result["overhead"]:
            lines.append(f"| {LABELS[row['endpoint']]} | {row['clients']} | "
                         f"{row['rps_all']:.0f} | {row['rps_core']:.0f} | "
                         f"{_pct(row['overhead'])} |")
    lines += ["", "Targets (reported, not asserted):", ""]
    for check in result["targets"]:
        lines.append(f"- {'met' if check['met'] else 'NOT MET'}: {check['target']} "
                     f"(measured: {check['measured']})")
    problems = [run for run in result["runs"] if run["errors"] or run["pool_exhausted"]]
    if problems:
        lines += ["", "Errors:", ""]
        for run in problems:
            lines.append(
                f"- {LABELS[run['endpoint']]} ({run['config']}, {run['clients']} clients): "
                f"statuses {run['statuses']}, socket errors {run['socket_errors']}, "
                f"bad bodies {run['bad_body']}"
                f"{', ran out of carts' if run['pool_exhausted'] else ''}; first answers: "
                f"{'; '.join(run['samples'])[:600]}")
    if result.get("server_log_errors"):
        lines += ["", f"Server log: {result['server_log_errors']} ERROR lines (see the JSON)."]
    return "\n".join(lines) + "\n"


def write(result, out_dir, stem):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    text = markdown(result)
    (out_dir / f"{stem}.md").write_text(text)
    return text
