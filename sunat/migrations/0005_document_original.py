"""A document's ``original``: the invoice a note modifies, or the document a void annuls.

Tenant rule (ARCHITECTURE.md "Rules for every new tenant table"): the reference also goes
through the company. Django keeps its single-column foreign key; the database gets
``UNIQUE (company_id, id)`` on the parent and a composite foreign key ``(company_id,
original_id) → (company_id, id)``, so a note or void can never point at another company's
document (``MATCH SIMPLE``: a NULL ``original_id`` is not checked).
"""

import django.db.models.deletion
from django.db import migrations, models

COMPOSITE_FK = """
ALTER TABLE sunat_sunatdocument
    ADD CONSTRAINT sunat_document_original_same_company
    FOREIGN KEY (company_id, original_id) REFERENCES sunat_sunatdocument (company_id, id)
    DEFERRABLE INITIALLY DEFERRED;
"""
COMPOSITE_FK_REVERSE = "ALTER TABLE sunat_sunatdocument DROP CONSTRAINT IF EXISTS sunat_document_original_same_company;"


class Migration(migrations.Migration):
    dependencies = [
        ("sunat", "0004_jobs_notify_trigger"),
    ]

    operations = [
        migrations.AddField(
            model_name="sunatdocument",
            name="original",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dependents",
                to="sunat.sunatdocument",
                verbose_name="original",
            ),
        ),
        migrations.AddConstraint(
            model_name="sunatdocument",
            constraint=models.UniqueConstraint(fields=("company", "id"), name="sunat_document_company_id_key"),
        ),
        migrations.RunSQL(COMPOSITE_FK, COMPOSITE_FK_REVERSE),
    ]
