"""Project-wide pytest setup: the embedded PostgreSQL is started by the test settings."""

import os

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
