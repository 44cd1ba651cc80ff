"""A company's SUNAT credentials, certificate and pause state are no longer the company's columns
(another app keeps them, copied there before this runs)."""

from django.db import migrations

REMOVED = (
    "sol_user",
    "sol_password",
    "certificate",
    "certificate_password",
    "certificate_subject",
    "certificate_expires_at",
    "sunat_paused_at",
    "sunat_pause_reason",
)


class Migration(migrations.Migration):
    dependencies = [("stores", "0004_company_is_active")]

    operations = [migrations.RemoveField(model_name="company", name=name) for name in REMOVED]
