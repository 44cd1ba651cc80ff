"""Foreign-key indexes that another index already leads with, dropped CONCURRENTLY: the why and
the how are in sales/migrations/0008_redundant_indexes_dropped.py."""

import django.db.models.deletion
from django.db import migrations, models


# (table, foreign key column, the key's own index) of each index dropped.
DROPPED = (
    ("sunat_summary_sequences", "company_id", "sunat_summary_sequences_company_id_7bc8e70c"),
    ("sunat_sunatattempt", "document_id", "sunat_sunatattempt_document_id_f0f1b00f"),
    ("sunat_sunatdocument", "company_id", "sunat_sunatdocument_company_id_cb1dd11e"),
)


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("sunat", "0008_document_is_demo"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="summarysequence",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="sunatattempt",
                    name="document",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attempts",
                        to="sunat.sunatdocument",
                    ),
                ),
                migrations.AlterField(
                    model_name="sunatdocument",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in DROPPED
            ],
        )
    ]
