"""Checkout load proof: gunicorn + the load client vs the raw-SQL baseline, direct and through
PgBouncer, with throughput, p50/p95/p99, error rate, peak DB connections and worker memory.

    .venv/bin/python -m bench.load.run --cashiers 50 --checkouts 10000 --via direct pgbouncer

With ``--lean``, each Django run is followed by the same run against the lean reference view
(``bench.load.lean``: the same middleware, session and rate limit, the baseline's writes as plain
statements), and the summary gives checkout ÷ lean view.

Runs on the embedded PostgreSQL (database ``bench_load``; BENCH_DATABASE_URL overrides). Prints a
JSON summary and a Markdown table (for docs/performance.md); ``--out FILE`` saves the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import psycopg

from bench.load import baseline, client
from bench.load.database import PASSWORD, ROOT, app_env, bench_url, libpq_kwargs, prepare
from bodegapos.settings.database import PREPARE_THRESHOLD


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConnectionSampler(threading.Thread):
    """Peak server connections to the benchmark database (pg_stat_activity, direct)."""

    def __init__(self, kwargs: dict) -> None:
        super().__init__(daemon=True)
        self.kwargs, self.peak, self.stop = kwargs, 0, threading.Event()

    def run(self) -> None:
        with psycopg.connect(**self.kwargs, autocommit=True) as conn:
            while not self.stop.is_set():
                n = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [self.kwargs["dbname"]],
                ).fetchone()[0]
                self.peak = max(self.peak, n)
                time.sleep(0.1)


class CpuSampler(threading.Thread):
    """CPU seconds (user + system) of gunicorn's workers over time, to cost the measured window."""

    def __init__(self, master: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.master, self.samples, self.stop = master, [], threading.Event()

    def total(self) -> tuple[float, float]:
        user = system = 0.0
        for child in self.master.children():
            try:
                times = child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            user, system = user + times.user, system + times.system
        return user, system

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.time(), self.total()))
            time.sleep(0.1)

    def between(self, start: float, end: float) -> tuple[float, float]:
        """(user, system) CPU seconds spent between two wall-clock times."""
        inside = [cpu for t, cpu in self.samples if start <= t <= end]
        if len(inside) < 2:
            return float("nan"), float("nan")
        return inside[-1][0] - inside[0][0], inside[-1][1] - inside[0][1]


def machine_share(before, after) -> dict:
    """How busy the whole machine was during a run, and how much of it the hypervisor took (steal):
    latencies from two sessions' machines compare only where these do."""
    spent = {field: getattr(after, field) - getattr(before, field) for field in after._fields}
    total = sum(spent.values()) or 1.0
    return {
        "machine_busy_pct": round(100 * (1 - (spent["idle"] + spent.get("iowait", 0)) / total), 1),
        "machine_steal_pct": round(100 * spent.get("steal", 0) / total, 2),
    }


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def cashiers_of(kwargs: dict, n: int) -> list[dict]:
    with psycopg.connect(**kwargs) as conn:
        rows = conn.execute(
            """
            SELECT u.username, u.id, s.id, s.company_id, r.id
            FROM auth_user u JOIN stores_membership m ON m.user_id = u.id
            JOIN stores_store s ON s.id = m.store_id JOIN stores_register r ON r.store_id = s.id AND r.code = 'CAJA1'
            WHERE u.username LIKE 'cajero%%' ORDER BY s.code LIMIT %s
            """,
            [n],
        ).fetchall()
        result = []
        for username, user_id, store_id, company_id, register_id in rows:
            codes = [
                r[0]
                for r in conn.execute(
                    "SELECT p.barcode FROM sales_storeproduct sp JOIN sales_product p ON p.id = sp.product_id "
                    "WHERE sp.store_id = %s AND sp.is_active AND NOT p.is_plastic_bag AND p.barcode <> '' "
                    "AND p.unit_code = 'NIU' AND sp.stock > 100 ORDER BY p.id",
                    [store_id],
                ).fetchall()
            ]
            result.append(
                {
                    "username": username,
                    "user_id": user_id,
                    "store_id": store_id,
                    "company_id": company_id,
                    "register_id": register_id,
                    "barcodes": codes,
                }
            )
    if len(result) < n:
        raise SystemExit(f"only {len(result)} cashiers in the bench database; seed more stores")
    return result


def summarize(name: str, parts: list[dict], peak: int, extra: dict | None = None) -> dict:
    latencies = [x for p in parts for x in p["latencies"]]
    statuses = [x for p in parts for x in p["statuses"]]
    wall = max(p["wall"] for p in parts)
    ok = sum(1 for s in statuses if s in (200, 201))
    return {
        "run": name,
        "requests": len(statuses),
        "ok": ok,
        "errors": len(statuses) - ok,
        "error_rate": (len(statuses) - ok) / len(statuses) if statuses else 1.0,
        "status_counts": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "throughput_per_s": round(ok / wall, 1) if wall else 0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "peak_db_connections": peak,
        "login_errors": [e for p in parts for e in p.get("login_errors", [])][:3],
        "client_cpu_ms_per_request": round(sum(p.get("cpu", 0) for p in parts) * 1000 / len(statuses), 2)
        if statuses
        else None,
        **(extra or {}),
    }


