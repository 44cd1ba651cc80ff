"""What parsing one checkout body costs, in process: the hand-written parser against pydantic.

Usage (from the project root; no database)::

    .venv/bin/python bench/checkout_parse_bench.py [--number 2000] [--repeat 7]

It times ``sales.schemas.checkout.checkout_body_parse`` (hand-written, what the till runs) and
``bench.checkout_parse_pydantic.checkout_body_parse`` (the same contract on pydantic models) in
the same process on the same bodies of ``sales/tests/checkout_bodies.py``: a 2-line scanner
cart, a 30-line cart, a factura with a customer and a split payment, and a body with every field
wrong (the 400 path). Before timing, both must answer every recorded body (149) alike. Each body
is parsed ``--number`` times per round, the two parsers taking turns for ``--repeat`` rounds; the
best round is reported (µs per parse, JSON decoding included), as ``timeit`` advises.

Holds ``/tmp/bench/BUSY`` while it measures, after waiting for another benchmark's to go.
docs/performance.md records the output.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUSY = Path("/tmp/bench/BUSY")
BODIES = (
    "scanner cart, 2 lines",
    "30-line cart",
    "factura with customer and split payment",
    "everything wrong at once",
)


@contextmanager
def busy():
    BUSY.parent.mkdir(parents=True, exist_ok=True)
    while BUSY.exists():
        print("waiting for /tmp/bench/BUSY (another benchmark) …", file=sys.stderr)
        time.sleep(30)
    BUSY.write_text(f"bench/checkout_parse_bench.py pid {os.getpid()}\n")
    try:
        yield
    finally:
        BUSY.unlink(missing_ok=True)


def quiet(parse: Callable[[bytes], object], raw: bytes) -> Callable[[], None]:
    def run() -> None:
        try:
            parse(raw)
        except Exception:  # the 400 path raises TillError: part of what is timed
            pass

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bodegapos.settings.test")
    import django

    django.setup()
    import pydantic

    from bench.checkout_parse_pydantic import checkout_body_parse as on_pydantic
    from sales.schemas.checkout import checkout_body_parse as hand_written
    from sales.tests.checkout_bodies import BODIES as RECORDED
    from sales.tests.checkout_bodies import outcome

    parsers = {"hand-written": hand_written, "pydantic": on_pydantic}
    differ = [name for name, raw in RECORDED if outcome(hand_written, raw) != outcome(on_pydantic, raw)]
    assert not differ, f"the parsers disagree on {differ}"
    raws = dict(RECORDED)
    print(
        f"Python {sys.version.split()[0]}, pydantic {pydantic.VERSION}; {len(RECORDED)} recorded bodies answered alike; "
        f"best of {args.repeat} rounds of {args.number} parses",
        flush=True,
    )
    print(f"{'body':<42} {'bytes':>6} {'hand-written µs':>16} {'pydantic µs':>12} {'pydantic/hand':>14}")
    for name in BODIES:
        runs = {label: quiet(parse, raws[name]) for label, parse in parsers.items()}
        best = dict.fromkeys(parsers, float("inf"))
        for _ in range(args.repeat):
            for label, run in runs.items():
                best[label] = min(best[label], timeit.timeit(run, number=args.number) / args.number * 1e6)
        hand, pyd = best["hand-written"], best["pydantic"]
        print(f"{name:<42} {len(raws[name]):>6} {hand:>16.1f} {pyd:>12.1f} {pyd / hand:>14.2f}", flush=True)


if __name__ == "__main__":
    with busy():
        main()
