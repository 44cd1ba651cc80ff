"""PgBouncer fixtures (``pgbouncer``, ``default_through_pgbouncer``) for tests under tests/pgbouncer.

Other test packages can use them with ``pytest_plugins = ["tests.pgbouncer.plugin"]`` in their
own conftest, or by moving their PgBouncer-marked tests here.
"""

from tests.pgbouncer.plugin import default_through_pgbouncer, pgbouncer  # noqa: F401 - fixtures
