"""Settings shared by every environment, all read from the environment (12-factor).

``.env.example`` lists every variable with its default. Environment modules (dev, test, prod)
import this one and change only what differs.
"""

from __future__ import annotations

from pathlib import Path

import environ

from bodegapos.settings.database import database_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is read when present; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env("SECRET_KEY", default="insecure-development-key-change-me")
# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
ADMIN_URL = env("ADMIN_URL", default="admin/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "stores",
    "sunat",
    "sales",
    "worker",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # request id + user/store in every log line, no-store for HTML and /api/, 503 on pool timeout
    "ops.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bodegapos.urls"
WSGI_APPLICATION = "bodegapos.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database ---------------------------------------------------------------------------------
# DATABASE_URL is required here; dev and test settings fall back to the embedded server.
DATABASE_URL = env("DATABASE_URL", default="")
# Direct (non-PgBouncer) URL for migrations and LISTEN; defaults to DATABASE_URL.
DIRECT_URL = env("DIRECT_URL", default="")
# The reports' read replica (optional): a Django alias "reports" that only the reports read
# (sales.reports_db.ReportsRouter); they fall back to the primary when it does not answer.
REPORTS_DATABASE_URL = env("REPORTS_DATABASE_URL", default="")
DATABASE_ROUTERS = ["sales.reports_db.ReportsRouter"]


def databases_for(url: str) -> dict:
    databases = {"default": database_config(url)}
    if REPORTS_DATABASE_URL:
        reports = database_config(REPORTS_DATABASE_URL, pool=False, connect_timeout_default=3)
        reports["TEST"] = {"MIRROR": "default"}  # a test run never creates a database there
        databases["reports"] = reports
    return databases


DATABASES = databases_for(DATABASE_URL) if DATABASE_URL else {}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when CACHE_URL is set, per-process memory otherwise.
CACHE_URL = env("CACHE_URL", default="")
CACHES = {
    "default": env.cache_url_config(CACHE_URL)
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Auth ---------------------------------------------------------------------------------------
# Django's database sessions and ModelBackend, with the two per-request reads (session row, user
# row) done without a QuerySet each (stores/session_auth.py).
SESSION_ENGINE = "stores.session_auth"
AUTHENTICATION_BACKENDS = ["stores.session_auth.UserBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/pos/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# I18N: the UI speaks Peruvian Spanish; dates shown in Lima time, stored in UTC.
LANGUAGE_CODE = "es-pe"
LANGUAGES = [("es", "Español")]
TIME_ZONE = "America/Lima"
USE_I18N = True
USE_TZ = True
# Peruvian number and date formats (S/ 1,234.50; 31/12/2026): Django ships none for es_PE.
FORMAT_MODULE_PATH = ["bodegapos.settings.formats"]

# Static files: hashed names, compressed, served by whitenoise (CDN-ready).
STATIC_URL = env("STATIC_URL", default="/static/")
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Secrets at rest (SOL password, certificate and its password). Fernet keys, comma-separated;
# the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")

# Observability
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
# /metrics and the details of /health?deep=true want "Authorization: Bearer <METRICS_TOKEN>" when it
# is set; unset, they are open here and refused in production (METRICS_TOKEN_REQUIRED, prod.py).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_TOKEN_REQUIRED = False
# Failed sign-ins (successful ones count against none): per (client IP, username), per client IP
# over all usernames, per username over all IPs. The admin's login shares them.
RATELIMIT_LOGIN = env("RATELIMIT_LOGIN", default="10/5m")
RATELIMIT_LOGIN_IP = env("RATELIMIT_LOGIN_IP", default="30/5m")
RATELIMIT_LOGIN_USER = env("RATELIMIT_LOGIN_USER", default="20/5m")
RATELIMIT_CHECKOUT = env("RATELIMIT_CHECKOUT", default="600/m")
# The PostgreSQL counter's windows are deleted this long after they end (the worker's retention
# loop runs ops.ratelimit.ratelimit_windows_prune, WORKER_RETENTION_TASKS).
RATELIMIT_RETENTION_HOURS = env.float("RATELIMIT_RETENTION_HOURS", default=1)
# Proxies whose X-Forwarded-For is believed (the variable gunicorn reads too); "*" = any peer.
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])

# The till: how long the receipt page waits for the signed hash before printing without it.
RECEIPT_HASH_WAIT_SECONDS = env.float("RECEIPT_HASH_WAIT_SECONDS", default=2.0)

# SUNAT
SUNAT_ENV = env("SUNAT_ENV", default="fake")
SUNAT_ENDPOINT = env("SUNAT_ENDPOINT", default="")
SUNAT_CONSULT_ENDPOINT = env("SUNAT_CONSULT_ENDPOINT", default="")
SUNAT_POLL_INTERVAL = env.float("SUNAT_POLL_INTERVAL", default=10.0)
SUNAT_MAX_CONCURRENT_JOBS = env.int("SUNAT_MAX_CONCURRENT_JOBS", default=3)
SUNAT_RETRY_DELAYS = [float(x) for x in env.list("SUNAT_RETRY_DELAYS", default=["60", "300", "900", "3600"])]
SUNAT_LEASE_SECONDS = env.int("SUNAT_LEASE_SECONDS", default=120)
# A void (RA / RC ConditionCode 3) is allowed while (today in Lima − issue date) ≤ this many days.
SUNAT_VOID_WINDOW_DAYS = env.int("SUNAT_VOID_WINDOW_DAYS", default=7)
# Finished (done) jobs older than this are purged by the worker in batches; documents keep XML/CDR.
SUNAT_JOB_RETENTION_DAYS = env.float("SUNAT_JOB_RETENTION_DAYS", default=30)
# Exchanges with SUNAT (admin's attempt history) older than this are deleted by the worker, except
# each document's latest ones (sunat/retention.py); the document, its XML and CDR stay forever.
SUNAT_ATTEMPT_RETENTION_DAYS = env.float("SUNAT_ATTEMPT_RETENTION_DAYS", default=90)
# The other apps' tables the worker's hourly retention loop prunes after its own: name (the key
# in the worker.purged log line) -> dotted path of a callable taking no arguments and returning
# rows removed. Named here, Django's MIDDLEWARE way, so the worker never imports those apps.
WORKER_RETENTION_TASKS = {"ratelimit_windows": "ops.ratelimit.ratelimit_windows_prune"}
# SOAP client: connect timeout (request surely not sent) vs read timeout (SUNAT may have it).
SUNAT_CONNECT_TIMEOUT = env.float("SUNAT_CONNECT_TIMEOUT", default=5.0)
SUNAT_READ_TIMEOUT = env.float("SUNAT_READ_TIMEOUT", default=30.0)
# RC/RA: seconds between getStatus polls of a ticket that answered 98 (in process).
SUNAT_TICKET_POLL_SECONDS = env.float("SUNAT_TICKET_POLL_SECONDS", default=5.0)
# A note or void whose original SUNAT does not hold yet waits this long between checks (the
# original's settlement also makes it due at once).
SUNAT_WAIT_FOR_ORIGINAL_SECONDS = env.float("SUNAT_WAIT_FOR_ORIGINAL_SECONDS", default=5.0)
_default_schema_dir = BASE_DIR.parent / "shared" / "sunat"
SUNAT_SCHEMA_DIR = env("SUNAT_SCHEMA_DIR", default=str(_default_schema_dir) if _default_schema_dir.exists() else "")

# Operations (ops app) -------------------------------------------------------------------
# Hashed static files are immutable: whitenoise sends max-age=10y + immutable for them; the
# rest of /static/ (unhashed names) gets WHITENOISE_MAX_AGE.
WHITENOISE_MAX_AGE = env.int("WHITENOISE_MAX_AGE", default=3600)
# structlog through stdlib logging, built from LOG_FORMAT/LOG_LEVEL when Django sets up logging
# (so dev/test/prod overrides of those two apply); LOGGING entries are merged on top.
LOGGING_CONFIG = "ops.logging.configure_logging"
LOGGING: dict = {"version": 1}
# end ops
