"""gunicorn settings, all from the environment (``gunicorn -c gunicorn.conf.py bodegapos.wsgi``).

* ``WEB_CONCURRENCY`` worker processes (default 3 on a 2-core box: (2 × cores) − 1 with threads).
* ``GUNICORN_THREADS`` threads per worker (gthread), capped at the pool size
  (``connection_limit`` of ``DATABASE_URL``, default 10): a thread without a pooled connection
  would only wait ``pool_timeout`` and answer 503.
* ``GUNICORN_KEEPALIVE`` (default 75 s) and ``GUNICORN_REUSE_PORT`` (default 1): tills and
  browsers open a connection and leave it idle until the next sale. A gthread worker gives each
  connection it accepts a thread until its first request arrives (up to 5 s), so connections that
  are closed after every response and reopened at once hold every thread through the cashiers'
  pauses; kept alive, an idle connection waits in the worker's poller without a thread. Longer
  than a load balancer's usual idle timeout (60 s), so the balancer closes first. With
  ``reuse_port`` each worker listens on its own socket and the kernel spreads new connections
  over them; on one shared socket the first worker to wake takes most of the kept-alive
  connections. docs/performance.md ("A lean checkout") has the runs behind both defaults.
* ``preload_app``: the app loads once in the master; the connection pool opens lazily in each
  worker after fork (nothing touches the database at import time). ``gc.freeze()`` before each
  fork keeps the collector off the preloaded objects.
* With ``PROMETHEUS_MULTIPROC_DIR`` set, /metrics aggregates every worker (the directory is
  emptied at start and dead workers are marked).
"""

import gc
import os
import shutil
from urllib.parse import parse_qs, urlsplit


def _connection_limit() -> int:
    query = parse_qs(urlsplit(os.environ.get("DATABASE_URL", "")).query)
    try:
        return max(1, int(query.get("connection_limit", ["10"])[0]))
    except ValueError:
        return 10


bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = max(1, min(int(os.environ.get("GUNICORN_THREADS", "4")), _connection_limit()))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 25
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") == "1"
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# request_finished lines from ops.middleware replace the access log.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def pre_fork(server, worker):
    # What the master loaded (preload_app: Django and the project) moves to the collector's
    # permanent generation: a worker's full collections never walk it, and never write to its
    # pages, which stay shared with the master (Python's gc.freeze() docs; ~1.5 ms of CPU less per
    # checkout in bench/load).
    gc.freeze()


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
