"""Operations state: only the shared rate-limit counter (no domain state lives in ops)."""

from __future__ import annotations

from django.db import models


class RateLimitCounter(models.Model):
    """One fixed window of one rate-limit key; hits are added with a single UPSERT.

    The table is UNLOGGED (see the migration): counters are disposable and must not cost WAL.
    Old windows are pruned opportunistically by :func:`ops.ratelimit.ratelimit_prune`.
    """

    key = models.CharField(max_length=64)
    window_start = models.BigIntegerField()  # epoch seconds of the window's start (DB clock)
    window_seconds = models.PositiveIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "ops_ratelimit"
        verbose_name = "contador de límite"
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ops_ratelimit_key_window")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.hits}"
