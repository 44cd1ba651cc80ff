"""Production: everything from the environment, no defaults for secrets."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *
from .base import databases_for, env


def required(name: str) -> str:
    """A variable production cannot run without: set and not empty (an empty
    FIELD_ENCRYPTION_KEY would silently fall back to a key derived from SECRET_KEY)."""
    value = env(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} es obligatorio en producción")
    return value


SECRET_KEY = required("SECRET_KEY")
DATABASE_URL = required("DATABASE_URL")
DATABASES = databases_for(DATABASE_URL)
SUNAT_ENV = required("SUNAT_ENV")
FIELD_ENCRYPTION_KEY = required("FIELD_ENCRYPTION_KEY")

# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# Operations (ops app): deploy checks, admin URL, Sentry -------------------------------------
DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"https://{h}" for h in ALLOWED_HOSTS if h])
ADMIN_URL = env("ADMIN_URL", default="admin/")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
X_FRAME_OPTIONS = "DENY"
LOG_FORMAT = env("LOG_FORMAT", default="json")
# Without METRICS_TOKEN production serves no /metrics and no deep-health details (check ops.W001).
METRICS_TOKEN_REQUIRED = True
# Sentry starts in ops.apps.OpsConfig.ready() when SENTRY_DSN is set (component web/worker).
