"""Tests: fast hashing, embedded PostgreSQL when DATABASE_URL is unset.

``TEST_DB_NAME`` names the throwaway test database (several checkouts of the project can then
test against one server at once); pytest-xdist appends its worker suffix to it.
"""

from __future__ import annotations

import os

from bodegapos.embedded_db import embedded_database_url

from .base import *
from .base import DATABASE_URL, databases_for, env

DATABASES = databases_for(DATABASE_URL or embedded_database_url())
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DB_NAME", "test_bodegapos")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOG_FORMAT = env("LOG_FORMAT", default="console")
LOG_LEVEL = env("LOG_LEVEL", default="WARNING")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="oYb8D25oMlQBKox7VoyD77WejT4lyT2TYHhitCOFHYw=")
RECEIPT_HASH_WAIT_SECONDS = env.float("RECEIPT_HASH_WAIT_SECONDS", default=0.0)
