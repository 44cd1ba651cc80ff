"""Products and store prices bump ``reference_generation`` (stores 0002), so that a till's cached
catalog (``sales.services.checkout``) is refreshed by the next sale after any change. A store
product's stock is not part of it: the sale's own ``UPDATE … SET stock`` names no other column and
does not fire the trigger, while an admin ``save()`` (all columns) does."""

from django.db import migrations

FORWARD = """
CREATE TRIGGER reference_generation_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sales_product
FOR EACH STATEMENT EXECUTE FUNCTION reference_generation_bump();

CREATE TRIGGER reference_generation_bump AFTER INSERT OR DELETE OR TRUNCATE ON sales_storeproduct
FOR EACH STATEMENT EXECUTE FUNCTION reference_generation_bump();

CREATE TRIGGER reference_generation_bump_prices
AFTER UPDATE OF company_id, store_id, product_id, price, is_active ON sales_storeproduct
FOR EACH STATEMENT EXECUTE FUNCTION reference_generation_bump();
"""

REVERSE = """
DROP TRIGGER IF EXISTS reference_generation_bump ON sales_product;
DROP TRIGGER IF EXISTS reference_generation_bump ON sales_storeproduct;
DROP TRIGGER IF EXISTS reference_generation_bump_prices ON sales_storeproduct;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0002_icbper_rates"),
        ("stores", "0002_reference_generation"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
