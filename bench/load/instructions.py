"""Instructions per checkout, in process, counted by callgrind: the same count (to within ~0.2 %)
for the same code and data whatever else the machine is doing, where wall-clock runs on a shared
machine drift by more than a change is worth.

.venv/bin/python -m bench.load.instructions [--short 10] [--long 60] [--skip-prepare] [--path P] [--lines 2]

Runs ``bench.load.overhead``'s loop (Django test client, ``cajero9`` with its register opened by
a first run outside callgrind, the same products, two unless ``--lines``, one unit each, paid in
cash, INFO request logs) under ``valgrind --tool=callgrind`` twice, for ``--short`` and
``--long`` checkouts after ten warm-up sales, with ``PYTHONHASHSEED=0``, and prints
``(Ir(long) - Ir(short)) / (long - short)``: start-up, imports and warm-up cancel out. Compare two
trees on the same bench database (a detached ``git worktree`` for the other side), or the
checkout with the lean reference view of the same tree (``--path /bench/lean-checkout``). Needs
Debian's ``valgrind``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.load.database import ROOT, app_env, bench_url, prepare
from bench.load.overhead import checkout_body_maker, till_client


def _loop(n: int, path: str, lines: int = 2) -> None:
    """The measured process: ten warm-up checkouts posted to ``path``, then ``n`` more."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="cajero9")
    body = checkout_body_maker(user=user, lines=lines)
    bodies = [body() for _ in range(10 + n)]
    client = till_client(user=user)
    for text in bodies:
        response = client.post(path, text, content_type="application/json")
        assert response.status_code == 201, response.content


def _child(n: int, path: str, lines: int) -> list[str]:
    return [sys.executable, "-m", "bench.load.instructions", "--child", str(n), "--path", path, "--lines", str(lines)]


def _warm_up(env: dict[str, str], path: str, lines: int) -> None:
    """One run outside callgrind, so that both measured runs find the register already open."""
    proc = subprocess.run(_child(0, path, lines), cwd=ROOT, env=env, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit("la venta de calentamiento falló: " + proc.stderr.decode(errors="replace").strip()[-300:])


def _instructions(n: int, env: dict[str, str], path: str, lines: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *_child(n, path, lines)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        found = re.search(r"Collected : (\d+)", proc.stderr)
        if proc.returncode != 0 or found is None:
            last = (proc.stderr.strip().splitlines() or [""])[-1]
            raise SystemExit(f"la corrida de callgrind con {n} ventas falló: {last}")
        return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--short", type=int, default=10)
    parser.add_argument("--long", type=int, default=60)
    parser.add_argument("--skip-prepare", action="store_true", help="do not migrate, seed and top up stock first")
    parser.add_argument(
        "--path",
        default="/api/v1/checkout",
        help="where to post the checkouts: /bench/lean-checkout counts the lean reference view (bench.load.lean)",
    )
    parser.add_argument("--lines", type=int, default=2, help="products in each cart, one unit each")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _loop(args.child, args.path, args.lines)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind no está instalado (apt-get install valgrind)")
    if args.lines < 1:
        raise SystemExit("--lines debe ser al menos 1")
    if args.long <= args.short:
        raise SystemExit("--long debe ser mayor que --short")
    if not args.skip_prepare:
        prepare(url=bench_url(), stores=50, products=20)
    env = app_env(bench_url() + "&connection_limit=4", LOG_LEVEL="INFO", PYTHONHASHSEED="0")
    _warm_up(env, args.path, args.lines)
    short = _instructions(args.short, env, args.path, args.lines)
    long = _instructions(args.long, env, args.path, args.lines)
    per = (long - short) / (args.long - args.short)
    print(
        json.dumps(
            {
                "path": args.path,
                "lines": args.lines,
                "instructions_per_checkout": round(per),
                "short": short,
                "long": long,
            }
        )
    )
    print(
        f"{per / 1e6:.2f} M instructions per checkout on {args.path}, {args.lines} lines "
        f"({args.short} and {args.long} checkouts)"
    )


if __name__ == "__main__":
    main()
