"""structlog configuration: JSON lines in production, a readable console in development.

Every line (structlog's own and stdlib loggers such as ``django.request`` or gunicorn) goes
through one ``ProcessorFormatter`` with ``merge_contextvars`` in its pre-chain, so the
``request_id``, ``user`` and ``store`` bound by :class:`ops.middleware.RequestContextMiddleware`
appear on every line logged while a request runs. Tracebacks are rendered without frame local
variables (``show_locals=False``): locals can hold SOL passwords, certificate keys or cards.
"""

from __future__ import annotations

from typing import Any

import structlog

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """Return a ``LOGGING`` dict for Django and configure structlog to go through it.

    ``log_format`` is ``json`` or ``console``; anything else is an error (fail at start-up, not
    at the first log line).
    """
    if log_format not in ("json", "console"):
        raise ValueError(f"LOG_FORMAT debe ser 'json' o 'console', no {log_format!r}")
    json_lines = log_format == "json"
    renderer: Any
    if json_lines:
        exception_processor: Any = structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
        renderer = structlog.processors.JSONRenderer()
    else:
        exception_processor = structlog.processors.format_exc_info
        renderer = structlog.dev.ConsoleRenderer(colors=False)

    structlog.configure(
        processors=[
            *_SHARED,
            structlog.stdlib.filter_by_level,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "main": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    exception_processor,
                    renderer,
                ],
                "foreign_pre_chain": _SHARED,
            }
        },
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "main"}},
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            # django.server duplicates request lines in runserver; keep warnings only.
            "django.server": {"level": "WARNING"},
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
        },
    }


def configure_logging(overrides: dict[str, Any] | None) -> None:
    """``LOGGING_CONFIG`` hook: Django calls it with ``settings.LOGGING`` once settings load."""
    import logging.config

    from django.conf import settings

    config = logging_config(
        log_format=getattr(settings, "LOG_FORMAT", "json"), level=getattr(settings, "LOG_LEVEL", "INFO")
    )
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    logging.config.dictConfig(config)
