import sys

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operaciones"

    def ready(self) -> None:
        # Sentry for every process that loads Django when SENTRY_DSN is set; the worker command
        # calls ops.sentry.sentry_init(component="worker") itself (re-tagging is harmless).
        from ops import checks  # noqa: F401 - registers the deploy checks
        from ops.sentry import sentry_init

        component = "worker" if "sunat_worker" in sys.argv else "web"
        sentry_init(component=component)
