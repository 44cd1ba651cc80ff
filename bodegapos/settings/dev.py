"""Development: DEBUG on, console logs, embedded PostgreSQL when DATABASE_URL is unset."""

from __future__ import annotations

from bodegapos.embedded_db import embedded_database_url

from .base import *
from .base import DATABASE_URL, databases_for, env

DEBUG = env.bool("DEBUG", default=True)
LOG_FORMAT = env("LOG_FORMAT", default="console")
DATABASES = databases_for(DATABASE_URL or embedded_database_url())
