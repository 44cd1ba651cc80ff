"""The tenancy boundary: companies (RUC), their stores, registers, series and memberships.

Every tenant-owned row in the project carries its ``company`` (and its ``store`` where it
belongs to one), so that data can later be distributed by company and no query or constraint
needs rows of two companies.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Left

from .validators import validate_establishment_code, validate_ruc, validate_ubigeo


class DocumentType(models.TextChoices):
    """Catalog 01 codes that BodegaPOS issues from a register's series."""

    FACTURA = "01", "Factura"
    BOLETA = "03", "Boleta de venta"
    NOTA_CREDITO = "07", "Nota de crédito"
    NOTA_DEBITO = "08", "Nota de débito"


class Company(models.Model):
    ruc = models.CharField("RUC", max_length=11, unique=True, validators=[validate_ruc])
    legal_name = models.CharField("razón social", max_length=200)
    trade_name = models.CharField("nombre comercial", max_length=200, blank=True)
    address = models.CharField("domicilio fiscal", max_length=200)
    ubigeo = models.CharField(max_length=6, validators=[validate_ubigeo])
    department = models.CharField("departamento", max_length=60, default="LIMA")
    province = models.CharField("provincia", max_length=60, default="LIMA")
    district = models.CharField("distrito", max_length=60, default="LIMA")
    # A cash close whose difference in any payment method exceeds this (in absolute value) needs
    # a manager's approval when a cashier closes.
    cash_difference_threshold = models.DecimalField(
        "diferencia de caja sin autorización (S/)",
        max_digits=12,
        decimal_places=2,
        default=Decimal("5.00"),
        help_text="Un cierre de caja con una diferencia mayor en cualquier medio de pago requiere la autorización de un supervisor.",
    )
    is_active = models.BooleanField(
        "activa", default=True, help_text="Una empresa desactivada no vende en ninguna de sus tiendas."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "empresa"
        verbose_name_plural = "empresas"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cash_difference_threshold__gte=0), name="company_cash_threshold_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ruc} {self.legal_name}"


