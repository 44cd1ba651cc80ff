"""A SUNAT document has no reverse accessor to its sale (``related_name="+"``): documents never
reach into sales. State only: no SQL."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0005_returns_voids"),
        ("sunat", "0004_jobs_notify_trigger"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sale",
            name="sunat_document",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sunat.sunatdocument",
            ),
        ),
    ]
