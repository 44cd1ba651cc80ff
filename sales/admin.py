"""Admin for the sales app, scoped by company and store (``stores.admin_scoping``).

* Catalogue (products) and customers are company-wide: company admins edit them, store managers
  see them read-only.
* Prices per store are editable by the store's managers; stock is never edited directly: it is
  the sum of the ledger, and a new ledger row (purchase, adjustment, return, transfer) goes
  through ``sales.services.stock.stock_movement_record``.
* Sales, their lines and payments are read-only: they are written only by checkout.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from stores.admin_scoping import TenantScopedAdmin

from .models import (
    CashMovement,
    CashSession,
    Customer,
    MovementKind,
    Payment,
    Product,
    Refund,
    Sale,
    SaleLine,
    SaleReturn,
    SaleReturnLine,
    SaleVoid,
    StockMovement,
    StoreProduct,
)
from .services.catalog import store_product_save

FULL_NUMBER = re.compile(r"^\s*([A-Za-z0-9]{4})\s*-\s*0*(\d{1,8})\s*$")


class ReadOnlyAdminMixin:
    """Rows written only by services: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(TenantScopedAdmin):
    tenant_company_field = "company"
    # Django 6 reads a scheme-less image URL as https; say so now (RemovedInDjango60Warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = (
        "sku",
        "barcode",
        "name",
        "unit_code",
        "affectation",
        "is_plastic_bag",
        "allows_negative_stock",
        "is_active",
    )
    list_filter = ("affectation", "unit_code", "is_plastic_bag", "allows_negative_stock", "is_active", "company")
    search_fields = ("barcode", "sku", "name")
    fields = (
        "company",
        "sku",
        "barcode",
        "name",
        "unit_code",
        "affectation",
        "is_plastic_bag",
        "allows_negative_stock",
        "image_url",
        "is_active",
    )

    def get_fields(self, request: HttpRequest, obj: Product | None = None):
        fields = super().get_fields(request, obj)
        if obj is not None:
            return [f for f in fields if f != "company"]
        return fields


@admin.register(StoreProduct)
class StoreProductAdmin(TenantScopedAdmin):
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("product_name", "product_barcode", "store", "price", "stock", "is_active")
    list_filter = ("store", "is_active", "product__affectation")
    search_fields = ("product__barcode", "product__sku", "product__name")
    list_select_related = ("product", "store")
    fields = ("store", "product", "price", "stock", "is_active")
    readonly_fields = ("stock",)
    raw_id_fields = ()

    @admin.display(description="producto", ordering="product__name")
    def product_name(self, obj: StoreProduct) -> str:
        return obj.product.name

    @admin.display(description="código de barras", ordering="product__barcode")
    def product_barcode(self, obj: StoreProduct) -> str:
        return obj.product.barcode or ""

    def get_readonly_fields(self, request: HttpRequest, obj: StoreProduct | None = None):
        if obj is not None:
            return ("store", "product", "stock")
        return ("stock",)

    def save_model(self, request: HttpRequest, obj: StoreProduct, form, change: bool) -> None:
        store_product_save(store_product=obj, actor=request.user)


class StockMovementForm(forms.ModelForm):
    """A new ledger row; the stock cache moves with it through the stock service."""

    kind = forms.ChoiceField(
        label="tipo",
        choices=[(k.value, k.label) for k in MovementKind if k != MovementKind.SALE],
    )

    class Meta:
        model = StockMovement
        fields = ("store_product", "kind", "quantity", "note")

    def clean_quantity(self) -> Decimal:
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError("La cantidad no puede ser cero (use negativos para salidas).")
        return quantity


@admin.register(StockMovement)
class StockMovementAdmin(TenantScopedAdmin):
    form = StockMovementForm
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("created_at", "store", "product_name", "kind", "quantity", "sale", "created_by", "note")
    list_filter = ("kind", "store")
    search_fields = (
        "store_product__product__barcode",
        "store_product__product__sku",
        "store_product__product__name",
        "note",
    )
    list_select_related = ("store", "store_product__product", "sale", "created_by")
    date_hierarchy = "created_at"

    @admin.display(description="producto")
    def product_name(self, obj: StockMovement) -> str:
        return obj.store_product.product.name

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger is append-only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: StockMovement, form: StockMovementForm, change: bool) -> None:
        from .services.stock import stock_movement_record

        movement = stock_movement_record(
            store_product=form.cleaned_data["store_product"],
            kind=form.cleaned_data["kind"],
            quantity=form.cleaned_data["quantity"],
            created_by=request.user,
            note=form.cleaned_data.get("note", ""),
        )
        obj.pk = movement.pk
        obj.__dict__.update({k: v for k, v in movement.__dict__.items() if not k.startswith("_")})


class SaleLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SaleLine
    extra = 0
    fields = ("line_no", "sku", "description", "quantity", "unit_price", "amount", "igv", "icbper", "affectation")
    readonly_fields = fields


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = ("method", "amount", "tendered", "change", "rounding")
    readonly_fields = fields


class NumberSearchMixin:
    """Search by the full number ("B001-123") besides the plain search fields."""

    number_prefix = ""

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        match = FULL_NUMBER.match(search_term or "")
        if match:
            series, number = match.group(1).upper(), int(match.group(2))
            p = self.number_prefix
            return queryset.filter(Q(**{f"{p}series": series, f"{p}number": number})), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Sale)
