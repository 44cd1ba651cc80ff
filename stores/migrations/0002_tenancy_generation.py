"""``stores_tenancy``: one row whose ``generation`` goes up with every statement that writes a
company, store, register or membership (statement-level triggers), so that a process can tell in
one cheap query whether a tenancy decision it cached still holds (``stores.selectors``). The row is
updated in the writer's transaction: readers see the new generation exactly when they can see the
change, and a rolled-back change rolls its bump back too."""

from django.db import migrations

TABLES = ("stores_company", "stores_store", "stores_register", "stores_membership")

FORWARD = """
CREATE TABLE stores_tenancy (
    id smallint PRIMARY KEY CHECK (id = 1),
    generation bigint NOT NULL
);
INSERT INTO stores_tenancy (id, generation) VALUES (1, 0);

CREATE FUNCTION stores_tenancy_bump() RETURNS trigger LANGUAGE plpgsql AS $bump$
BEGIN
    UPDATE stores_tenancy SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END
$bump$;
""" + "".join(
    f"""
CREATE TRIGGER stores_tenancy_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION stores_tenancy_bump();
"""
    for table in TABLES
)

REVERSE = "".join(f"DROP TRIGGER IF EXISTS stores_tenancy_bump ON {table};\n" for table in TABLES) + """
DROP FUNCTION IF EXISTS stores_tenancy_bump();
DROP TABLE IF EXISTS stores_tenancy;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
