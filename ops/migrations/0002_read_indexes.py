"""Indexes for ops' bounded reads (/metrics, /health?deep=true, monitor_db) and the worker's
retention of SUNAT exchanges, on tables the sunat app owns.

They live here, beside the queries that need them (ops.selectors, sunat.retention), as raw SQL:
two are partial indexes whose predicates are the literal WHERE clauses of those queries. Built
CONCURRENTLY (non-atomic migration): on a year of data they take seconds to minutes and must not
block checkouts meanwhile.

* ``sunat_attempt_started_idx`` — exchanges of the last hour (metrics), attempts past retention.
* ``sunat_jobs_live_status_idx`` — jobs by live status: finished/discarded rows (kept 30 days)
  are not in it.
* ``sunat_doc_unsettled_idx`` — documents SUNAT has not settled (pending, error): a handful,
  however many million are accepted.
"""

from django.db import migrations

INDEXES = [
    ("sunat_attempt_started_idx", "sunat_sunatattempt (started_at)"),
    ("sunat_jobs_live_status_idx", "sunat_jobs (status) WHERE status NOT IN ('done', 'discarded')"),
    ("sunat_doc_unsettled_idx", "sunat_sunatdocument (issued_at) WHERE status IN ('pending', 'error')"),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ops", "0001_initial"),
        ("sunat", "0004_jobs_notify_trigger"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}",
            reverse_sql=f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        )
        for name, definition in INDEXES
    ]
