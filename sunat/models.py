"""SUNAT records: each company's SUNAT account, the document as issued (snapshot, signed bytes,
CDR) and its queue rows.

A ``SunatDocument`` and its first ``SunatJob`` are written in the issuer's transaction (the
transactional outbox); the worker app drains ``sunat_jobs``.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now

from stores.models import Company, Store

from .fields import EncryptedBinaryField, EncryptedTextField


class SunatAccount(models.Model):
    """A company's SUNAT account: its clave SOL, its signing certificate and whether its sends
    are paused. At most one per company (the company is the primary key); a company without one
    has no credentials and no certificate (its first job pauses it, and creates the row).

    Secrets (``sol_password``, ``certificate``, ``certificate_password``) are Fernet-encrypted at
    rest and never shown: the admin has write-only inputs for them. ``paused_at`` is set by the
    worker when SUNAT answers a configuration error (credentials, certificate): every job of the
    company waits until a person fixes it and resumes (``worker.queue.company_resume``).
    """

    company = models.OneToOneField(
        Company, on_delete=models.PROTECT, primary_key=True, related_name="+", verbose_name="empresa"
    )
    # The clave SOL user without the RUC prefix, and its password.
    sol_user = models.CharField("usuario SOL", max_length=30, blank=True)
    sol_password = EncryptedTextField("clave SOL", blank=True)
    # PKCS#12 (.pfx/.p12) certificate and its password (sunat.certificates.company_certificate_set).
    certificate = EncryptedBinaryField("certificado (.pfx)", null=True, blank=True, editable=False)
    certificate_password = EncryptedTextField("contraseña del certificado", blank=True)
    certificate_subject = models.CharField("titular del certificado", max_length=300, blank=True)
    certificate_expires_at = models.DateTimeField("vencimiento del certificado", null=True, blank=True)
    paused_at = models.DateTimeField("envíos pausados desde", null=True, blank=True)
    pause_reason = models.TextField("motivo de la pausa", blank=True)

    class Meta:
        db_table = "sunat_accounts"
        verbose_name = "cuenta SUNAT"
        verbose_name_plural = "cuentas SUNAT"

    def __str__(self) -> str:
        return f"Cuenta SUNAT de {self.company}"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "Pendiente"
    ACCEPTED = "accepted", "Aceptado"
    OBSERVED = "observed", "Aceptado con observaciones"
    REJECTED = "rejected", "Rechazado"
    ERROR = "error", "Error"


class SunatDocument(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    document_type = models.CharField("tipo", max_length=2)  # 01 03 07 08 RC RA
    series = models.CharField("serie", max_length=12)  # B001, or RC-20261127 for summaries
    number = models.PositiveIntegerField("número")
    issued_at = models.DateTimeField("emitido")
    snapshot = models.JSONField("datos fiscales")
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # DigestValue of the signature: the "hash" of the receipt and the QR.
    xml_hash = models.CharField("hash", max_length=64, blank=True)
    # The exact signed bytes: stored before the first send, re-sends send these bytes.
    signed_xml = models.BinaryField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    cdr_zip = models.BinaryField(null=True, blank=True)
    response_code = models.CharField("código de respuesta", max_length=10, blank=True)
    response_description = models.TextField("descripción", blank=True)
    observations = models.JSONField("observaciones", default=list, blank=True)
    ticket = models.CharField(max_length=40, blank=True)
    # Set just before a send whose fate SUNAT has not told us yet; cleared by any answer that
    # settles it. Set when a job starts means a previous send may have reached SUNAT (timeout,
    # crashed worker): ask SUNAT (getStatusCdr / 1033) before sending again (invariant 6).
    unconfirmed_send_at = models.DateTimeField("envío sin confirmar desde", null=True, blank=True)
    # The document this one depends on: the invoice a note (07/08) modifies, or the document a
    # void (RA/RC) annuls. It is not sent before SUNAT holds the original (the worker waits).
    # Same company, enforced by the composite foreign key of migration 0005.
    original = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="dependents", verbose_name="original"
    )
    # Demo history (``seed_demo --history-days``): issued already settled as accepted, never
    # queued, never signed nor sent; SUNAT never saw it. Exports leave it out and the till refuses
    # to return or void it (``sunat.selectors.sunat_document_is_demo``).
    is_demo = models.BooleanField("demostración", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "comprobante electrónico"
        verbose_name_plural = "comprobantes electrónicos"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "document_type", "series", "number"], name="sunat_document_unique_number"
            ),
            # The target of composite foreign keys (company_id, x_id) from other tenant rows.
            models.UniqueConstraint(fields=["company", "id"], name="sunat_document_company_id_key"),
        ]
        indexes = [models.Index(fields=["company", "status", "issued_at"], name="sunat_doc_status_idx")]

    def __str__(self) -> str:
        return f"{self.document_type} {self.series}-{self.number}"

    @property
    def full_number(self) -> str:
        return f"{self.series}-{self.number}"


class SunatAttempt(models.Model):
    """One exchange with SUNAT (or a local step that failed) for a document: the history shown
    in admin. ``job_id`` is kept as a plain number because finished jobs are purged."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(SunatDocument, on_delete=models.CASCADE, related_name="attempts", db_index=False)
    job_id = models.BigIntegerField(null=True, blank=True)
    operation = models.CharField("operación", max_length=20)  # sign, sendBill, sendSummary, getStatus, getStatusCdr
    started_at = models.DateTimeField("inicio")
    duration_ms = models.PositiveIntegerField("duración (ms)", default=0)
    code = models.CharField("código", max_length=24, blank=True)
    description = models.TextField("descripción", blank=True)
    category = models.CharField("resultado", max_length=12, blank=True)

    class Meta:
        verbose_name = "intento SUNAT"
        verbose_name_plural = "intentos SUNAT"
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["document", "started_at"], name="sunat_attempt_doc_idx")]

    def __str__(self) -> str:
        return f"{self.operation} {self.code} ({self.started_at:%Y-%m-%d %H:%M:%S})"


