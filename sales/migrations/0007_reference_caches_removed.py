"""The ICBPER table leaves the models: its one home is ``sunat.rules.icbper_rate``, and the till no
longer caches its reference data (docs/performance.md, "A lean checkout").

Expand, then contract: only Django's state changes here. The table ``sales_icbperrate`` and
``reference_generation`` (stores 0002, with its function and the bump triggers of stores 0002 and
sales 0003) stay in the database for this release, because the web processes of the release
before it still read them while a deploy rolls out (the ``release`` step migrates first). The next
release drops them (docs/runbook.md, "Deploys"). Going back restores the state; nothing in the
database moved."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("sales", "0006_sale_document_no_reverse_accessor")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="IcbperRate")]),
    ]
