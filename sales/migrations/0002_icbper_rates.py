"""ICBPER per plastic bag (Ley 30884, D.S. 244-2019-EF): S/ 0.10 in 2019 rising to S/ 0.50 from 2023."""

from datetime import date
from decimal import Decimal

from django.db import migrations

RATES = [
    (date(2019, 8, 1), Decimal("0.10")),
    (date(2020, 1, 1), Decimal("0.20")),
    (date(2021, 1, 1), Decimal("0.30")),
    (date(2022, 1, 1), Decimal("0.40")),
    (date(2023, 1, 1), Decimal("0.50")),
]


def add_rates(apps, schema_editor):
    IcbperRate = apps.get_model("sales", "IcbperRate")
    for valid_from, amount in RATES:
        IcbperRate.objects.update_or_create(valid_from=valid_from, defaults={"amount": amount})


def remove_rates(apps, schema_editor):
    IcbperRate = apps.get_model("sales", "IcbperRate")
    IcbperRate.objects.filter(valid_from__in=[d for d, _ in RATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(add_rates, remove_rates)]