class SaleAdmin(NumberSearchMixin, ReadOnlyAdminMixin, TenantScopedAdmin):
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = (
        "full_number",
        "document_type",
        "issued_at",
        "store",
        "register",
        "cashier",
        "customer_doc_number",
        "total",
        "sunat_status",
    )
    list_filter = ("document_type", "store", "issued_at")
    search_fields = ("=number", "series", "customer_doc_number", "customer_name", "=public_id")
    list_select_related = ("store", "register", "cashier", "sunat_document")
    date_hierarchy = "issued_at"
    inlines = (SaleLineInline, PaymentInline)
    exclude = ("fingerprint",)

    @admin.display(description="número", ordering="number")
    def full_number(self, obj: Sale) -> str:
        return obj.full_number

    @admin.display(description="estado SUNAT")
    def sunat_status(self, obj: Sale) -> str:
        return obj.sunat_document.get_status_display() if obj.sunat_document else "—"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return [f.name for f in self.model._meta.concrete_fields if f.name != "fingerprint"]


@admin.register(SaleLine)
class SaleLineAdmin(NumberSearchMixin, ReadOnlyAdminMixin, TenantScopedAdmin):
    number_prefix = "sale__"
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = (
        "sale",
        "line_no",
        "sku",
        "barcode",
        "description",
        "quantity",
        "unit_price",
        "amount",
        "igv",
        "icbper",
    )
    list_filter = ("affectation", "store")
    search_fields = ("barcode", "sku", "description")
    list_select_related = ("sale",)


@admin.register(Payment)
class PaymentAdmin(NumberSearchMixin, ReadOnlyAdminMixin, TenantScopedAdmin):
    number_prefix = "sale__"
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("sale", "method", "amount", "tendered", "change", "rounding")
    list_filter = ("method", "store")
    search_fields = ("sale__series",)
    list_select_related = ("sale",)


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin):
    tenant_company_field = "company"
    list_display = ("doc_number", "doc_type", "name", "address", "company")
    list_filter = ("doc_type", "company")
    search_fields = ("doc_number", "name")
    fields = ("company", "doc_type", "doc_number", "name", "address")

    def get_fields(self, request: HttpRequest, obj: Customer | None = None):
        fields = super().get_fields(request, obj)
        if obj is not None:
            return [f for f in fields if f != "company"]
        return fields


class CashMovementInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CashMovement
    extra = 0
    fields = ("created_at", "kind", "amount", "reason", "created_by", "approved_by")


@admin.register(CashSession)
class CashSessionAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    """The registers' shifts. Filter by "abierta" to see which registers are open now (a session
    left open past midnight is still closed from the till); sessions change only at the till."""

    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("store", "register", "status", "opened_at", "opened_by", "closed_at", "z_number", "cash_difference")
    list_filter = ("status", "store")
    list_select_related = ("store", "register", "opened_by")
    date_hierarchy = "opened_at"
    ordering = ("-opened_at",)
    readonly_fields = (
        "store",
        "register",
        "status",
        "opened_at",
        "opened_by",
        "opening_float",
        "closed_at",
        "closed_by",
        "close_approved_by",
        "z_number",
        "cash_difference",
        "denominations",
        "note",
        "z_report",
    )
    exclude = ("company", "public_id")
    inlines = (CashMovementInline,)


@admin.register(CashMovement)
class CashMovementAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("created_at", "store", "register", "kind", "amount", "reason", "created_by", "approved_by")
    list_filter = ("kind", "store")
    list_select_related = ("store", "register", "created_by", "approved_by")
    search_fields = ("reason",)
    ordering = ("-created_at",)


class SaleReturnLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SaleReturnLine
    extra = 0
    fields = ("line_no", "sale_line", "quantity", "restock", "base", "igv", "icbper", "amount")


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    extra = 0
    fields = ("kind", "method", "amount", "handed", "session")


@admin.register(SaleReturn)
class SaleReturnAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    """Credit notes of returns, written only at the till; their SUNAT state is in the sunat admin."""

    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("__str__", "sale", "reason_code", "total", "issued_at", "store", "cashier", "approved_by")
    list_filter = ("reason_code", "store")
    list_select_related = ("sale", "store", "cashier", "approved_by")
    search_fields = ("series", "sale__series", "reason")
    date_hierarchy = "issued_at"
    ordering = ("-issued_at",)
    exclude = ("company", "public_id", "document_series")
    inlines = (SaleReturnLineInline, RefundInline)


@admin.register(SaleVoid)
class SaleVoidAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    """Voids requested at the till; the sale is "voided" once SUNAT accepts the RA/RC document."""

    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("sale", "reason", "requested_at", "store", "requested_by", "approved_by", "sunat_document")
    list_filter = ("store",)
    list_select_related = ("sale", "store", "requested_by", "approved_by", "sunat_document")
    search_fields = ("sale__series", "reason")
    ordering = ("-requested_at",)
    exclude = ("company", "public_id")
    inlines = (RefundInline,)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("sale", "kind", "method", "amount", "handed", "store", "session")
    list_filter = ("kind", "method", "store")
    list_select_related = ("sale", "store", "session")


@admin.register(SaleReturnLine)
class SaleReturnLineAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("sale_return", "line_no", "sale_line", "quantity", "restock", "amount")
    list_select_related = ("sale_return", "sale_line")
