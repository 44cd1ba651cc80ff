"""Demo-history documents (``seed_demo --history-days``): flagged, settled as accepted, never queued.

Adding a NOT NULL column with a constant default is a catalog change in PostgreSQL 11+ (no table
rewrite), so it is quick on a large documents table.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sunat", "0007_sunat_accounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="sunatdocument",
            name="is_demo",
            field=models.BooleanField(default=False, verbose_name="demostración"),
        ),
    ]
