"""Admin for SUNAT documents: status, SUNAT's answer, attempts, and the signed XML / CDR files.

Read-only on purpose: a document is what was issued and what SUNAT answered; nothing here may
change it (the queue's own admin retries or verifies jobs). Scoped by tenant with
``stores.admin_scoping.TenantScopedAdmin``: a document of another company (or store) answers like
a missing one, also for its downloads. The ``SunatJob`` admin belongs to the worker app.
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from stores.admin_scoping import TenantScopedAdmin

from .models import SunatAttempt, SunatDocument
from .services import document_file_name

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
