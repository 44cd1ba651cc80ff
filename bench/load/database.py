"""The benchmark database: ``bench_load`` on the embedded server (or BENCH_DATABASE_URL),
migrated and seeded with ``seed_demo`` (N stores, one cashier each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "bench1234"


def bench_url(dbname: str = "bench_load") -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    sys.path.insert(0, str(ROOT))
    from bodegapos.embedded_db import embedded_database_url

    base = embedded_database_url()
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def libpq_kwargs(url: str) -> dict:
    """psycopg.connect() keywords for a URL (drops the seed's query parameters)."""
    parts = urlsplit(url)
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    kwargs = {"dbname": parts.path.lstrip("/"), "user": parts.username or "postgres"}
    if parts.password:
        kwargs["password"] = parts.password
    if parts.hostname:
        kwargs["host"] = parts.hostname
    if parts.port:
        kwargs["port"] = parts.port
    if "host" in query:
        kwargs["host"] = query["host"]
    return kwargs


def app_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DIRECT_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.load.settings",
        DATABASE_URL=url,
        SECRET_KEY="bench-" + "x" * 60,
        SUNAT_ENV="fake",
        FIELD_ENCRYPTION_KEY="oYb8D25oMlQBKox7VoyD77WejT4lyT2TYHhitCOFHYw=",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        RATELIMIT_LOGIN="100000/m",
        RATELIMIT_CHECKOUT="100000/m",
        XDG_RUNTIME_DIR=os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
    )
    env.update(extra)
    return env


def prepare(*, url: str, stores: int, products: int) -> None:
    """Create (if needed), migrate and seed the benchmark database."""
    kwargs = libpq_kwargs(url)
    admin = {**kwargs, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [kwargs["dbname"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{kwargs["dbname"]}"')
    env = app_env(url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    # Production storage: hashed names from the manifest (as the image build does).
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "seed_demo",
            "--stores",
            str(stores),
            "--products",
            str(products),
            "--password",
            PASSWORD,
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
