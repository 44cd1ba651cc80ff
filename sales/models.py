"""The sales domain: catalogue, per-store price and stock, the stock ledger, customers, sales.

Tenancy: every row carries its ``company``, and its ``store`` where it belongs to one, so data
can be distributed by company and nothing needs rows of two companies. Listing indexes start
with ``store``. A foreign key that another index already leads with (a composite index, a unique
constraint, a named index) has no index of its own (``db_index=False``): every insert would pay
for what the other index gives (``tests/test_schema_indexes.py`` holds the whole schema to it).

Stock: ``StoreProduct.stock`` is a cache of the ``StockMovement`` ledger. It is changed only by
``sales.services.stock`` and ``sales.services.checkout``, always together with a movement row in
the same transaction, so the cached quantity equals the sum of movements.

Money: every amount stored here was rounded by ``sales.money`` before it was saved.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError

from stores.models import Company, CounterGuardedModel, DocumentSeries, DocumentType, Register, Store
from stores.validators import DOC_TYPE_CHOICES, compact_identity, validate_identity

# Catalog 03 units a bodega uses.
UNIT_CHOICES = [("NIU", "Unidad (bienes)"), ("ZZ", "Unidad (servicios)"), ("KGM", "Kilogramo")]
# Catalog 07, the three onerous affectations.
AFFECTATION_CHOICES = [("10", "Gravado - IGV"), ("20", "Exonerado"), ("30", "Inafecto")]

AMOUNT = {"max_digits": 12, "decimal_places": 2}
QUANTITY = {"max_digits": 12, "decimal_places": 3}


def validate_barcode(value: str) -> None:
    """EAN-8 or EAN-13 with a correct check digit (python-stdnum)."""
    if len(value or "") not in (8, 13):
        raise ValidationError("Código de barras inválido: debe ser EAN-8 o EAN-13.", code="barcode")
    try:
        ean.validate(value)
    except StdnumError:
        raise ValidationError(
            "Código de barras inválido: el dígito verificador no corresponde.", code="barcode"
        ) from None


class Product(models.Model):
    """A catalogue item of a company; price and stock live per store in :class:`StoreProduct`."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    sku = models.CharField("SKU", max_length=40)
    # NULL, not "", for products without a barcode: the barcode is unique per company and NULLs
    # never collide (an empty string would).
    barcode = models.CharField(  # noqa: DJ001 - NULL: many products have none, and NULLs never collide
        "código de barras", max_length=13, blank=True, null=True, validators=[validate_barcode]
    )
    name = models.CharField("nombre", max_length=200)
    unit_code = models.CharField("unidad", max_length=3, choices=UNIT_CHOICES, default="NIU")
    affectation = models.CharField("afectación IGV", max_length=2, choices=AFFECTATION_CHOICES, default="10")
    is_plastic_bag = models.BooleanField(
        "bolsa plástica (ICBPER)", default=False, help_text="Se vende solo en unidades enteras."
    )
    allows_negative_stock = models.BooleanField(
        "permite stock negativo",
        default=False,
        help_text="Pan y huevos: se puede vender sin stock registrado. Cigarrillos: nunca.",
    )
    image_url = models.URLField("imagen (URL)", blank=True)
    is_active = models.BooleanField("activo", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "producto"
        verbose_name_plural = "productos"
        constraints = [
            models.UniqueConstraint(fields=["company", "sku"], name="product_sku_unique_per_company"),
            models.UniqueConstraint(fields=["company", "barcode"], name="product_barcode_unique_per_company"),
            models.CheckConstraint(
                condition=~models.Q(is_plastic_bag=True, unit_code="KGM"), name="product_bag_sold_in_units"
            ),
        ]
        indexes = [models.Index(fields=["company", "name"], name="product_company_name_idx")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def clean(self) -> None:
        if self.barcode == "":
            self.barcode = None
        if self.is_plastic_bag and self.unit_code == "KGM":
            raise ValidationError({"unit_code": "Las bolsas plásticas se venden por unidad."})


class StoreProduct(CounterGuardedModel):
    """A product as sold in one store: its price (IGV included) and cached stock."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="store_products")
    price = models.DecimalField("precio (con IGV)", **AMOUNT)
    # Cache of the sum of StockMovement.quantity; change only through sales.services.
    stock = models.DecimalField("stock", **QUANTITY, default=0, editable=False)
    counter_fields = ("stock",)  # moved only with a ledger row, by guarded UPDATEs
    is_active = models.BooleanField("activo", default=True)

    class Meta:
        verbose_name = "producto en tienda"
        verbose_name_plural = "productos en tienda"
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="store_product_unique"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="store_product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.store_id}"

    def clean(self) -> None:
        if self.store_id and self.company_id and self.store.company_id != self.company_id:
            raise ValidationError({"store": "La tienda pertenece a otra empresa."})
        if self.product_id and self.company_id and self.product.company_id != self.company_id:
            raise ValidationError({"product": "El producto pertenece a otra empresa."})


class MovementKind(models.TextChoices):
    SALE = "sale", "Venta"
    RETURN = "return", "Devolución"
    PURCHASE = "purchase", "Compra"
    ADJUSTMENT = "adjustment", "Ajuste"
    TRANSFER = "transfer", "Transferencia"


class StockMovement(models.Model):
    """The stock ledger: signed quantities whose sum is ``StoreProduct.stock``. Append-only."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", db_index=False)
    store_product = models.ForeignKey(StoreProduct, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField("tipo", max_length=10, choices=MovementKind.choices)
    quantity = models.DecimalField("cantidad", **QUANTITY)
    sale = models.ForeignKey("Sale", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField("nota", max_length=200, blank=True)

    class Meta:
        verbose_name = "movimiento de stock"
        verbose_name_plural = "movimientos de stock"
        indexes = [
            models.Index(fields=["store", "store_product", "created_at"], name="stock_mov_store_idx"),
            models.Index(fields=["sale"], name="stock_mov_sale_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity}"


class Customer(models.Model):
    """A buyer known to a company (catalog-06 identity)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    doc_type = models.CharField("tipo de documento", max_length=1, choices=DOC_TYPE_CHOICES)
    doc_number = models.CharField("número de documento", max_length=15)
    name = models.CharField("nombre o razón social", max_length=200)
    address = models.CharField("dirección", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "cliente"
        verbose_name_plural = "clientes"
        constraints = [
            models.UniqueConstraint(fields=["company", "doc_type", "doc_number"], name="customer_unique_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.doc_number} {self.name}"

    def clean(self) -> None:
        try:
            validate_identity(doc_type=self.doc_type, doc_number=self.doc_number)
        except ValidationError as exc:
            raise ValidationError({"doc_number": exc.messages}) from exc
        self.doc_number = compact_identity(doc_type=self.doc_type, doc_number=self.doc_number)


class Sale(models.Model):
    """A completed sale; it exists with its lines, payments, movements and SUNAT document or not at all."""

    public_id = models.UUIDField("id público", default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", db_index=False)
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+")
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    document_series = models.ForeignKey(
        DocumentSeries, on_delete=models.PROTECT, related_name="+", verbose_name="serie (registro)"
    )
    document_type = models.CharField("tipo", max_length=2, choices=DocumentType.choices)
    series = models.CharField("serie", max_length=4)
    number = models.PositiveIntegerField("número")
    idempotency_key = models.UUIDField("clave de idempotencia")
    fingerprint = models.CharField("huella de la solicitud", max_length=64)
    # Customer as printed on the document (snapshot) plus the optional catalogue row.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    customer_doc_type = models.CharField("tipo doc. cliente", max_length=1, default="0")
    customer_doc_number = models.CharField("doc. cliente", max_length=15, default="-")
    customer_name = models.CharField("cliente", max_length=200, default="CLIENTES VARIOS")
    customer_address = models.CharField("dirección cliente", max_length=200, blank=True)
    gravadas = models.DecimalField("op. gravadas", **AMOUNT)
    exoneradas = models.DecimalField("op. exoneradas", **AMOUNT)
    inafectas = models.DecimalField("op. inafectas", **AMOUNT)
    igv = models.DecimalField("IGV", **AMOUNT)
    icbper = models.DecimalField("ICBPER", **AMOUNT)
    total = models.DecimalField("total", **AMOUNT)
    # Cash rounding in the customer's favour (≥ 0), recorded apart; the fiscal total is unchanged.
    cash_rounding = models.DecimalField("redondeo", **AMOUNT, default=0)
    change = models.DecimalField("vuelto", **AMOUNT, default=0)
    issued_at = models.DateTimeField("emitido")
    sunat_document = models.OneToOneField(
        "sunat.SunatDocument", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The register's open cash session the sale was rung up in. NOT NULL for every sale since
    # sessions exist (a NOT VALID check constraint, sales 0004); older rows have none.
    session = models.ForeignKey(
        "CashSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales",
        verbose_name="turno",
        db_index=False,
    )
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "venta"
        verbose_name_plural = "ventas"
        constraints = [
            models.UniqueConstraint(fields=["company", "idempotency_key"], name="sale_idempotency_key_unique"),
            models.UniqueConstraint(fields=["company", "document_type", "series", "number"], name="sale_number_unique"),
            models.UniqueConstraint(fields=["company", "id"], name="sale_company_id_unique"),
        ]
        indexes = [
            models.Index(fields=["store", "-issued_at"], name="sale_store_issued_idx"),
            models.Index(fields=["store", "register", "-issued_at"], name="sale_store_register_idx"),
            models.Index(fields=["session"], name="sale_session_idx"),
        ]

    def __str__(self) -> str:
        return self.full_number

    @property
    def full_number(self) -> str:
        return f"{self.series}-{self.number}"


class SaleLine(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", db_index=False)
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="lines", db_index=False)
    line_no = models.PositiveSmallIntegerField("ítem")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField("SKU", max_length=40)
    barcode = models.CharField("código de barras", max_length=13, blank=True)
    description = models.CharField("descripción", max_length=200)
    unit_code = models.CharField("unidad", max_length=3)
    quantity = models.DecimalField("cantidad", **QUANTITY)
    unit_price = models.DecimalField("precio unitario (con IGV)", **AMOUNT)
    unit_value = models.DecimalField("valor unitario", max_digits=22, decimal_places=10)
    base = models.DecimalField("valor de venta", **AMOUNT)
    igv = models.DecimalField("IGV", **AMOUNT)
    icbper = models.DecimalField("ICBPER", **AMOUNT)
    icbper_rate = models.DecimalField("tasa ICBPER", **AMOUNT)
    amount = models.DecimalField("importe", **AMOUNT)
    affectation = models.CharField("afectación", max_length=2, choices=AFFECTATION_CHOICES)
    # What credit notes have taken back so far: moved only by the return service's guarded
    # UPDATE under the line's lock; the database refuses more than was sold (invariant 12).
    returned_quantity = models.DecimalField("cantidad devuelta", **QUANTITY, default=0)

    class Meta:
        verbose_name = "línea de venta"
        verbose_name_plural = "líneas de venta"
        ordering = ["sale", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["sale", "line_no"], name="sale_line_unique_no"),
            models.UniqueConstraint(fields=["company", "id"], name="sale_line_company_id_unique"),
            models.CheckConstraint(
                condition=models.Q(returned_quantity__gte=0) & models.Q(returned_quantity__lte=models.F("quantity")),
                name="sale_line_returned_within_sold",
            ),
        ]
        indexes = [models.Index(fields=["store", "product"], name="sale_line_store_product_idx")]

    def __str__(self) -> str:
        return f"{self.line_no}. {self.description}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Efectivo"
    CARD = "card", "Tarjeta"
    YAPE = "yape", "Yape"
    PLIN = "plin", "Plin"


class Payment(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", db_index=False)
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField("medio", max_length=4, choices=PaymentMethod.choices)
    # What this payment settles of the fiscal total.
    amount = models.DecimalField("importe aplicado", **AMOUNT)
    tendered = models.DecimalField("entregado", **AMOUNT, null=True, blank=True)
    change = models.DecimalField("vuelto", **AMOUNT, default=0)
    rounding = models.DecimalField("redondeo", **AMOUNT, default=0)

    class Meta:
        verbose_name = "pago"
        verbose_name_plural = "pagos"
        indexes = [models.Index(fields=["store", "method"], name="payment_store_method_idx")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount}"


class SessionStatus(models.TextChoices):
    OPEN = "open", "Abierta"
    CLOSED = "closed", "Cerrada"


class CashSession(models.Model):
    """A register's shift (turno de caja): opened with a counted float, closed with a blind count.

    At most one open session per register (partial unique index). Sales, returns, voids and cash
    movements belong to the open session of the register they use, which they hold ``FOR SHARE``
    (or ``FOR UPDATE``) while they write; the close holds it ``FOR UPDATE`` while it computes the
    Z report, so the Z includes every sale committed in the session and nothing lands after it.
    Once closed the row never changes again (trigger ``cash_session_closed_is_final``); ``z_report``
    is the Z report as printed, and ``z_number`` runs 1, 2, … without gaps per register.
    """

    public_id = models.UUIDField("id público", default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name="tienda", db_index=False)
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name="caja")
    status = models.CharField("estado", max_length=6, choices=SessionStatus.choices, default=SessionStatus.OPEN)
    opened_at = models.DateTimeField("abierta")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="abrió"
    )
    opening_float = models.DecimalField("fondo inicial", **AMOUNT)
    closed_at = models.DateTimeField("cerrada", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="cerró",
    )
    close_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="autorizó el cierre",
    )
    z_number = models.PositiveIntegerField("n.º de Z", null=True, blank=True)
    denominations = models.JSONField("conteo por denominación", null=True, blank=True)
    note = models.CharField("nota del cierre", max_length=500, blank=True)
    z_report = models.JSONField("reporte Z", null=True, blank=True, editable=False)
    # The Z's cash difference (counted − expected), kept as a column for the reports.
    cash_difference = models.DecimalField("diferencia en efectivo", **AMOUNT, null=True, blank=True)

    class Meta:
        verbose_name = "turno de caja"
        verbose_name_plural = "turnos de caja"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "register"],
                condition=models.Q(status="open"),
                name="cash_session_one_open_per_register",
            ),
            models.UniqueConstraint(fields=["company", "register", "z_number"], name="cash_session_z_unique"),
            models.UniqueConstraint(fields=["company", "id"], name="cash_session_company_id_unique"),
            models.CheckConstraint(
                condition=(
                    models.Q(status="open", closed_at__isnull=True, z_number__isnull=True, z_report__isnull=True)
                    | models.Q(status="closed", closed_at__isnull=False, z_number__isnull=False, z_report__isnull=False)
                ),
                name="cash_session_state_consistent",
            ),
            models.CheckConstraint(condition=models.Q(opening_float__gte=0), name="cash_session_float_not_negative"),
        ]
        indexes = [
            models.Index(fields=["store", "status", "opened_at"], name="cash_session_store_idx"),
            models.Index(fields=["company", "closed_at"], name="cash_session_closed_idx"),
        ]

    def __str__(self) -> str:
        return f"Turno {self.register_id} {self.opened_at:%Y-%m-%d %H:%M}"


class CashMovementKind(models.TextChoices):
    IN = "in", "Ingreso"
    OUT = "out", "Retiro"


class CashMovement(models.Model):
    """Cash put into (``in``) or taken out of (``out``) a register's drawer, with its reason."""

    public_id = models.UUIDField("id público", default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        CashSession, on_delete=models.PROTECT, related_name="movements", verbose_name="turno", db_index=False
    )
    kind = models.CharField("tipo", max_length=3, choices=CashMovementKind.choices)
    amount = models.DecimalField("monto", **AMOUNT)
    reason = models.CharField("motivo", max_length=200)
    created_at = models.DateTimeField("fecha")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="usuario"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="autorizó",
    )

    class Meta:
        verbose_name = "movimiento de caja"
        verbose_name_plural = "movimientos de caja"
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="cash_movement_amount_positive")]
        indexes = [models.Index(fields=["session"], name="cash_movement_session_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class IdempotentRequest(models.Model):
    """The answer to a ``POST`` that created something, by its client's idempotency key.

    Written in the action's own transaction: a replay by the same user with the same body gets
    ``status_code`` and ``response`` again; another user or body gets a 409.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.UUIDField()
    endpoint = models.CharField(max_length=40)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "key"], name="idempotent_request_key_unique")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class ReturnReason(models.TextChoices):
    """Catalog 09 reasons a till's credit note uses (the ones SUNAT's rules accept without
    observations on notes of both boletas and facturas)."""

    ANULACION = "01", "Anulación de la operación"
    DEVOLUCION_TOTAL = "06", "Devolución total"
    DEVOLUCION_ITEM = "07", "Devolución por ítem"


class SaleReturn(models.Model):
    """A return of some of a sale's quantities: a credit note (07) that modifies the sale's
    document, numbered in the refunding register's note series of the sale's family (``B…`` for a
    boleta's notes, ``F…`` for a factura's). Its amounts follow from the returned quantities
    (``sales.money.return_line_amounts``); the refund leaves the drawer of the open session of
    the register used."""

    public_id = models.UUIDField("id público", default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name="tienda", db_index=False)
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name="caja")
    session = models.ForeignKey(
        CashSession, on_delete=models.PROTECT, related_name="returns", verbose_name="turno", db_index=False
    )
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="returns", verbose_name="venta")
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="usuario"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="autorizó",
    )
    reason_code = models.CharField("motivo (catálogo 09)", max_length=2, choices=ReturnReason.choices)
    reason = models.CharField("sustento", max_length=250)
    document_series = models.ForeignKey(DocumentSeries, on_delete=models.PROTECT, related_name="+")
    series = models.CharField("serie", max_length=4)
    number = models.PositiveIntegerField("número")
    gravadas = models.DecimalField("op. gravadas", **AMOUNT)
    exoneradas = models.DecimalField("op. exoneradas", **AMOUNT)
    inafectas = models.DecimalField("op. inafectas", **AMOUNT)
    igv = models.DecimalField("IGV", **AMOUNT)
    icbper = models.DecimalField("ICBPER", **AMOUNT)
    total = models.DecimalField("total", **AMOUNT)
    issued_at = models.DateTimeField("emitida")
    sunat_document = models.OneToOneField(
        "sunat.SunatDocument", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "devolución (nota de crédito)"
        verbose_name_plural = "devoluciones (notas de crédito)"
        constraints = [
            models.UniqueConstraint(fields=["company", "series", "number"], name="sale_return_number_unique"),
            models.UniqueConstraint(fields=["company", "id"], name="sale_return_company_id_unique"),
        ]
        indexes = [
            models.Index(fields=["session"], name="sale_return_session_idx"),
            models.Index(fields=["store", "issued_at"], name="sale_return_store_issued_idx"),
        ]

    def __str__(self) -> str:
        return self.full_number

    @property
    def full_number(self) -> str:
        return f"{self.series}-{self.number}"


class SaleReturnLine(models.Model):
    """One returned line: how much of a sale line came back, and whether it went back to stock."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    sale_return = models.ForeignKey(SaleReturn, on_delete=models.PROTECT, related_name="lines", db_index=False)
    sale_line = models.ForeignKey(SaleLine, on_delete=models.PROTECT, related_name="returned_in")
    line_no = models.PositiveSmallIntegerField("ítem de la nota")
    quantity = models.DecimalField("cantidad", **QUANTITY)
    restock = models.BooleanField("vuelve al stock")
    base = models.DecimalField("valor de venta", **AMOUNT)
    igv = models.DecimalField("IGV", **AMOUNT)
    icbper = models.DecimalField("ICBPER", **AMOUNT)
    amount = models.DecimalField("importe", **AMOUNT)

    class Meta:
        verbose_name = "línea devuelta"
        verbose_name_plural = "líneas devueltas"
        ordering = ["sale_return", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["sale_return", "line_no"], name="sale_return_line_unique_no"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="sale_return_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.line_no}. {self.quantity}"


class SaleVoid(models.Model):
    """The voiding (anulación) of a whole sale: a Comunicación de Baja (factura) or a Resumen
    Diario line with ConditionCode 3 (boleta), issued at once. The sale is ``voiding`` until SUNAT
    accepts that document (read through a ``sunat`` selector), then ``voided``."""

    public_id = models.UUIDField("id público", default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name="tienda", db_index=False)
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name="caja")
    session = models.ForeignKey(
        CashSession, on_delete=models.PROTECT, related_name="voids", verbose_name="turno", db_index=False
    )
    sale = models.OneToOneField(Sale, on_delete=models.PROTECT, related_name="void", verbose_name="venta")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="solicitó"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="autorizó",
    )
    reason = models.CharField("motivo", max_length=100)
    requested_at = models.DateTimeField("solicitada")
    sunat_document = models.OneToOneField(
        "sunat.SunatDocument", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "anulación"
        verbose_name_plural = "anulaciones"
        constraints = [models.UniqueConstraint(fields=["company", "id"], name="sale_void_company_id_unique")]
        indexes = [
            models.Index(fields=["session"], name="sale_void_session_idx"),
            models.Index(fields=["store", "requested_at"], name="sale_void_store_requested_idx"),
        ]

    def __str__(self) -> str:
        return f"Anulación de {self.sale_id}"


class RefundKind(models.TextChoices):
    RETURN = "return", "Devolución"
    VOID = "void", "Anulación"


class Refund(models.Model):
    """Money given back for a return or a void, by method, from the drawer of the session that
    paid it. ``amount`` is fiscal (the refunds of a note add up to its total); ``handed`` is what
    left the drawer: for cash, rounded up to S/ 0.10 and capped at the cash the sale kept
    (``sales.money``); for card, Yape and Plin, the amount itself."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(CashSession, on_delete=models.PROTECT, related_name="refunds", db_index=False)
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="refunds", db_index=False)
    kind = models.CharField("tipo", max_length=6, choices=RefundKind.choices)
    sale_return = models.ForeignKey(SaleReturn, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    sale_void = models.ForeignKey(SaleVoid, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    method = models.CharField("medio", max_length=4, choices=PaymentMethod.choices)
    amount = models.DecimalField("importe", **AMOUNT)
    handed = models.DecimalField("entregado", **AMOUNT)

    class Meta:
        verbose_name = "reembolso"
        verbose_name_plural = "reembolsos"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="return", sale_return__isnull=False, sale_void__isnull=True)
                    | models.Q(kind="void", sale_return__isnull=True, sale_void__isnull=False)
                ),
                name="refund_belongs_to_one_action",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0, handed__gte=0), name="refund_not_negative"),
        ]
        indexes = [
            models.Index(fields=["session"], name="refund_session_idx"),
            models.Index(fields=["sale"], name="refund_sale_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.handed}"
