from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = "Empresas y tiendas"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .admin_scoping import staff_groups_refresh

        # After every app's permissions exist (post_migrate runs per app): a release that grants
        # the staff groups a new model's permissions reaches existing groups at ``migrate``.
        post_migrate.connect(staff_groups_refresh, dispatch_uid="stores.staff_groups_refresh")
