"""An index for ops' bounded read of voids SUNAT rejected (health, metrics): a handful of rows,
however many million documents are accepted. Built CONCURRENTLY, like 0002's."""

from django.db import migrations

NAME = "sunat_doc_voids_rejected_idx"
DEFINITION = "sunat_sunatdocument (issued_at) WHERE document_type IN ('RA', 'RC') AND status = 'rejected'"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ops", "0002_read_indexes"),
        ("sunat", "0006_summary_sequences"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON {DEFINITION}",
            reverse_sql=f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}",
        )
    ]
