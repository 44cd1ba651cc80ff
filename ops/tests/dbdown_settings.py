"""Settings of the web process of ops/tests/test_database_down.py (DATABASE_URL: its own server)."""

from bodegapos.settings.test import *  # noqa: F403 - the test settings, extended

ROOT_URLCONF = "ops.tests.dbdown_app"
DEBUG = False
