"""System checks of the ops app (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def metrics_token_check(app_configs, **kwargs) -> list[Warning]:
    """ops.W001: production without ``METRICS_TOKEN`` serves no ``/metrics`` (403) and no deep-health
    details, so Prometheus and the on-call engineer see nothing."""
    if getattr(settings, "METRICS_TOKEN_REQUIRED", False) and not getattr(settings, "METRICS_TOKEN", ""):
        return [
            Warning(
                "METRICS_TOKEN no está definido: /metrics responde 403 y /health?deep=true no muestra detalles.",
                hint='Defina METRICS_TOKEN (p. ej. python -c "import secrets; print(secrets.token_urlsafe(32))").',
                id="ops.W001",
            )
        ]
    return []
