"""The till reads its register and catalogue with plain queries now (docs/performance.md, "A lean
checkout"): the statement triggers that bumped ``reference_generation`` on every product and
store-price write go (stores 0006 drops the table and its function), and the ICBPER table goes
too: its one home is ``sunat.rules.icbper_rate``.

Going back recreates an empty ICBPER table and no triggers (nothing reads either any more)."""

from django.db import migrations

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS reference_generation_bump ON sales_product;
DROP TRIGGER IF EXISTS reference_generation_bump ON sales_storeproduct;
DROP TRIGGER IF EXISTS reference_generation_bump_prices ON sales_storeproduct;
"""


class Migration(migrations.Migration):
    dependencies = [("sales", "0006_sale_document_no_reverse_accessor")]

    operations = [
        migrations.RunSQL(DROP_TRIGGERS, migrations.RunSQL.noop),
        migrations.DeleteModel(name="IcbperRate"),
    ]
