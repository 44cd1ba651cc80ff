"""Foreign keys that another index already leads with (a composite index, a unique constraint, a
named index) lose their own index (``db_index=False``; tests/test_schema_indexes.py): every
insert of the row paid for an index the other one already gives. Only the indexes are dropped, ``CONCURRENTLY`` (no table lock
held while tills sell); the state's ``AlterField`` would also drop and re-validate each
foreign key constraint, scanning the table under lock."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("sales", "0007_reference_caches_removed"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="cashmovement",
                    name="session",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="movements",
                        to="sales.cashsession",
                        verbose_name="turno",
                    ),
                ),
                migrations.AlterField(
                    model_name="cashsession",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="cashsession",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.store",
                        verbose_name="tienda",
                    ),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="idempotentrequest",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="payment",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="stores.store"
                    ),
                ),
                migrations.AlterField(
                    model_name="product",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="refund",
                    name="sale",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refunds",
                        to="sales.sale",
                    ),
                ),
                migrations.AlterField(
                    model_name="refund",
                    name="session",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refunds",
                        to="sales.cashsession",
                    ),
                ),
                migrations.AlterField(
                    model_name="sale",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="sale",
                    name="session",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sales",
                        to="sales.cashsession",
                        verbose_name="turno",
                    ),
                ),
                migrations.AlterField(
                    model_name="sale",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="stores.store"
                    ),
                ),
                migrations.AlterField(
                    model_name="saleline",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="saleline",
                    name="sale",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="sales.sale",
                    ),
                ),
                migrations.AlterField(
                    model_name="saleline",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="stores.store"
                    ),
                ),
                migrations.AlterField(
                    model_name="salereturn",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="salereturn",
                    name="session",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="returns",
                        to="sales.cashsession",
                        verbose_name="turno",
                    ),
                ),
                migrations.AlterField(
                    model_name="salereturn",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.store",
                        verbose_name="tienda",
                    ),
                ),
                migrations.AlterField(
                    model_name="salereturnline",
                    name="sale_return",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="sales.salereturn",
                    ),
                ),
                migrations.AlterField(
                    model_name="salevoid",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="salevoid",
                    name="session",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="voids",
                        to="sales.cashsession",
                        verbose_name="turno",
                    ),
                ),
                migrations.AlterField(
                    model_name="salevoid",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stores.store",
                        verbose_name="tienda",
                    ),
                ),
                migrations.AlterField(
                    model_name="stockmovement",
                    name="sale",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="sales.sale",
                    ),
                ),
                migrations.AlterField(
                    model_name="stockmovement",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="stores.store"
                    ),
                ),
                migrations.AlterField(
                    model_name="storeproduct",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="stores.store"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_cashmovement_session_id_f4c35ceb"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_cashmovement_session_id_f4c35ceb" ON "sales_cashmovement" ("session_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_cashsession_company_id_3a7cffe3"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_cashsession_company_id_3a7cffe3" ON "sales_cashsession" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_cashsession_store_id_dfbe1a08"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_cashsession_store_id_dfbe1a08" ON "sales_cashsession" ("store_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_customer_company_id_c7b669d0"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_customer_company_id_c7b669d0" ON "sales_customer" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_idempotentrequest_company_id_7600b271"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_idempotentrequest_company_id_7600b271" ON "sales_idempotentrequest" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_payment_store_id_f1413925"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_payment_store_id_f1413925" ON "sales_payment" ("store_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_product_company_id_c9796672"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_product_company_id_c9796672" ON "sales_product" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_refund_sale_id_8376da19"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_refund_sale_id_8376da19" ON "sales_refund" ("sale_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_refund_session_id_872634c3"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_refund_session_id_872634c3" ON "sales_refund" ("session_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_sale_company_id_6e88f52f"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_sale_company_id_6e88f52f" ON "sales_sale" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_sale_session_id_28de17ce"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_sale_session_id_28de17ce" ON "sales_sale" ("session_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_sale_store_id_15a113d4"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_sale_store_id_15a113d4" ON "sales_sale" ("store_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_saleline_company_id_52350018"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_saleline_company_id_52350018" ON "sales_saleline" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_saleline_sale_id_8f707bda"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_saleline_sale_id_8f707bda" ON "sales_saleline" ("sale_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_saleline_store_id_4527a41f"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_saleline_store_id_4527a41f" ON "sales_saleline" ("store_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_salereturn_company_id_8fe04774"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_salereturn_company_id_8fe04774" ON "sales_salereturn" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_salereturn_session_id_f65ab396"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_salereturn_session_id_f65ab396" ON "sales_salereturn" ("session_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_salereturn_store_id_0542dd60"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_salereturn_store_id_0542dd60" ON "sales_salereturn" ("store_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_salereturnline_sale_return_id_15b28494"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_salereturnline_sale_return_id_15b28494" ON "sales_salereturnline" ("sale_return_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_salevoid_company_id_1acbbdf8"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_salevoid_company_id_1acbbdf8" ON "sales_salevoid" ("company_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_salevoid_session_id_8b79d45c"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_salevoid_session_id_8b79d45c" ON "sales_salevoid" ("session_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_salevoid_store_id_1ffcfe60"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_salevoid_store_id_1ffcfe60" ON "sales_salevoid" ("store_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_stockmovement_sale_id_0bbd7c23"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_stockmovement_sale_id_0bbd7c23" ON "sales_stockmovement" ("sale_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_stockmovement_store_id_60f0340a"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_stockmovement_store_id_60f0340a" ON "sales_stockmovement" ("store_id")',
                ),
                migrations.RunSQL(
                    sql='DROP INDEX CONCURRENTLY IF EXISTS "sales_storeproduct_store_id_a1845b82"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_storeproduct_store_id_a1845b82" ON "sales_storeproduct" ("store_id")',
                ),
            ],
        )
    ]
