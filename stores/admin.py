"""Admin for companies, stores, registers, series, memberships, approval PINs and the audit log —
scoped by tenant. Scoping and who is staff: ``stores.admin_scoping``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from .admin_scoping import (
    TenantScopedAdmin,
    TenantScopedInline,
    admin_owned_company_ids,
    admin_store_ids,
    membership_staff_sync,
)
from .models import ApproverPin, AuditEvent, Company, DocumentSeries, Membership, Register, Role, Store
from .services import PIN_FORMAT, PIN_RE, approval_pin_set, membership_audit

admin.site.site_header = "BodegaPOS · administración"
admin.site.site_title = "BodegaPOS"
admin.site.index_title = "Cadena de bodegas"


@admin.register(Company)
class CompanyAdmin(TenantScopedAdmin):
    tenant_company_field = "pk"
    list_display = ("ruc", "legal_name", "trade_name", "is_active")
    search_fields = ("ruc", "legal_name", "trade_name")
    list_filter = ("department",)
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("ruc", "legal_name", "trade_name", "is_active")}),
        ("Caja", {"fields": ("cash_difference_threshold",)}),
        ("Domicilio fiscal", {"fields": ("address", "ubigeo", "department", "province", "district", "created_at")}),
    )


@admin.register(Store)
class StoreAdmin(TenantScopedAdmin):
    tenant_store_field = "pk"
    tenant_company_field = "company"
    list_display = ("code", "name", "company", "address", "ubigeo", "is_active")
    list_filter = ("is_active", "company")
    search_fields = ("code", "name", "address", "company__ruc", "company__legal_name")
    list_select_related = ("company",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new store belongs to a company the user administers.
        return super().has_add_permission(request) and (
            request.user.is_superuser or admin_owned_company_ids(user=request.user).exists()
        )


class DocumentSeriesForm(forms.ModelForm):
    """Series form: the store and company always come from the register; series unique per company."""

    class Meta:
        model = DocumentSeries
        fields = ("register", "document_type", "series")

    def _post_clean(self) -> None:
        register = self.cleaned_data.get("register") or getattr(self.instance, "register", None)
        if register is not None and register.store_id:
            self.instance.store_id = register.store_id
            self.instance.company_id = register.store.company_id
        super()._post_clean()

    def clean(self):
        cleaned = super().clean()
        register = cleaned.get("register") or getattr(self.instance, "_parent_register", None)
        series = (cleaned.get("series") or "").upper()
        if series:
            cleaned["series"] = series
        if register is not None and series and register.store_id:
            clash = DocumentSeries.objects.filter(company_id=register.store.company_id, series=series)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("series", "Esta serie ya existe en la empresa.")
        if self.instance.pk and self.instance.last_number > 0:
            # Documents exist under this series: renaming, retyping or moving it would reuse numbers.
            for field in ("register", "document_type", "series"):
                if field in cleaned and field in self.changed_data:
                    self.add_error(field, "La serie ya tiene comprobantes emitidos: no se puede cambiar.")
        return cleaned


class DocumentSeriesFormSet(forms.BaseInlineFormSet):
    def _construct_form(self, i: int, **kwargs: Any):
        form = super()._construct_form(i, **kwargs)
        parent = self.instance
        if parent is not None and parent.store_id:
            form.instance.store_id = parent.store_id
            form.instance.company_id = parent.store.company_id
            form.instance._parent_register = parent
        return form


class DocumentSeriesInline(TenantScopedInline):
    model = DocumentSeries
    form = DocumentSeriesForm
    formset = DocumentSeriesFormSet
    fk_name = "register"
    extra = 0
    fields = ("document_type", "series", "last_number")
    readonly_fields = ("last_number",)  # the correlative only moves at checkout, under the row lock


@admin.register(Register)
class RegisterAdmin(TenantScopedAdmin):
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("code", "name", "store", "is_active")
    list_filter = ("is_active", "store")
    search_fields = ("code", "name", "store__code", "store__name")
    list_select_related = ("store",)
    fields = ("store", "code", "name", "is_active")
    inlines = (DocumentSeriesInline,)


@admin.register(DocumentSeries)
class DocumentSeriesAdmin(TenantScopedAdmin):
    form = DocumentSeriesForm
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("series", "document_type", "register", "store", "last_number")
    list_filter = ("document_type", "store")
    search_fields = ("series", "register__code", "store__code", "store__name")
    list_select_related = ("register", "store")
    fields = ("register", "document_type", "series", "last_number")
    readonly_fields = ("last_number",)


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "company", "store", "role")

    request_user = None  # set by MembershipAdmin.get_form

    def clean(self):
        cleaned = super().clean()
        user = self.request_user
        company, store, role = cleaned.get("company"), cleaned.get("store"), cleaned.get("role")
        if store is not None and company is not None and store.company_id != company.pk:
            self.add_error("store", "La tienda pertenece a otra empresa.")
        if role and role != Role.COMPANY_ADMIN and store is None:
            self.add_error("store", "Elija la tienda: solo el administrador de empresa no tiene tienda.")
        if user is not None and not user.is_superuser and company is not None:
            owned = set(admin_owned_company_ids(user=user).values_list("company_id", flat=True))
            if company.pk not in owned:
                # Store managers add and edit cashiers of their own stores only.
                if role != Role.CASHIER:
                    self.add_error("role", "Solo puede asignar el rol de cajero.")
                if store is None or not admin_store_ids(user=user).filter(id=store.pk).exists():
                    self.add_error("store", "Elija una de sus tiendas.")
                if self.instance.pk and self.instance.role != Role.CASHIER:
                    raise ValidationError("Solo el administrador de la empresa puede cambiar esta membresía.")
        return cleaned


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    form = MembershipAdminForm
    tenant_store_field = "store"
    tenant_company_field = "company"
    list_display = ("user", "role", "company", "store")
    list_filter = ("role", "company", "store")
    search_fields = ("user__username", "user__first_name", "user__last_name", "store__code", "store__name")
    list_select_related = ("user", "company", "store")
    autocomplete_fields = ()

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        form = super().get_form(request, obj, **kwargs)
        return type("ScopedMembershipForm", (form,), {"request_user": request.user})

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "company" and formfield is not None and not request.user.is_superuser:
            # Managers pick their own company (read-only scope), admins their companies.
            from .admin_scoping import admin_company_ids

            formfield.queryset = Company.objects.filter(id__in=admin_company_ids(user=request.user))
        return formfield

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        if allowed and obj is not None and not request.user.is_superuser:
            owned = set(admin_owned_company_ids(user=request.user).values_list("company_id", flat=True))
            allowed = obj.company_id in owned or obj.role == Role.CASHIER
        return allowed

    def save_model(self, request: HttpRequest, obj: Membership, form, change: bool) -> None:
        previous_user_id = None
        before = None
        if change:
            previous = Membership.objects.filter(pk=obj.pk).select_related("user", "store").first()
            if previous is not None:
                previous_user_id = previous.user_id
                before = {
                    "user": previous.user.get_username(),
                    "role": previous.role,
                    "store": previous.store.code if previous.store_id else None,
                }
        super().save_model(request, obj, form, change)
        membership_audit(membership=obj, actor=request.user, change="change" if change else "create", before=before)
        membership_staff_sync(user=obj.user)
        if previous_user_id and previous_user_id != obj.user_id:
            from django.contrib.auth import get_user_model

            membership_staff_sync(user=get_user_model().objects.get(pk=previous_user_id))

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        user = obj.user
        membership_audit(membership=obj, actor=request.user, change="delete")
        super().delete_model(request, obj)
        membership_staff_sync(user=user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        memberships = list(queryset.select_related("user", "store"))
        users = [m.user for m in memberships]
        for membership in memberships:
            membership_audit(membership=membership, actor=request.user, change="delete")
        super().delete_queryset(request, queryset)
        for user in {u.pk: u for u in users}.values():
            membership_staff_sync(user=user)


class ApproverPinForm(forms.ModelForm):
    """The PIN is write-only: typed twice, stored hashed by ``approval_pin_set``."""

    pin = forms.CharField(
        label="PIN nuevo",
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
        help_text=PIN_FORMAT,
    )
    pin_again = forms.CharField(
        label="Repita el PIN",
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"inputmode": "numeric"}),
    )

    class Meta:
        model = ApproverPin
        fields = ("company", "user")

    def clean(self):
        cleaned = super().clean()
        pin, again = cleaned.get("pin") or "", cleaned.get("pin_again") or ""
        if pin and not PIN_RE.match(pin):
            self.add_error("pin", PIN_FORMAT)
        elif pin != again:
            self.add_error("pin_again", "Los PIN no coinciden.")
        company, user = cleaned.get("company"), cleaned.get("user")
        if company is not None and user is not None and not user.is_superuser:
            approves = Membership.objects.filter(
                user=user, company=company, role__in=(Role.STORE_MANAGER, Role.COMPANY_ADMIN)
            )
            if not approves.exists():
                self.add_error("user", "Solo los administradores de tienda o de empresa autorizan con PIN.")
        return cleaned


@admin.register(ApproverPin)
class ApproverPinAdmin(TenantScopedAdmin):
    """Managers' approval PINs: set or replaced here (or by the manager at /accounts/pin/), never shown."""

    form = ApproverPinForm
    tenant_company_field = "company"
    list_display = ("user", "company", "updated_at")
    list_select_related = ("user", "company")
    search_fields = ("user__username",)

    def save_model(self, request: HttpRequest, obj: ApproverPin, form: ApproverPinForm, change: bool) -> None:
        approval_pin_set(company=obj.company, user=obj.user, pin=form.cleaned_data["pin"], changed_by=request.user)
        saved = ApproverPin.objects.get(company=obj.company, user=obj.user)
        obj.pk, obj.pin_hash, obj.updated_at = saved.pk, saved.pin_hash, saved.updated_at


@admin.register(AuditEvent)
class AuditEventAdmin(TenantScopedAdmin):
    """The audit log, read-only: nobody adds, changes or deletes an event (the database refuses
    it too). ``manage.py audit_verify`` checks the chains."""

    tenant_store_field = "store"  # company-wide events (no store): company admins only
    tenant_company_field = "company"
    list_display = ("seq", "created_at", "action", "store", "actor", "approver", "object_type", "object_id")
    list_filter = ("action", "company", "store")
    search_fields = ("action", "object_id", "actor__username", "approver__username")
    list_select_related = ("store", "actor", "approver", "company")
    ordering = ("company", "-seq")
    readonly_fields = (
        "company",
        "seq",
        "created_at",
        "store",
        "actor",
        "approver",
        "action",
        "object_type",
        "object_id",
        "data",
        "prev_hash",
        "hash",
    )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
