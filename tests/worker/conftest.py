"""Fixtures for the process tests: worker processes and a ``manage.py fake_sunat`` process."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from worker.tests.procs import kill_all, manage, wait_for, worker_env


def sunat_skip_reason() -> str | None:
    try:
        from sunat.tests.scenarios import schemas_missing_reason
    except ImportError as exc:  # the sunat app's test helpers are not there yet
        return f"sunat test scenarios not available: {exc}"
    return schemas_missing_reason()


@pytest.fixture
def needs_sunat():
    """Skip when SUNAT's schemas and rule files are not available."""
    reason = sunat_skip_reason()
    if reason:
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeSunatProcess:
    """``manage.py fake_sunat`` on a free port, with its test endpoints."""

    def __init__(self, *args: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = manage("fake_sunat", "--port", str(self.port), *args)
        if not wait_for(self._up, timeout=30, interval=0.1):
            self.proc.kill()
            raise RuntimeError(f"fake_sunat did not start: {self.proc.communicate(timeout=5)}")

    def _up(self) -> bool:
        try:
            self.registry()
            return True
        except OSError:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.communicate()) from None
            return False

    def registry(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_registry", timeout=5) as resp:
            return json.loads(resp.read())

    def force(self, *modes: str) -> None:
        req = urllib.request.Request(f"{self.url}/_force", data=json.dumps(list(modes)).encode(), method="POST")
        urllib.request.urlopen(req, timeout=5).read()

    @property
    def bill_url(self) -> str:
        return f"{self.url}/ol-ti-itcpfegem/billService"

    def env(self, **extra: str) -> dict[str, str]:
        """A worker's environment pointed at this double. The read timeout is 10 s: the double
        checks every file with SUNAT's stylesheets, which takes over a second on a loaded machine,
        and an answer that times out is re-sent (1033 for a document, 0402 and no ticket for a
        summary), not the outcome a test of anything else asserts. A test that forces timeouts
        (``--timeout-sleep``) sets a shorter one."""
        values = {
            "SUNAT_ENV": "fake",
            "SUNAT_ENDPOINT": self.bill_url,
            "SUNAT_CONSULT_ENDPOINT": f"{self.url}/ol-it-wsconscpegem/billConsultService",
            "SUNAT_READ_TIMEOUT": "10",
            "SUNAT_CONNECT_TIMEOUT": "1",
            "SUNAT_TICKET_POLL_SECONDS": "0",
        }
        values.update(extra)
        return worker_env(**values)


@pytest.fixture
def procs():
    """Processes a test starts; killed when it ends."""
    started: list = []
    yield started
    kill_all(started)


@pytest.fixture
def fake_sunat_process(procs):
    """``start(*args) -> FakeSunatProcess``: a fake_sunat process, stopped with the test."""

    def start(*args: str) -> FakeSunatProcess:
        fake = FakeSunatProcess(*args)
        procs.append(fake.proc)
        return fake

    return start


@pytest.fixture
def sunat_company():
    """The scenarios' supplier company, with the double's SOL user and a development certificate."""
    from sunat.tests.scenarios import supplier_company_create

    return supplier_company_create()
