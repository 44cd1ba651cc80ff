"""Foreign keys that another index already leads with (a composite index, a unique constraint, a
named index) lose their own index (``db_index=False``; tests/test_schema_indexes.py): every
insert of the row paid for an index the other one already gives. Only the indexes are dropped,
``CONCURRENTLY`` (no table lock held while tills sell); the state's ``AlterField`` would also
drop and re-validate each foreign key constraint, scanning the table under lock."""

import django.db.models.deletion
from django.db import migrations, models


# (table, foreign key column, the key's own index) of each index dropped.
DROPPED = (
    ("sales_cashmovement", "session_id", "sales_cashmovement_session_id_f4c35ceb"),
    ("sales_cashsession", "company_id", "sales_cashsession_company_id_3a7cffe3"),
    ("sales_cashsession", "store_id", "sales_cashsession_store_id_dfbe1a08"),
    ("sales_customer", "company_id", "sales_customer_company_id_c7b669d0"),
    ("sales_idempotentrequest", "company_id", "sales_idempotentrequest_company_id_7600b271"),
    ("sales_payment", "store_id", "sales_payment_store_id_f1413925"),
    ("sales_product", "company_id", "sales_product_company_id_c9796672"),
    ("sales_refund", "sale_id", "sales_refund_sale_id_8376da19"),
    ("sales_refund", "session_id", "sales_refund_session_id_872634c3"),
    ("sales_sale", "company_id", "sales_sale_company_id_6e88f52f"),
    ("sales_sale", "session_id", "sales_sale_session_id_28de17ce"),
    ("sales_sale", "store_id", "sales_sale_store_id_15a113d4"),
    ("sales_saleline", "company_id", "sales_saleline_company_id_52350018"),
    ("sales_saleline", "sale_id", "sales_saleline_sale_id_8f707bda"),
    ("sales_saleline", "store_id", "sales_saleline_store_id_4527a41f"),
    ("sales_salereturn", "company_id", "sales_salereturn_company_id_8fe04774"),
    ("sales_salereturn", "session_id", "sales_salereturn_session_id_f65ab396"),
    ("sales_salereturn", "store_id", "sales_salereturn_store_id_0542dd60"),
    ("sales_salereturnline", "sale_return_id", "sales_salereturnline_sale_return_id_15b28494"),
    ("sales_salevoid", "company_id", "sales_salevoid_company_id_1acbbdf8"),
    ("sales_salevoid", "session_id", "sales_salevoid_session_id_8b79d45c"),
    ("sales_salevoid", "store_id", "sales_salevoid_store_id_1ffcfe60"),
    ("sales_stockmovement", "sale_id", "sales_stockmovement_sale_id_0bbd7c23"),
    ("sales_stockmovement", "store_id", "sales_stockmovement_store_id_60f0340a"),
    ("sales_storeproduct", "store_id", "sales_storeproduct_store_id_a1845b82"),
)


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
                    sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in DROPPED
            ],
        )
    ]