class Store(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="stores", db_index=False)
    code = models.CharField(
        "código de establecimiento",
        max_length=4,
        validators=[validate_establishment_code],
        help_text="Código SUNAT de 4 dígitos (0000 = domicilio fiscal).",
    )
    name = models.CharField("nombre", max_length=120)
    address = models.CharField("dirección", max_length=200)
    ubigeo = models.CharField(max_length=6, validators=[validate_ubigeo])
    is_active = models.BooleanField("activa", default=True)

    class Meta:
        verbose_name = "tienda"
        verbose_name_plural = "tiendas"
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="store_code_unique_per_company"),
            # The parent key of composite (company_id, store_id) foreign keys.
            models.UniqueConstraint(fields=["company", "id"], name="store_company_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Register(models.Model):
    """A cash register (caja) of one store; it owns its document series."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="registers", db_index=False)
    code = models.CharField("código", max_length=20)
    name = models.CharField("nombre", max_length=60, blank=True)
    is_active = models.BooleanField("activa", default=True)

    class Meta:
        verbose_name = "caja"
        verbose_name_plural = "cajas"
        constraints = [
            models.UniqueConstraint(fields=["store", "code"], name="register_code_unique_per_store"),
            # The parent key of composite (company_id, register_id) foreign keys.
            models.UniqueConstraint(fields=["company", "id"], name="register_company_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.store.code}/{self.code}"

    def clean(self) -> None:
        if self.store_id and self.company_id and self.store.company_id != self.company_id:
            raise ValidationError({"store": "La tienda pertenece a otra empresa."})


class CounterGuardedModel(models.Model):
    """A row whose ``counter_fields`` move only through guarded UPDATEs under a row lock.

    ``save()`` of an existing row writes every other column and never a counter: a form or the
    admin read the row before a concurrent checkout moved it, and a full save would write the old
    value back (a reused correlative, a cached stock that no longer equals its ledger).
    """

    counter_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in self.counter_fields
            ]
        super().save(*args, **kwargs)


# First letter of a series by document type (SUNAT's series patterns): F facturas, B boletas;
# a note's series starts with B for a boleta's notes and F for a factura's.
SERIES_PREFIXES = {"01": "F", "03": "B", "07": "BF", "08": "BF"}


class DocumentSeries(CounterGuardedModel):
    """A SUNAT series (B001, F001, …) and its last correlative.

    The row is the lock that makes correlatives gap-free: checkout takes it with
    ``SELECT … FOR UPDATE`` and increments ``last_number`` in the sale's transaction.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="series")
    document_type = models.CharField("tipo", max_length=2, choices=DocumentType.choices)
    series = models.CharField("serie", max_length=4)
    last_number = models.PositiveIntegerField("último correlativo", default=0)
    counter_fields = ("last_number",)  # moved only by checkout's locked UPDATE … RETURNING

    class Meta:
        verbose_name = "serie"
        verbose_name_plural = "series"
        constraints = [
            models.UniqueConstraint(fields=["company", "series"], name="series_unique_per_company"),
            # One series per document type and register; notes (07, 08) have one per family
            # (``B…`` for a boleta's notes, ``F…`` for a factura's), told apart by the first letter.
            models.UniqueConstraint(
                "company",
                "register",
                "document_type",
                Left("series", 1),
                name="one_series_per_type_and_family_per_register",
            ),
            models.CheckConstraint(condition=models.Q(last_number__lte=99_999_999), name="series_number_max_8_digits"),
        ]

    def __str__(self) -> str:
        return self.series

    def clean(self) -> None:
        prefixes = SERIES_PREFIXES.get(self.document_type, "")
        series = self.series or ""
        if prefixes and not (len(series) == 4 and series[0] in prefixes and series.isalnum() and series.isupper()):
            allowed = " o ".join(prefixes)
            raise ValidationError(
                {"series": f"La serie debe tener 4 caracteres (letras mayúsculas o dígitos) y empezar con {allowed}."}
            )
        if self.register_id and self.store_id and self.register.store_id != self.store_id:
            raise ValidationError({"register": "La caja pertenece a otra tienda."})


class Role(models.TextChoices):
    CASHIER = "cashier", "Cajero"
    STORE_MANAGER = "manager", "Administrador de tienda"
    COMPANY_ADMIN = "admin", "Administrador de empresa"


class Membership(models.Model):
    """A user's role in a company; ``store`` is empty for company-wide roles (company admin)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships")
    role = models.CharField("rol", max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = "membresía"
        verbose_name_plural = "membresías"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "company", "store"], name="membership_unique", nulls_distinct=False
            ),
            models.CheckConstraint(
                condition=models.Q(role="admin") | models.Q(store__isnull=False),
                name="membership_store_required_below_admin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.store or self.company}"

    def clean(self) -> None:
        if self.store_id and self.company_id and self.store.company_id != self.company_id:
            raise ValidationError({"store": "La tienda pertenece a otra empresa."})


class ApproverPin(models.Model):
    """A manager's approval PIN in one company (4–8 digits), hashed with Django's password hashers.

    Who may approve is decided by the user's memberships (a manager of the store or an admin of
    the company), not by this row: a PIN alone grants nothing.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approver_pins")
    pin_hash = models.CharField("PIN (hash)", max_length=128)
    updated_at = models.DateTimeField("actualizado", auto_now=True)

    class Meta:
        verbose_name = "PIN de autorización"
        verbose_name_plural = "PIN de autorización"
        constraints = [models.UniqueConstraint(fields=["company", "user"], name="approver_pin_unique_per_company")]

    def __str__(self) -> str:
        return f"PIN de {self.user}"


class ApprovalFailure(models.Model):
    """One refused approval (wrong PIN, unknown manager, not a manager of the store): the counter
    behind the per-manager limit. Rows older than the limit's window are deleted as new ones come."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    username = models.CharField(max_length=150)
    created_at = models.DateTimeField(db_index=False)

    class Meta:
        indexes = [models.Index(fields=["company", "username", "created_at"], name="approval_failure_idx")]

    def __str__(self) -> str:
        return f"{self.username} @ {self.created_at:%Y-%m-%d %H:%M}"


class AuditChain(models.Model):
    """The head of one company's audit chain: the last event's number and hash.

    Appending an event locks this row until the appending transaction ends, so the events of one
    company form one unbroken chain however many are written at once.
    """

    company = models.OneToOneField(Company, on_delete=models.PROTECT, primary_key=True, related_name="+")
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"cadena de {self.company_id} (#{self.last_seq})"


class AuditEvent(models.Model):
    """An append-only record of a sensitive action, chained per company.

    ``hash`` is SHA-256 over the event's canonical JSON (company, sequence, time, store, actor,
    approver, action, object, data) and ``prev_hash``, the previous event's hash in the same
    company (empty for the first). The database refuses UPDATE and DELETE on this table
    (trigger ``audit_event_append_only``).
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    seq = models.BigIntegerField("n.º")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="usuario",
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="autorizó",
    )
    action = models.CharField("acción", max_length=40)
    object_type = models.CharField("objeto", max_length=40, blank=True)
    object_id = models.CharField("id del objeto", max_length=64, blank=True)
    data = models.JSONField("datos", default=dict)
    created_at = models.DateTimeField("fecha")
    prev_hash = models.CharField("hash anterior", max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "evento de auditoría"
        verbose_name_plural = "auditoría"
        constraints = [models.UniqueConstraint(fields=["company", "seq"], name="audit_event_seq_unique")]
        indexes = [models.Index(fields=["company", "action", "created_at"], name="audit_event_action_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"
