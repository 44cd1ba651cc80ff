"""SUNAT worker memory after N documents: runs ``fake_sunat`` and ``sunat_worker`` against the
benchmark database (the sales the load run made) and samples the worker's RSS.

    .venv/bin/python -m bench.load.worker_memory --jobs 10000 --max-seconds 900

Only jobs of documents the Django checkout issued are left pending (the raw-SQL baseline's
documents carry a minimal snapshot and are marked done first).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import psycopg

from bench.load.database import ROOT, app_env, bench_url, libpq_kwargs
from bench.load.run import free_port


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--concurrency", type=int, default=3)
    args = parser.parse_args()
    url = bench_url()
    kwargs = libpq_kwargs(url)
    with psycopg.connect(**kwargs, autocommit=True) as conn:
        conn.execute(
            "UPDATE sunat_jobs j SET status = 'done', finished_at = now() FROM sales_sale s "
            "WHERE s.sunat_document_id = j.document_id AND j.status = 'pending' AND length(s.fingerprint) = 32"
        )
        done_before = conn.execute("SELECT count(*) FROM sunat_jobs WHERE status <> 'pending'").fetchone()[0]
        pending = conn.execute("SELECT count(*) FROM sunat_jobs WHERE status = 'pending'").fetchone()[0]
    port = free_port()
    fake = f"http://127.0.0.1:{port}"
    env = app_env(
        url + ("&" if "?" in url else "?") + "connection_limit=4",
        SUNAT_ENDPOINT=f"{fake}/ol-ti-itcpfegem/billService",
        SUNAT_CONSULT_ENDPOINT=f"{fake}/ol-it-wsconscpegem/billConsultService",
        LOG_LEVEL="WARNING",
    )
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "fake_sunat", "--port", str(port), "--no-sfs"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        time.sleep(2)
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "sunat_worker", "--concurrency", str(args.concurrency)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        procs.append(worker)
        began = time.monotonic()
        samples = []
        with psycopg.connect(**kwargs, autocommit=True) as conn:
            while time.monotonic() - began < args.max_seconds:
                time.sleep(10)
                if worker.poll() is not None:
                    break
                rss = psutil.Process(worker.pid).memory_info().rss / 2**20
                processed = (
                    conn.execute("SELECT count(*) FROM sunat_jobs WHERE status <> 'pending'").fetchone()[0]
                    - done_before
                )
                samples.append(
                    {"seconds": round(time.monotonic() - began), "processed": processed, "rss_mb": round(rss, 1)}
                )
                print(json.dumps(samples[-1]), flush=True)
                if processed >= min(args.jobs, pending):
                    break
        print(
            json.dumps(
                {
                    "pending_at_start": pending,
                    "samples": len(samples),
                    "max_rss_mb": max((s["rss_mb"] for s in samples), default=None),
                    "processed": samples[-1]["processed"] if samples else 0,
                }
            )
        )
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
