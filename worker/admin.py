"""Admin for the SUNAT queue: jobs (scoped by company/store) and worker processes.

Actions (each one short transaction through ``worker.queue``): retry now, verify with SUNAT,
resume a paused company, discard with a reason. Jobs are never edited by hand or deleted here:
the worker owns their state.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html

from stores.admin_scoping import TenantScopedAdmin, admin_owned_company_ids
from sunat.models import SunatJob

from . import queue
from .models import WorkerHeartbeat


class DiscardForm(forms.Form):
    reason = forms.CharField(
        label="Motivo",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Indique el motivo del descarte."},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Indique el motivo del descarte.")
        return reason


@admin.register(SunatJob)
class SunatJobAdmin(TenantScopedAdmin):
    tenant_store_field = "document__store"
    tenant_company_field = "company"

    list_display = (
        "id",
        "document_link",
        "company",
        "kind",
        "status",
        "attempts",
        "run_at",
        "lease_owner",
        "short_error",
        "request_id",
    )
    list_filter = ("status", "kind", ("company", admin.RelatedOnlyFieldListFilter))
    search_fields = ("document__series", "company__ruc", "request_id", "last_error")
    ordering = ("-id",)
    list_select_related = ("company", "document")
    readonly_fields = (
        "company",
        "document",
        "kind",
        "status",
        "attempts",
        "run_at",
        "lease_owner",
        "lease_expires_at",
        "last_error",
        "errors_display",
        "request_id",
        "created_at",
        "updated_at",
        "finished_at",
    )
    fields = readonly_fields
    actions = ("retry_now", "verify_with_sunat", "resume_company", "discard")

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="comprobante", ordering="document__number")
    def document_link(self, obj: SunatJob) -> str:
        return f"{obj.document.document_type} {obj.document.full_number}"

    @admin.display(description="último error")
    def short_error(self, obj: SunatJob) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.display(description="historial de errores")
    def errors_display(self, obj: SunatJob):
        return format_html("<pre>{}</pre>", json.dumps(obj.errors or [], ensure_ascii=False, indent=1))

    @admin.action(description="Reintentar ahora", permissions=["change"])
    def retry_now(self, request: HttpRequest, qs: QuerySet) -> None:
        n = queue.jobs_retry_now(job_ids=list(qs.values_list("id", flat=True)))
        self.message_user(request, f"{n} trabajo(s) programados para ahora.", messages.SUCCESS)

    @admin.action(description="Verificar en SUNAT", permissions=["change"])
    def verify_with_sunat(self, request: HttpRequest, qs: QuerySet) -> None:
        n = queue.jobs_verify(job_ids=list(qs.values_list("id", flat=True)))
        self.message_user(request, f"{n} trabajo(s) consultarán a SUNAT antes de reenviar.", messages.SUCCESS)

    @admin.action(description="Reanudar envíos de la empresa (pausada)", permissions=["change"])
    def resume_company(self, request: HttpRequest, qs: QuerySet) -> None:
        company_ids = set(qs.values_list("company_id", flat=True))
        if not request.user.is_superuser:
            owned = set(admin_owned_company_ids(user=request.user).values_list("company_id", flat=True))
            if company_ids - owned:
                self.message_user(request, "Solo un administrador de la empresa puede reanudarla.", messages.ERROR)
                return
        total = sum(queue.company_resume(company_id=cid) for cid in sorted(company_ids))
        self.message_user(
            request, f"Envíos reanudados; {total} trabajo(s) pausados vuelven a la cola.", messages.SUCCESS
        )

    @admin.action(description="Descartar (con motivo)", permissions=["change"])
    def discard(self, request: HttpRequest, qs: QuerySet):
        form = DiscardForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            n = queue.jobs_discard(job_ids=list(qs.values_list("id", flat=True)), reason=form.cleaned_data["reason"])
            self.message_user(request, f"{n} trabajo(s) descartados.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Descartar trabajos SUNAT",
            "jobs": qs,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/worker/discard.html", context)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "host",
        "pid",
        "concurrency",
        "listening",
        "started_at",
        "beat_at",
        "stopped_at",
        "jobs_done",
        "jobs_retried",
        "jobs_failed",
        "jobs_reaped",
        "jobs_lost",
    )
    ordering = ("-beat_at",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
