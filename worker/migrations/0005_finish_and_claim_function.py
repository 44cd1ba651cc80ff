"""Finish-as-done and claim the next job in one transaction (the hot path of a busy queue).

A frozen copy of ``worker.queue.FINISH_AND_CLAIM_FUNCTION_SQL``; ``test_claim_function_matches_code``
checks that the installed function still runs the code's SQL.
"""

from django.db import migrations

FINISH_AND_CLAIM_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION worker_finish_done_and_claim(p_id bigint, p_owner text, p_limit integer, p_lease double precision)
RETURNS SETOF sunat_jobs LANGUAGE plpgsql VOLATILE
AS $finish$
BEGIN
RETURN QUERY UPDATE sunat_jobs SET status = 'done', finished_at = now(), lease_owner = '',
    lease_expires_at = NULL, updated_at = now()
WHERE id = p_id AND lease_owner = p_owner AND status = 'running'
RETURNING sunat_jobs.*;
RETURN QUERY SELECT * FROM worker_claim_jobs(p_owner, p_limit, p_lease);
END
$finish$
"""


class Migration(migrations.Migration):
    dependencies = [
        ("worker", "0004_claim_function"),
    ]

    operations = [
        migrations.RunSQL(
            sql=FINISH_AND_CLAIM_FUNCTION_SQL,
            reverse_sql="DROP FUNCTION IF EXISTS worker_finish_done_and_claim(bigint, text, integer, double precision)",
        ),
    ]
