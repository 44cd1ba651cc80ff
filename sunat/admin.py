"""Admin for each company's SUNAT account and for SUNAT documents.

* Accounts: the clave SOL and the certificate are write-only (the forms never render a stored
  secret, only whether it is set; an empty input keeps the stored value); a certificate is
  validated with its password before it is stored; every change of a secret writes the audit
  event ``company.secrets_change`` in the admin's transaction (invariant 13). The pause state is
  shown read-only (jobs are resumed from the queue's admin).
* Documents: read-only on purpose: a document is what was issued and what SUNAT answered;
  nothing here may change it (the queue's own admin retries or verifies jobs).

Both are scoped by tenant with ``stores.admin_scoping.TenantScopedAdmin``: another company's
account or document (or another store's document) answers like a missing one, also for its
downloads. The ``SunatJob`` admin belongs to the worker app.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from stores.admin_scoping import TenantScopedAdmin
from stores.services import audit_event_record

from .certificates import CertificateError, certificate_load, company_certificate_set
from .models import SunatAccount, SunatAttempt, SunatDocument
from .services import document_file_name

CERTIFICATE_EXTENSIONS = (".pfx", ".p12")
CERTIFICATE_MAX_BYTES = 64 * 1024
SECRET_INPUTS = ("new_sol_password", "certificate_file", "new_certificate_password")


class SunatAccountAdminForm(forms.ModelForm):
    new_sol_password = forms.CharField(
        label="Nueva clave SOL",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Se guarda cifrada y nunca se muestra. Déjela vacía para conservar la actual.",
    )
    certificate_file = forms.FileField(
        label="Certificado digital (.pfx / .p12)",
        required=False,
        help_text="Se valida con su contraseña y se guarda cifrado. Déjelo vacío para conservar el actual.",
    )
    new_certificate_password = forms.CharField(
        label="Contraseña del certificado",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = SunatAccount
        fields = ("company", "sol_user")

    def clean_certificate_file(self) -> bytes | None:
        upload = self.cleaned_data.get("certificate_file")
        if not upload:
            return None
        if not upload.name.lower().endswith(CERTIFICATE_EXTENSIONS):
            raise ValidationError("El certificado debe ser un archivo .pfx o .p12.")
        if upload.size > CERTIFICATE_MAX_BYTES:
            raise ValidationError("El certificado es demasiado grande (máximo 64 KB).")
        return upload.read()

    def clean(self):
        cleaned = super().clean()
        data = cleaned.get("certificate_file")
        password = cleaned.get("new_certificate_password") or ""
        if data:
            if not password:
                self.add_error("new_certificate_password", "Ingrese la contraseña del certificado.")
            else:
                try:
                    certificate_load(pfx=data, password=password)
                except CertificateError as exc:
                    self.add_error("certificate_file", str(exc))
        elif password and not (self.instance.pk and self.instance.certificate):
            self.add_error("certificate_file", "Suba el certificado junto con su contraseña.")
        return cleaned

    def changed_secrets(self) -> list[str]:
        """The secrets this form replaces, as the audit event names them."""
        changed = []
        if self.cleaned_data.get("new_sol_password"):
            changed.append("sol_password")
        if self.cleaned_data.get("certificate_file"):
            changed.append("certificate")
        return changed

    def save(self, commit: bool = True) -> SunatAccount:
        account = super().save(commit=False)
        if self.cleaned_data.get("new_sol_password"):
            account.sol_password = self.cleaned_data["new_sol_password"]
        if commit:
            account.save()
            self.save_certificate()
        return account

    def save_certificate(self) -> None:
        """Store an uploaded certificate through ``company_certificate_set`` (validated again,
        encrypted at rest, subject and expiry recorded). Needs the saved account."""
        if self.cleaned_data.get("certificate_file"):
            company_certificate_set(
                company=self.instance.company,
                pfx=self.cleaned_data["certificate_file"],
                password=self.cleaned_data["new_certificate_password"],
            )


@admin.register(SunatAccount)
class SunatAccountAdmin(TenantScopedAdmin):
    """One per company; company admins edit their companies' accounts, store managers see them
    read-only without the secret inputs."""

    form = SunatAccountAdminForm
    tenant_company_field = "company"
    list_display = ("company", "sol_user", "sol_configured", "certificate_expires_at", "paused_at")
    list_select_related = ("company",)
    search_fields = ("company__ruc", "company__legal_name", "sol_user")
    readonly_fields = (
        "sol_configured",
        "certificate_configured",
        "certificate_subject",
        "certificate_expires_at",
        "paused_at",
        "pause_reason",
    )
    fieldsets = (
        (None, {"fields": ("company",)}),
        ("Clave SOL", {"fields": ("sol_user", "sol_configured", "new_sol_password")}),
        (
            "Certificado digital",
            {
                "fields": (
                    "certificate_configured",
                    "certificate_subject",
                    "certificate_expires_at",
                    "certificate_file",
                    "new_certificate_password",
                )
            },
        ),
        (
            "Envíos a SUNAT",
            {
                "fields": ("paused_at", "pause_reason"),
                "description": "Una pausa se levanta desde Trabajos SUNAT (acción «Reanudar envíos de la empresa»).",
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: SunatAccount | None = None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "company") if obj is not None else fields  # one account per company, for good

    def get_fieldsets(self, request: HttpRequest, obj: SunatAccount | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only viewers (store managers) do not see the secret inputs at all.
            fieldsets = [
                (name, {**opts, "fields": tuple(f for f in opts["fields"] if f not in SECRET_INPUTS)})
                for name, opts in fieldsets
            ]
        return fieldsets

    def save_model(self, request: HttpRequest, obj: SunatAccount, form: SunatAccountAdminForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        form.save_certificate()
        changed = form.changed_secrets()
        if changed:
            # Inside the admin's transaction: the event commits with the change (invariant 13).
            audit_event_record(
                company_id=obj.company_id,
                actor=request.user,
                action="company.secrets_change",
                object_type="company",
                object_id=obj.company_id,
                data={"changed": changed},
            )

    @admin.display(description="clave SOL", boolean=True)
    def sol_configured(self, obj: SunatAccount) -> bool:
        return bool(obj.sol_password)

    @admin.display(description="certificado cargado", boolean=True)
    def certificate_configured(self, obj: SunatAccount) -> bool:
        return bool(obj.certificate)


_NUMBER_RE = re.compile(r"^\s*([A-Z0-9]{4}|R[AC]-\d{8})-(\d{1,8})\s*$", re.I)


class SunatAttemptInline(admin.TabularInline):
    model = SunatAttempt
    extra = 0
    can_delete = False
    fields = ("started_at", "operation", "code", "category", "description", "duration_ms", "job_id")
    readonly_fields = fields
    ordering = ("started_at", "id")
    verbose_name = "intento"
    verbose_name_plural = "historial de intentos"

    # The attempts belong to the document: whoever may see the document sees its history.
    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None or self.admin_site._registry[SunatDocument].has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(SunatDocument)
class SunatDocumentAdmin(TenantScopedAdmin):
    tenant_store_field = "store"
    tenant_company_field = "company"

    list_display = (
        "number_display",
        "document_type",
        "company",
        "store",
        "issued_at",
        "total",
        "status",
        "response_code",
        "xml_hash",
    )
    list_filter = (
        "status",
        "document_type",
        "is_demo",
        ("company", admin.RelatedOnlyFieldListFilter),
        ("store", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("series", "company__ruc", "xml_hash", "ticket")
    date_hierarchy = "issued_at"
    ordering = ("-issued_at", "-id")
    list_select_related = ("company", "store")
    inlines = (SunatAttemptInline,)
    fields = (
        "company",
        "store",
        "document_type",
        "series",
        "number",
        "original",
        "is_demo",
        "issued_at",
        "total",
        "status",
        "response_code",
        "response_description",
        "observations_display",
        "xml_hash",
        "signed_at",
        "ticket",
        "unconfirmed_send_at",
        "downloads",
        "snapshot",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="número", ordering="number")
    def number_display(self, obj: SunatDocument) -> str:
        return obj.full_number

    @admin.display(description="observaciones")
    def observations_display(self, obj: SunatDocument) -> str:
        items = obj.observations or []
        return "; ".join(f"{o.get('code', '')} - {o.get('text', '')}".strip(" -") for o in items) or "—"

    @admin.display(description="archivos")
    def downloads(self, obj: SunatDocument):
        if obj.pk is None:
            return "—"
        links = []
        if obj.signed_xml:
            links.append(
                format_html('<a href="{}">XML firmado</a>', reverse("admin:sunat_sunatdocument_xml", args=[obj.pk]))
            )
        if obj.cdr_zip:
            links.append(
                format_html('<a href="{}">CDR (zip)</a>', reverse("admin:sunat_sunatdocument_cdr", args=[obj.pk]))
            )
        if not links:
            return "—"
        return format_html(" · ".join(["{}"] * len(links)), *links)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """Also find ``B001-123`` (series and number) and a bare number."""
        match = _NUMBER_RE.match(search_term or "")
        if match:
            return queryset.filter(series__iexact=match.group(1), number=int(match.group(2))), False
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip().isdigit() and len(search_term.strip()) <= 8:
            results = results | queryset.filter(Q(number=int(search_term.strip())))
        return results, duplicates

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    # -- downloads -------------------------------------------------------------------------

    def get_urls(self):
        urls = [
            path("<int:object_id>/xml/", self.admin_site.admin_view(self.download_xml), name="sunat_sunatdocument_xml"),
            path("<int:object_id>/cdr/", self.admin_site.admin_view(self.download_cdr), name="sunat_sunatdocument_cdr"),
        ]
        return urls + super().get_urls()

    def _document(self, request: HttpRequest, object_id: int) -> SunatDocument:
        document = self.get_object(request, str(object_id))  # scoped queryset: others' rows are missing
        if document is None or not self.has_view_permission(request, document):
            raise Http404("El comprobante no existe.")
        return document

    def download_xml(self, request: HttpRequest, object_id: int) -> HttpResponse:
        document = self._document(request, object_id)
        if not document.signed_xml:
            raise Http404("El comprobante aún no está firmado.")
        response = HttpResponse(bytes(document.signed_xml), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{document_file_name(document)}.xml"'
        return response

    def download_cdr(self, request: HttpRequest, object_id: int) -> HttpResponse:
        document = self._document(request, object_id)
        if not document.cdr_zip:
            raise Http404("SUNAT aún no entregó CDR para este comprobante.")
        response = HttpResponse(bytes(document.cdr_zip), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="R-{document_file_name(document)}.zip"'
        return response