class JobKind(models.TextChoices):
    SEND_DOCUMENT = "send", "Enviar comprobante"
    SEND_SUMMARY = "summary", "Enviar resumen/baja"
    POLL_TICKET = "ticket", "Consultar ticket"
    VERIFY = "verify", "Verificar en SUNAT"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pendiente"
    RUNNING = "running", "En curso"
    DONE = "done", "Terminado"
    FAILED = "failed", "Requiere corrección"
    DEAD = "dead", "Agotado"
    PAUSED = "paused", "Pausado"
    DISCARDED = "discarded", "Descartado"  # a person gave up on it, with a reason: no alert


LIVE_JOB_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.PAUSED)


class SunatJob(models.Model):
    """One unit of SUNAT work. Claimed with ``FOR UPDATE SKIP LOCKED`` and a lease.

    Times that decide when a job runs (``run_at``, ``lease_expires_at``) come from the database
    clock, never from Python.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(SunatDocument, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=10, choices=JobKind.choices, default=JobKind.SEND_DOCUMENT)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    run_at = models.DateTimeField(db_default=Now())
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sunat_jobs"
        verbose_name = "trabajo SUNAT"
        verbose_name_plural = "trabajos SUNAT"
        constraints = [
            models.UniqueConstraint(
                fields=["document"],
                condition=models.Q(status__in=LIVE_JOB_STATUSES),
                name="sunat_jobs_one_live_job_per_document",
            ),
        ]
        indexes = [
            # Matches the claim query exactly: WHERE status = 'pending' ORDER BY run_at, id.
            models.Index(fields=["run_at", "id"], condition=models.Q(status="pending"), name="sunat_jobs_claim_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class SummarySequence(models.Model):
    """The last correlative of a company's RC or RA for one generation date (``RA-YYYYMMDD-N``).

    Taken by ``sunat.services.sunat_summary_sequence_next`` with one ``INSERT … ON CONFLICT DO
    UPDATE … RETURNING`` inside the issuer's transaction: the row stays locked until that
    transaction ends, so concurrent issuers get distinct numbers and a rollback gives its number
    back (gap-free). One row per company, kind and day: no global row every company writes.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField("tipo", max_length=2)  # RC or RA
    issue_date = models.DateField("fecha de generación")
    last = models.PositiveIntegerField("último correlativo")

    class Meta:
        db_table = "sunat_summary_sequences"
        verbose_name = "correlativo de resumen"
        verbose_name_plural = "correlativos de resúmenes"
        constraints = [
            models.UniqueConstraint(fields=["company", "kind", "issue_date"], name="sunat_summary_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}-{self.issue_date:%Y%m%d}: {self.last}"
