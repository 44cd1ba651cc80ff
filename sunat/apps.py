from django.apps import AppConfig


class SunatConfig(AppConfig):
    name = "sunat"
    verbose_name = "SUNAT"
