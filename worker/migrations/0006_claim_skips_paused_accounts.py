"""The claim skips the jobs of companies whose SUNAT account is paused (``sunat_accounts``), no
longer ``stores_company``'s columns, which stores 0005 drops after sunat 0007 copies them.

A frozen copy of ``worker.queue.CLAIM_FUNCTION_SQL``; ``test_claim_function_matches_code``
checks that the installed function still runs the code's SQL.
"""

from django.db import migrations

CLAIM_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION worker_claim_jobs(p_owner text, p_limit integer, p_lease double precision)
RETURNS SETOF sunat_jobs LANGUAGE plpgsql VOLATILE
SET enable_sort = off SET enable_bitmapscan = off
AS $claim$
BEGIN
RETURN QUERY
WITH next AS (
    SELECT j.id
    FROM sunat_jobs j
    WHERE j.status = 'pending'
      AND j.run_at <= now()
      -- An InitPlan evaluated once (not an anti-join), so the scan stays on the claim index.
      AND NOT (j.company_id = ANY (ARRAY(SELECT a.company_id FROM sunat_accounts a WHERE a.paused_at IS NOT NULL)))
      -- CASE fixes the evaluation order: the subquery runs only for ordered kinds.
      AND CASE WHEN j.kind NOT IN ('summary', 'ticket') THEN true ELSE NOT EXISTS (
              SELECT 1
              FROM sunat_jobs o
              JOIN sunat_sunatdocument od ON od.id = o.document_id
              JOIN sunat_sunatdocument jd ON jd.id = j.document_id
              WHERE o.company_id = j.company_id
                AND od.series = jd.series
                AND o.kind IN ('summary', 'ticket')
                AND o.id <> j.id
                AND (o.status = 'running' OR (o.status = 'pending' AND (o.run_at, o.id) < (j.run_at, j.id)))
          ) END
    ORDER BY j.run_at, j.id
    LIMIT p_limit
    FOR UPDATE OF j SKIP LOCKED
)
UPDATE sunat_jobs
SET status = 'running',
    lease_owner = p_owner,
    lease_expires_at = now() + make_interval(secs => p_lease),
    attempts = sunat_jobs.attempts + 1,
    updated_at = now()
FROM next
WHERE sunat_jobs.id = next.id
RETURNING sunat_jobs.*;
END
$claim$
"""

# The function as worker 0004 installed it, for the reverse migration.
PREVIOUS_SQL = CLAIM_FUNCTION_SQL.replace(
    "SELECT a.company_id FROM sunat_accounts a WHERE a.paused_at IS NOT NULL",
    "SELECT c.id FROM stores_company c WHERE c.sunat_paused_at IS NOT NULL",
)


class Migration(migrations.Migration):
    dependencies = [
        ("worker", "0005_finish_and_claim_function"),
        ("sunat", "0007_sunat_accounts"),
    ]
    run_before = [("stores", "0005_company_sunat_account_removed")]

    operations = [migrations.RunSQL(sql=CLAIM_FUNCTION_SQL, reverse_sql=PREVIOUS_SQL)]
