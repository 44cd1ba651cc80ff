"""The per-company, per-day correlatives of RC and RA summaries (``RA-YYYYMMDD-N``).

Tenant rules: ``company_id NOT NULL`` and the only unique constraint besides the primary key
starts with it; the table references no other tenant table.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0001_initial"),
        ("sunat", "0005_document_original"),
    ]

    operations = [
        migrations.CreateModel(
            name="SummarySequence",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=2, verbose_name="tipo")),
                ("issue_date", models.DateField(verbose_name="fecha de generación")),
                ("last", models.PositiveIntegerField(verbose_name="último correlativo")),
                (
                    "company",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="stores.company"
                    ),
                ),
            ],
            options={
                "verbose_name": "correlativo de resumen",
                "verbose_name_plural": "correlativos de resúmenes",
                "db_table": "sunat_summary_sequences",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("company", "kind", "issue_date"), name="sunat_summary_sequence_unique"
                    )
                ],
            },
        ),
    ]
