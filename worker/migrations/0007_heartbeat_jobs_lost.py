"""Each worker's heartbeat reports the jobs it lost (a finish it could not apply), for /metrics.

A database default (0): workers of the previous release, which do not write the column, still beat.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("worker", "0006_claim_skips_paused_accounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="workerheartbeat",
            name="jobs_lost",
            field=models.PositiveIntegerField(db_default=0, verbose_name="perdidos (los recupera otro)"),
        ),
    ]
