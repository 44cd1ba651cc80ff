"""Foreign-key indexes that another index already leads with, dropped CONCURRENTLY: the why and
the how are in sales/migrations/0008_redundant_indexes_dropped.py."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


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
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "stores_approvalfailure_company_id_2bfce34a"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "stores_approvalfailure_company_id_2bfce34a" ON "stores_approvalfailure" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "stores_approverpin_company_id_23486f1f"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "stores_approverpin_company_id_23486f1f" ON "stores_approverpin" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "stores_auditevent_company_id_94bd12fc"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "stores_auditevent_company_id_94bd12fc" ON "stores_auditevent" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "stores_documentseries_company_id_c18bc08c"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "stores_documentseries_company_id_c18bc08c" ON "stores_documentseries" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "stores_membership_user_id_f47d8a67"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "stores_membership_user_id_f47d8a67" ON "stores_membership" ("user_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "stores_register_company_id_7220448c"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "stores_register_company_id_7220448c" ON "stores_register" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "stores_register_store_id_96a049b5"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "stores_register_store_id_96a049b5" ON "stores_register" ("store_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "stores_store_company_id_1024b879"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "stores_store_company_id_1024b879" ON "stores_store" ("company_id")',
                ),
            ],
        )
    ]
