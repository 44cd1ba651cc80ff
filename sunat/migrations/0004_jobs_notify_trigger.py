"""Every new pending job notifies the workers: ``pg_notify('sunat_jobs', company_id)`` from an
``AFTER INSERT`` trigger, so whoever enqueues (a sale, a summary, a credit note, a script) wakes
the listener without a statement of its own. NOTIFY is transactional: it is delivered at commit,
and a rolled-back sale notifies nobody."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION sunat_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $notify$
BEGIN
    PERFORM pg_notify('sunat_jobs', NEW.company_id::text);
    RETURN NULL;
END
$notify$;

CREATE TRIGGER sunat_jobs_notify AFTER INSERT ON sunat_jobs
FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION sunat_jobs_notify();
"""

REVERSE = """
DROP TRIGGER IF EXISTS sunat_jobs_notify ON sunat_jobs;
DROP FUNCTION IF EXISTS sunat_jobs_notify();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sunat", "0003_job_status_discarded"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
