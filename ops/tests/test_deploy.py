"""Deploy files agree with each other and with production settings."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROD_ENV = {
    "SECRET_KEY": "k" * 20 + "-Zx9-" + "Q" * 40 + "mNbV7!pL",
    "DATABASE_URL": "postgresql://bodega:x@db.internal:5432/bodegapos?connection_limit=4",
    "SUNAT_ENV": "beta",
    "FIELD_ENCRYPTION_KEY": "oYb8D25oMlQBKox7VoyD77WejT4lyT2TYHhitCOFHYw=",
    "ALLOWED_HOSTS": "pos.example.com",
    "ADMIN_URL": "gestion-7f3k/",
    "METRICS_TOKEN": "m" * 32,
}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DIRECT_URL", "DJANGO_"))}
    env.update(extra)
    return env


def test_check_deploy_with_production_settings_reports_nothing():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--settings=bodegapos.settings.prod",
            "--fail-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=_clean_env(**PROD_ENV),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_values():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS >= 31536000,"
        " s.SECURE_PROXY_SSL_HEADER, s.ADMIN_URL, s.DEBUG, s.DATABASES['default']['OPTIONS']['pool']['max_size'])"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django,os;os.environ['DJANGO_SETTINGS_MODULE']='bodegapos.settings.prod';django.setup();{code}",
        ],
        cwd=ROOT,
        env=_clean_env(**PROD_ENV),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "gestion-7f3k/",
        "False",
        "4",
    ]


def test_check_deploy_warns_when_production_has_no_metrics_token():
    env = _clean_env(**{k: v for k, v in PROD_ENV.items() if k != "METRICS_TOKEN"})
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--settings=bodegapos.settings.prod",
            "--fail-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "ops.W001" in result.stdout + result.stderr


def test_production_settings_refuse_missing_secret():
    env = _clean_env(**{k: v for k, v in PROD_ENV.items() if k != "SECRET_KEY"})
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--settings=bodegapos.settings.prod"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_settings_refuse_an_empty_encryption_key():
    """An empty FIELD_ENCRYPTION_KEY (e.g. copied from .env.example) must stop production, not
    fall back to a key derived from SECRET_KEY."""
    env = _clean_env(**{**PROD_ENV, "FIELD_ENCRYPTION_KEY": ""})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--settings=bodegapos.settings.prod"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEY es obligatorio" in result.stderr


def _procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def _env_example() -> dict[str, str]:
    """The variables ``.env.example`` sets: what a copy of it as ``.env`` sets."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _env_example_listed() -> set[str]:
    """Every variable ``.env.example`` documents: set, or commented out as ``# NAME=default``."""
    commented = re.findall(r"^#\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    return set(_env_example()) | set(commented)


def test_procfile():
    entries = _procfile()
    assert set(entries) == {"web", "worker", "release"}
    assert (
        entries["web"].startswith("gunicorn")
        and "-c gunicorn.conf.py" in entries["web"]
        and "bodegapos.wsgi" in entries["web"]
    )
    assert entries["worker"] == "python manage.py sunat_worker --settings=bodegapos.settings.prod"
    assert (
        entries["release"]
        == "DATABASE_URL=$DIRECT_URL python manage.py migrate --noinput --settings=bodegapos.settings.prod"
    )


def _deployed_commands() -> dict[str, str]:
    """Every command a deployed process runs: the Procfile's, docker-compose's and the image's CMD."""
    yaml = pytest.importorskip("yaml")
    commands = {f"Procfile {name}": command for name, command in _procfile().items()}
    for name, service in yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"].items():
        command = service.get("command")
        if command and "postgres" not in name and "pgbouncer" not in name:
            commands[f"compose {name}"] = command if isinstance(command, str) else " ".join(command)
    cmd = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    commands["Dockerfile CMD"] = " ".join(json.loads(cmd[4:]))
    return commands


# What a deployed process loads, printed by the process itself: the settings module and DEBUG.
_PRINT_SETTINGS = "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"


def test_every_deployed_process_runs_production_settings_on_its_own():
    """No DJANGO_SETTINGS_MODULE in the environment (a deployer who forgot it): each command still
    loads bodegapos.settings.prod. manage.py commands run with their own options; gunicorn loads
    bodegapos.wsgi."""
    commands = _deployed_commands()
    assert {"Procfile release", "Procfile worker", "Procfile web", "compose migrate", "compose worker"} <= set(commands)
    for name, command in commands.items():
        words = shlex.split(command)
        words = [w for w in words if not re.match(r"^[A-Z_]+=", w)]  # VAR=value prefixes
        if words[0] == "gunicorn":
            argv = [sys.executable, "-c", f"import bodegapos.wsgi; {_PRINT_SETTINGS}"]
        else:
            assert words[:2] == ["python", "manage.py"], name
            options = [w for w in words[3:] if w.startswith("--settings")]
            argv = [sys.executable, "manage.py", "shell", "-c", _PRINT_SETTINGS, *options]
        result = subprocess.run(argv, cwd=ROOT, env=_clean_env(**PROD_ENV), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert result.stdout.split()[-2:] == ["bodegapos.settings.prod", "False"], f"{name}: {command}"


def test_env_example_lists_every_contract_variable():
    architecture = ROOT.parent / "shared" / "docs" / "ARCHITECTURE.md"
    env = _env_example()
    required = {
        "DATABASE_URL",
        "DIRECT_URL",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "ADMIN_URL",
        "CACHE_URL",
        "SENTRY_DSN",
        "SENTRY_TRACES_SAMPLE_RATE",
        "LOG_FORMAT",
        "LOG_LEVEL",
        "FIELD_ENCRYPTION_KEY",
        "METRICS_TOKEN",
        "RATELIMIT_LOGIN",
        "RATELIMIT_CHECKOUT",
        "SUNAT_ENV",
        "SUNAT_ENDPOINT",
        "SUNAT_CONSULT_ENDPOINT",
        "SUNAT_POLL_INTERVAL",
        "SUNAT_MAX_CONCURRENT_JOBS",
        "SUNAT_RETRY_DELAYS",
        "SUNAT_LEASE_SECONDS",
        "SUNAT_SCHEMA_DIR",
    }
    if architecture.exists():
        text = architecture.read_text()
        section = text[text.index("Environment (12-factor") : text.index("Commands:")]
        required |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section))
    listed = _env_example_listed()
    assert required <= listed, sorted(required - listed)
    assert env["RATELIMIT_LOGIN"] == "10/5m" and env["RATELIMIT_CHECKOUT"] == "600/m"
    assert env["ADMIN_URL"] == "admin/" and env["SUNAT_RETRY_DELAYS"] == "60,300,900,3600"
    assert env["SUNAT_POLL_INTERVAL"] == "10" and env["SUNAT_MAX_CONCURRENT_JOBS"] == "3"
    assert env["SUNAT_LEASE_SECONDS"] == "120"


