"""Sentry for the web and the SUNAT worker: one call, no PII, no local variables."""

from __future__ import annotations

import logging

from django.conf import settings

log = logging.getLogger(__name__)


def sentry_init(*, component: str) -> bool:
    """Initialise Sentry when ``SENTRY_DSN`` is set; return whether it was initialised.

    ``component`` (``web`` or ``worker``) becomes a tag on every event. ``send_default_pii`` is
    off and ``include_local_variables`` is off, so neither user data nor frame locals (which can
    hold SOL passwords or certificate keys) leave the process. The traces sample rate comes
    from ``SENTRY_TRACES_SAMPLE_RATE``; ``/health`` and ``/metrics`` are never traced.
    """
    dsn = getattr(settings, "SENTRY_DSN", "")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    rate = float(getattr(settings, "SENTRY_TRACES_SAMPLE_RATE", 0.0))

    def traces_sampler(context: dict) -> float:
        path = (context.get("wsgi_environ") or {}).get("PATH_INFO", "")
        if path.startswith("/health") or path.startswith("/metrics"):
            return 0.0
        return rate

    sentry_sdk.init(
        dsn=dsn,
        environment=getattr(settings, "SUNAT_ENV", "production"),
        send_default_pii=False,
        include_local_variables=False,
        # No request bodies at all: the company form posts the clave SOL and the certificate
        # password under field names the default scrubber does not know (invariant 8).
        max_request_body_size="never",
        traces_sampler=traces_sampler,
        integrations=[
            DjangoIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
    )
    sentry_sdk.set_tag("component", component)
    return True
