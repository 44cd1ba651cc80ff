"""Foreign-key indexes that another index already leads with, dropped CONCURRENTLY: the why and
the how are in sales/migrations/0008_redundant_indexes_dropped.py."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# (table, foreign key column, the key's own index) of each index dropped.
DROPPED = (
    ("stores_approvalfailure", "company_id", "stores_approvalfailure_company_id_2bfce34a"),
    ("stores_approverpin", "company_id", "stores_approverpin_company_id_23486f1f"),
    ("stores_auditevent", "company_id", "stores_auditevent_company_id_94bd12fc"),
    ("stores_documentseries", "company_id", "stores_documentseries_company_id_c18bc08c"),
    ("stores_membership", "user_id", "stores_membership_user_id_f47d8a67"),
    ("stores_register", "company_id", "stores_register_company_id_7220448c"),
    ("stores_register", "store_id", "stores_register_store_id_96a049b5"),
    ("stores_store", "company_id", "stores_store_company_id_1024b879"),
)


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("stores", "0005_company_sunat_account_removed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="approvalfailure",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="approverpin",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="documentseries",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="membership",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="register",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="register",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="registers",
                        to="stores.store",
                    ),
                ),
                migrations.AlterField(
                    model_name="store",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="stores",
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
