"""Project-wide pytest setup: the embedded PostgreSQL is started by the test settings."""

import os

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

# The SUNAT double as a fixture (`fake_sunat`) for every app's tests.
pytest_plugins = ["sunat.fake.fixtures"]
