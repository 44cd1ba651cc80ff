"""Worker runtime state. The queue itself is ``sunat.models.SunatJob`` (table ``sunat_jobs``)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now


class WorkerHeartbeat(models.Model):
    """One row per ``sunat_worker`` process, upserted every few seconds from the DB clock.

    ``name`` is also the lease owner the process writes on the jobs it claims, so an operator
    can tell which process holds a running job. ``stopped_at`` is set on a clean exit; a row
    whose ``beat_at`` is old and ``stopped_at`` empty is a worker that died.
    """

    name = models.CharField("nombre", max_length=100, unique=True)
    host = models.CharField("host", max_length=100)
    pid = models.PositiveIntegerField("PID")
    concurrency = models.PositiveIntegerField("concurrencia", default=0)
    listening = models.BooleanField("escucha NOTIFY", default=False)
    started_at = models.DateTimeField("iniciado", db_default=Now())
    beat_at = models.DateTimeField("último latido", db_default=Now())
    stopped_at = models.DateTimeField("detenido", null=True, blank=True)
    jobs_done = models.PositiveIntegerField("trabajos terminados", default=0)
    jobs_retried = models.PositiveIntegerField("reintentos", default=0)
    jobs_failed = models.PositiveIntegerField("fallidos/agotados/pausados", default=0)
    jobs_reaped = models.PositiveIntegerField("recuperados por vencimiento", default=0)
    # Jobs whose finish this process could not apply (lease lost, finish refused, an exception
    # escaped the slot): the reaper or the lease's new owner settles them. A database default, so
    # a process of the previous release (which does not write it) can still beat.
    jobs_lost = models.PositiveIntegerField("perdidos (los recupera otro)", db_default=0)
    rss_bytes = models.PositiveBigIntegerField("memoria residente (bytes)", default=0)

    class Meta:
        verbose_name = "proceso worker"
        verbose_name_plural = "procesos worker"
        indexes = [models.Index(fields=["beat_at"], name="worker_heartbeat_beat_idx")]

    def __str__(self) -> str:
        return self.name
