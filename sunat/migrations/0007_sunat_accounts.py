"""Each company's SUNAT account (clave SOL, certificate, pause state) in ``sunat_accounts``.

The values move off ``stores_company`` as stored: the secrets are copied as their Fernet
ciphertext (the same keys decrypt them in their new columns), only for companies that have any
of them set. ``stores`` 0005 then drops the old columns; ``run_before`` orders it after this
copy without ``stores`` naming ``sunat``.

Tenant rules: the company is the primary key (``company_id NOT NULL``, one row per company); the
table has no other unique constraint and references no other tenant table.
"""

import django.db.models.deletion
from django.db import migrations, models

import sunat.fields

COPY_SQL = """
INSERT INTO sunat_accounts (company_id, sol_user, sol_password, certificate, certificate_password,
                            certificate_subject, certificate_expires_at, paused_at, pause_reason)
SELECT id, sol_user, sol_password, certificate, certificate_password,
       certificate_subject, certificate_expires_at, sunat_paused_at, sunat_pause_reason
FROM stores_company
WHERE sol_user <> '' OR sol_password <> '' OR certificate IS NOT NULL OR certificate_password <> ''
   OR sunat_paused_at IS NOT NULL
"""

# Back to the company's columns (they exist again once stores 0005 is reversed first).
UNCOPY_SQL = """
UPDATE stores_company c
SET sol_user = a.sol_user, sol_password = a.sol_password, certificate = a.certificate,
    certificate_password = a.certificate_password, certificate_subject = a.certificate_subject,
    certificate_expires_at = a.certificate_expires_at, sunat_paused_at = a.paused_at,
    sunat_pause_reason = a.pause_reason
FROM sunat_accounts a WHERE a.company_id = c.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0004_company_is_active"),
        ("sunat", "0006_summary_sequences"),
    ]
    run_before = [("stores", "0005_company_sunat_account_removed")]

    operations = [
        migrations.CreateModel(
            name="SunatAccount",
            fields=[
                (
                    "company",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="stores.company",
                        verbose_name="empresa",
                    ),
                ),
                ("sol_user", models.CharField(blank=True, max_length=30, verbose_name="usuario SOL")),
                ("sol_password", sunat.fields.EncryptedTextField(blank=True, verbose_name="clave SOL")),
                (
                    "certificate",
                    sunat.fields.EncryptedBinaryField(
                        blank=True, editable=False, null=True, verbose_name="certificado (.pfx)"
                    ),
                ),
                (
                    "certificate_password",
                    sunat.fields.EncryptedTextField(blank=True, verbose_name="contraseña del certificado"),
                ),
                (
                    "certificate_subject",
                    models.CharField(blank=True, max_length=300, verbose_name="titular del certificado"),
                ),
                (
                    "certificate_expires_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="vencimiento del certificado"),
                ),
                ("paused_at", models.DateTimeField(blank=True, null=True, verbose_name="envíos pausados desde")),
                ("pause_reason", models.TextField(blank=True, verbose_name="motivo de la pausa")),
            ],
            options={
                "verbose_name": "cuenta SUNAT",
                "verbose_name_plural": "cuentas SUNAT",
                "db_table": "sunat_accounts",
            },
        ),
        migrations.RunSQL(sql=COPY_SQL, reverse_sql=UNCOPY_SQL),
    ]
