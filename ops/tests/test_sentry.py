from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "bodegapos.settings.test"
os.environ["SENTRY_DSN"] = "https://public@127.0.0.1:9/1"
os.environ["SENTRY_TRACES_SAMPLE_RATE"] = "0.25"
import django
django.setup()
import sentry_sdk
from ops.sentry import sentry_init
assert sentry_init(component="worker") is True
o = sentry_sdk.get_client().options
print(o["send_default_pii"], o["include_local_variables"], o["max_request_body_size"], o["traces_sampler"]({"wsgi_environ": {"PATH_INFO": "/api/v1/checkout"}}),
      o["traces_sampler"]({"wsgi_environ": {"PATH_INFO": "/health"}}))
"""


def test_sentry_init_no_pii_no_locals_rate_from_env():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "never", "0.25", "0.0"]


def test_sentry_off_without_dsn(settings):
    from ops.sentry import sentry_init

    settings.SENTRY_DSN = ""
    assert sentry_init(component="web") is False
