"""``reference_generation`` goes: nothing caches the till's reference data any more (sales 0007,
docs/performance.md "A lean checkout"). ``CASCADE`` also drops the sales tables' bump triggers
when this runs before sales 0007. Going back recreates nothing: nothing reads it."""

from django.db import migrations

TABLES = ("stores_company", "stores_store", "stores_register", "stores_membership")

DROP = (
    "".join(f"DROP TRIGGER IF EXISTS reference_generation_bump ON {table};\n" for table in TABLES)
    + """
DROP FUNCTION IF EXISTS reference_generation_bump() CASCADE;
DROP TABLE IF EXISTS reference_generation;
"""
)


class Migration(migrations.Migration):
    dependencies = [("stores", "0005_company_sunat_account_removed")]

    operations = [migrations.RunSQL(DROP, migrations.RunSQL.noop)]
