"""A throwaway PostgreSQL cluster for tests that must crash or restart a server: its own data
directory and Unix socket, binaries from the pgserver wheel (always installed), run as the
``pgserver`` system user when the tests run as root (PostgreSQL refuses root)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path


class ThrowawayPostgres:
    def __init__(self) -> None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.root = Path(tempfile.mkdtemp(prefix="bodegapos-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            from pgserver.utils import ensure_user_exists

            ensure_user_exists("pgserver")
            self.user = "pgserver"
            shutil.chown(self.root, user="pgserver")
        self.root.chmod(0o755)
        self.process: subprocess.Popen | None = None
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )

    def _run(self, argv: list[str]) -> None:
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120, user=self.user, cwd=self.root)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.root}"

    def start(self) -> ThrowawayPostgres:
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - owned by the server process
        try:
            self.process = subprocess.Popen(
                [
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data),
                    "-k",
                    str(self.root),
                    "-c",
                    "listen_addresses=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=20",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self.user,
                cwd=self.root,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + 30
        while not self._accepting():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"throwaway PostgreSQL did not start: {(self.root / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.1)
        return self

    def _accepting(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def crash(self) -> None:
        """SIGKILL the postmaster and every backend at once, as a machine crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def cleanup(self) -> None:
        self.crash()
        shutil.rmtree(self.root, ignore_errors=True)
