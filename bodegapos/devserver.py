"""``make run``: the whole system in one terminal — web, fake SUNAT and the SUNAT worker.

Each part is a child process; Ctrl+C (or SIGTERM) stops them all. Parts whose command does
not exist yet are skipped with a note, so the till runs on its own.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from django.core.management import get_commands


def _parts(port: int, fake_port: int) -> list[tuple[str, list[str], dict[str, str]]]:
    manage = [sys.executable, "manage.py"]
    fake_url = f"http://127.0.0.1:{fake_port}"
    sunat_env = {
        "SUNAT_ENV": "fake",
        "SUNAT_ENDPOINT": os.environ.get("SUNAT_ENDPOINT", f"{fake_url}/ol-ti-itcpfegem/billService"),
        "SUNAT_CONSULT_ENDPOINT": os.environ.get(
            "SUNAT_CONSULT_ENDPOINT", f"{fake_url}/ol-it-wsconscpegem/billConsultService"
        ),
    }
    return [
        ("fake_sunat", [*manage, "fake_sunat", "--port", str(fake_port)], {}),
        ("sunat_worker", [*manage, "sunat_worker"], sunat_env),
        ("web", [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], sunat_env),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--fake-sunat-port", type=int, default=8900)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bodegapos.settings.dev")
    import django

    django.setup()
    available = get_commands()
    children: list[tuple[str, subprocess.Popen]] = []
    for name, cmd, extra_env in _parts(args.port, args.fake_sunat_port):
        command = cmd[2]
        if command not in available:
            print(f"[run] {name}: command '{command}' not available yet, skipped")
            continue
        print(f"[run] starting {name}: {' '.join(cmd[1:])}")
        children.append((name, subprocess.Popen(cmd, env={**os.environ, **extra_env})))

    print(f"[run] BodegaPOS at http://127.0.0.1:{args.port}/ (Ctrl+C to stop)")
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping:
            for name, proc in children:
                if proc.poll() is not None:
                    print(f"[run] {name} exited with {proc.returncode}; stopping everything")
                    stopping = True
            time.sleep(0.5)
    finally:
        for _, proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 25
        for _, proc in children:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