def test_env_example_lists_what_gunicorn_and_the_metrics_read():
    read = set()
    for path in ("gunicorn.conf.py", "ops/metrics.py"):
        read |= set(re.findall(r"os\.environ(?:\.get\(|\[)[\"']([A-Z][A-Z0-9_]+)[\"']", (ROOT / path).read_text()))
    assert {"PORT", "GUNICORN_TIMEOUT", "PROMETHEUS_MULTIPROC_DIR"} <= read
    assert read <= _env_example_listed(), sorted(read - _env_example_listed())


def test_env_example_copied_to_env_keeps_the_development_defaults():
    """``cp .env.example .env`` then ``make run``: development keeps DEBUG on (off, every page
    would fail for lack of the static manifest) and the SUNAT schemas' default directory."""
    code = "from django.conf import settings as s; print(s.DEBUG, repr(s.SUNAT_SCHEMA_DIR))"
    url = {"DATABASE_URL": "postgresql://x@127.0.0.1:1/never"}  # no embedded server: nothing connects
    copied = {k: v for k, v in _env_example().items() if k != "DATABASE_URL"}

    def dev_settings(extra: dict[str, str]) -> str:
        env = {k: v for k, v in _clean_env().items() if k not in ("DEBUG", "SUNAT_SCHEMA_DIR")} | url | extra
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "--settings=bodegapos.settings.dev", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert dev_settings(copied) == dev_settings({})
    assert dev_settings(copied).startswith("True ")
    default = ROOT.parent / "shared" / "sunat"
    if default.exists():
        assert dev_settings(copied) == f"True {str(default)!r}"


def test_docker_compose_agrees_with_procfile_and_env_example():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "pgbouncer", "web", "worker", "fake_sunat", "migrate"} <= set(services)
    procfile = _procfile()

    def command(service: str) -> str:
        cmd = services[service]["command"]
        return cmd if isinstance(cmd, str) else " ".join(cmd)

    assert command("web") == procfile["web"]
    assert command("worker") == procfile["worker"]
    assert "manage.py migrate --noinput" in command("migrate")
    assert "manage.py fake_sunat" in command("fake_sunat")
    env_example = _env_example()
    for service in ("web", "worker", "migrate"):
        environment = services[service]["environment"]
        assert set(environment) <= set(env_example) | {"PORT", "PROMETHEUS_MULTIPROC_DIR"}, service
        assert "DATABASE_URL" in environment
    # web and worker go through PgBouncer; migrations go direct.
    assert ":6432/" in services["web"]["environment"]["DATABASE_URL"]
    assert "pgbouncer=true" in services["web"]["environment"]["DATABASE_URL"]
    assert ":5432/" in services["migrate"]["environment"]["DATABASE_URL"]
    assert services["web"]["environment"]["DIRECT_URL"] == services["migrate"]["environment"]["DATABASE_URL"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    pgb = services["pgbouncer"]
    assert any("pgbouncer.ini" in str(v) for v in pgb.get("volumes", []))


def test_pgbouncer_ini_is_transaction_mode_with_the_seed_sizes():
    import configparser

    parser = configparser.ConfigParser(inline_comment_prefixes=None, interpolation=None)
    parser.read(ROOT / "ops" / "pgbouncer" / "pgbouncer.ini")
    pgb = parser["pgbouncer"]
    assert pgb["pool_mode"] == "transaction"
    assert pgb["default_pool_size"] == "50"
    assert pgb["max_client_conn"] == "1000"
    assert pgb["auth_type"] == "scram-sha-256"


def test_gunicorn_config_threads_not_above_pool():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy;c=runpy.run_path('gunicorn.conf.py');"
            "print(c['workers'], c['threads'], c['preload_app'], c['keepalive'], c['reuse_port'])",
        ],
        cwd=ROOT,
        env=_clean_env(DATABASE_URL="postgresql://x@h/db?connection_limit=3", GUNICORN_THREADS="8"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    workers, threads, preload, keepalive, reuse_port = result.stdout.split()
    assert int(threads) == 3 and preload == "True"  # threads capped at connection_limit
    # Idle till connections wait kept alive in the workers' pollers, spread over the workers.
    assert int(keepalive) == 75 and reuse_port == "True"
    check = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", "gunicorn.conf.py", "bodegapos.wsgi"],
        cwd=ROOT,
        env=_clean_env(**PROD_ENV),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
