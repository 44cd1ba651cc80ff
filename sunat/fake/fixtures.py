"""pytest fixtures for the SUNAT double, registered project-wide in the root ``conftest.py``.

``fake_sunat`` starts a :class:`~sunat.fake.server.FakeSunatServer` on a free port in a
background thread, points the settings at it (``SUNAT_ENV=fake``, ``SUNAT_ENDPOINT``,
``SUNAT_CONSULT_ENDPOINT``) and yields the server: ``str(server)``/``server.url`` is its base URL,
``server.fake`` its state (``force(...)``, ``registry_json()``, ``credentials_add(...)``,
``config.timeout_sleep``…). The client's read timeout is lowered to 3 s (plenty for the double,
even on a busy machine); the double's simulated timeouts wait until the client hangs up (at most
30 s), so a timeout path costs the client's 3 s.
"""

from __future__ import annotations

import pytest

from .server import FakeSunatConfig, FakeSunatServer


@pytest.fixture
def fake_sunat(settings):
    server = FakeSunatServer(port=0, config=FakeSunatConfig(seed=1, timeout_sleep=30.0)).start()
    settings.SUNAT_ENV = "fake"
    settings.SUNAT_ENDPOINT = server.bill_url
    settings.SUNAT_CONSULT_ENDPOINT = server.consult_url
    settings.SUNAT_READ_TIMEOUT = 3.0
    settings.SUNAT_CONNECT_TIMEOUT = 1.0
    settings.SUNAT_TICKET_POLL_SECONDS = 0.0
    try:
        yield server
    finally:
        server.stop()
