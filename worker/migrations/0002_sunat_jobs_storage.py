"""Storage parameters for the hot queue table ``sunat_jobs`` (QUEUE.md §4 "table hygiene").

Vacuum after 2 % (+100 rows) of dead tuples instead of 20 %, and leave 20 % of each page free
so that non-indexed updates (lease extension, errors) can be HOT.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("worker", "0001_heartbeat"),
        ("sunat", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "ALTER TABLE sunat_jobs SET (autovacuum_vacuum_scale_factor = 0.02, "
                "autovacuum_vacuum_threshold = 100, fillfactor = 80)"
            ),
            reverse_sql=(
                "ALTER TABLE sunat_jobs RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, fillfactor)"
            ),
        ),
    ]
