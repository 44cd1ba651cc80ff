"""``reference_generation``: one row whose ``generation`` goes up with every statement that writes
what a till caches (``bodegapos.generation``). This migration creates it and bumps it from
companies, stores, registers and memberships; sales 0003 adds products and store prices. The row
is updated in the writer's transaction: readers see the new generation exactly when they can see
the change, and a rolled-back change rolls its bump back too."""

from django.db import migrations

TABLES = ("stores_company", "stores_store", "stores_register", "stores_membership")

FORWARD = """
CREATE TABLE reference_generation (
    id smallint PRIMARY KEY CHECK (id = 1),
    generation bigint NOT NULL
);
INSERT INTO reference_generation (id, generation) VALUES (1, 0);

CREATE FUNCTION reference_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $bump$
BEGIN
    UPDATE reference_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END
$bump$;
""" + "".join(
    f"""
CREATE TRIGGER reference_generation_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION reference_generation_bump();
"""
    for table in TABLES
)

REVERSE = (
    "".join(f"DROP TRIGGER IF EXISTS reference_generation_bump ON {table};\n" for table in TABLES)
    + """
DROP FUNCTION IF EXISTS reference_generation_bump();
DROP TABLE IF EXISTS reference_generation;
"""
)


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