def split(items: list, parts: int) -> list[list]:
    return [items[i::parts] for i in range(parts) if items[i::parts]]


def run_http(
    *,
    name: str,
    app_url: str,
    db_kwargs: dict,
    cashiers: list[dict],
    total: int,
    procs: int,
    web_workers: int,
    threads: int,
    think: float = 0.0,
    preconnect: bool = False,
    server_env: dict[str, str] | None = None,
    path: str = "/api/v1/checkout",
) -> dict:
    port = free_port()
    # GUNICORN_MAX_REQUESTS=0: no worker recycling, so the RSS read after the run is that of
    # processes that served every request of it.
    env = app_env(
        app_url,
        WEB_CONCURRENCY=str(web_workers),
        GUNICORN_THREADS=str(threads),
        PORT=str(port),
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        GUNICORN_MAX_REQUESTS="0",
        **(server_env or {}),
    )
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-gunicorn-{name}.log", "w")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "bodegapos.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"gunicorn did not start; see {log.name}") from None
                time.sleep(0.2)
        master = psutil.Process(server.pid)
        while len(master.children()) < web_workers:  # the socket listens before workers boot
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn workers did not boot; see {log.name}")
            time.sleep(0.1)
        before = sorted(c.pid for c in master.children())
        per_cashier = max(1, total // len(cashiers))
        sampler, cpu = ConnectionSampler(db_kwargs), CpuSampler(master)
        sampler.start()
        cpu.start()
        chunks = split([(c["username"], c["barcodes"]) for c in cashiers], procs)
        machine_before = psutil.cpu_times()
        with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
            parts = pool.starmap(
                client.process_run,
                [
                    (base, chunk, PASSWORD, per_cashier, 1000 * i, think, preconnect, path)
                    for i, chunk in enumerate(chunks)
                ],
            )
        machine = psutil.cpu_times()
        for thread in (sampler, cpu):
            thread.stop.set()
            thread.join()
        workers = master.children()
        rss = [round(c.memory_info().rss / 2**20, 1) for c in workers]
        # How the load spread over the workers: each one's CPU seconds since it booted.
        worker_cpu = [round(sum(c.cpu_times()[:2]), 1) for c in workers]
        # The measured window only (logins, with their password hashing, and warm-up sales happen
        # before the clients' common start).
        start = min(p["started_at"] for p in parts)
        measured = sum(len(p["statuses"]) for p in parts)
        web_user, web_system = cpu.between(start, start + max(p["wall"] for p in parts))
        return summarize(
            name,
            parts,
            sampler.peak,
            {
                "web_worker_rss_mb": rss,
                "web_worker_cpu_s": worker_cpu,
                "web_workers_replaced": sorted(c.pid for c in workers) != before,
                "web_workers": web_workers,
                "threads": threads,
                "think_s": think,
                "preconnect": preconnect,
                "server_env": server_env or {},
                "path": path,
                "load_average": os.getloadavg(),
                "web_cpu_ms_per_request": round((web_user + web_system) * 1000 / measured, 2) if measured else None,
                "web_system_cpu_ms_per_request": round(web_system * 1000 / measured, 2) if measured else None,
                **machine_share(machine_before, machine),
            },
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def run_baseline(
    *,
    name: str,
    conninfo: str,
    db_kwargs: dict,
    cashiers: list[dict],
    total: int,
    procs: int,
    pool_total: int,
    prepare_threshold: int | None,
) -> dict:
    per_cashier = max(1, total // len(cashiers))
    sampler = ConnectionSampler(db_kwargs)
    sampler.start()
    chunks = split(cashiers, procs)
    pool_each = max(1, pool_total // len(chunks))
    with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
        parts = pool.starmap(
            baseline.process_run,
            [(conninfo, pool_each, chunk, per_cashier, 1000 * i, prepare_threshold) for i, chunk in enumerate(chunks)],
        )
    sampler.stop.set()
    sampler.join()
    return summarize(name, parts, sampler.peak, {"pool_connections": pool_each * len(chunks)})


def conninfo_of(kwargs: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in kwargs.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cashiers", type=int, default=50)
    parser.add_argument("--checkouts", type=int, default=10000, help="total measured checkouts per run")
    parser.add_argument("--via", nargs="+", choices=["direct", "pgbouncer"], default=["direct"])
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--client-procs", type=int, default=5)
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="pause between one cashier's checkouts (0 = back to back: throughput mode)",
    )
    parser.add_argument(
        "--preconnect",
        action="store_true",
        help="clients open their next connection at once and leave it idle until the next sale (as browsers do)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment for gunicorn (e.g. GUNICORN_KEEPALIVE=5); repeatable",
    )
    parser.add_argument(
        "--lean",
        action="store_true",
        help="after each Django run, the same run against the lean reference view (bench.load.lean)",
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-prepare", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    url = bench_url()
    if not args.skip_prepare:
        prepare(url=url, stores=args.cashiers, products=20)
    kwargs = libpq_kwargs(url)
    cashiers = cashiers_of(kwargs, args.cashiers)
    pool_size = args.threads
    results = []
    bouncer = None
    try:
        for via in args.via:
            if via == "direct":
                app_url = f"{url}{'&' if '?' in url else '?'}connection_limit={pool_size}&pool_timeout=10"
                conninfo = conninfo_of(kwargs)
            else:
                sys.path.insert(0, str(ROOT))
                from tests.pgbouncer.plugin import pgbouncer_start

                bouncer = bouncer or pgbouncer_start(
                    backend_host=kwargs.get("host", "/var/run/postgresql"),
                    backend_port=int(kwargs.get("port", 5432)),
                    pool_size=20,
                )
                app_url = (
                    f"postgresql://postgres@127.0.0.1:{bouncer.port}/{kwargs['dbname']}"
                    f"?pgbouncer=true&connection_limit={pool_size}&pool_timeout=10"
                )
                conninfo = f"host=127.0.0.1 port={bouncer.port} dbname={kwargs['dbname']} user=postgres"
            think = f"-think{int(args.think_ms)}ms" if args.think_ms else ""
            paths = [("django", "/api/v1/checkout")] + ([("lean", "/bench/lean-checkout")] if args.lean else [])
            for kind, path in paths:
                results.append(
                    run_http(
                        name=f"{kind}-{via}{think}",
                        app_url=app_url,
                        db_kwargs=kwargs,
                        cashiers=cashiers,
                        total=args.checkouts,
                        procs=args.client_procs,
                        web_workers=args.web_workers,
                        threads=args.threads,
                        think=args.think_ms / 1000,
                        preconnect=args.preconnect,
                        server_env=dict(item.split("=", 1) for item in args.server_env),
                        path=path,
                    )
                )
                print(json.dumps(results[-1]), flush=True)
            if not args.skip_baseline:
                results.append(
                    run_baseline(
                        name=f"raw-sql-{via}",
                        conninfo=conninfo,
                        db_kwargs=kwargs,
                        cashiers=cashiers,
                        total=args.checkouts,
                        procs=2,
                        pool_total=args.web_workers * args.threads,
                        prepare_threshold=PREPARE_THRESHOLD if via == "direct" else None,
                    )
                )
                print(json.dumps(results[-1]), flush=True)
    finally:
        if bouncer is not None:
            from tests.pgbouncer.plugin import pgbouncer_stop

            pgbouncer_stop(bouncer)
    summary = {
        "cashiers": args.cashiers,
        "checkouts": args.checkouts,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average_after": os.getloadavg(),
        "results": results,
    }
    think = f"-think{int(args.think_ms)}ms" if args.think_ms else ""
    for via in args.via:
        d = next((r for r in results if r["run"] == f"django-{via}{think}"), None)
        b = next((r for r in results if r["run"] == f"raw-sql-{via}"), None)
        if d and b and b["throughput_per_s"]:
            summary[f"ratio_{via}"] = round(d["throughput_per_s"] / b["throughput_per_s"], 3)
        lean = next((r for r in results if r["run"] == f"lean-{via}{think}"), None)
        if d and lean and lean["throughput_per_s"]:
            summary[f"lean_ratio_{via}"] = round(d["throughput_per_s"] / lean["throughput_per_s"], 3)
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))
    print(f"\n{summary['cpu_count']} × {summary['cpu_model']}")
    print(
        "| run | requests | errors | throughput/s | p50 ms | p95 ms | p99 ms | peak DB conns | web CPU ms | web worker RSS MB "
        "| web worker CPU s | machine busy % | steal % |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['run']} | {r['requests']} | {r['errors']} | {r['throughput_per_s']} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['p99_ms']} | {r['peak_db_connections']} | {r.get('web_cpu_ms_per_request', '-')} | "
            f"{r.get('web_worker_rss_mb', '-')} | {r.get('web_worker_cpu_s', '-')} | {r.get('machine_busy_pct', '-')} | {r.get('machine_steal_pct', '-')} |"
        )
    for via in args.via:
        if f"ratio_{via}" in summary:
            print(f"Django / raw SQL ({via}): {summary[f'ratio_{via}']:.1%}")
        if f"lean_ratio_{via}" in summary:
            print(f"checkout / lean view ({via}): {summary[f'lean_ratio_{via}']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
