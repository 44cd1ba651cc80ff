"""``manage.py audit_verify [--company RUC]`` — verify every company's audit chain (or one).

Exits 0 when every chain verifies; 1, naming the first broken event, otherwise.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from stores.audit import audit_chain_verify
from stores.models import AuditChain, AuditEvent, Company


class Command(BaseCommand):
    help = "Verifica la cadena de auditoría de cada empresa (o de una con --company RUC)."

    def add_arguments(self, parser):
        parser.add_argument("--company", metavar="RUC", help="solo la empresa con este RUC")

    def handle(self, *args, company: str | None = None, **options):
        companies = Company.objects.order_by("ruc")
        if company:
            companies = companies.filter(ruc=company)
            if not companies.exists():
                raise CommandError(f"No existe una empresa con RUC {company}.")
        with_events = set(AuditEvent.objects.values_list("company_id", flat=True).distinct()) | set(
            AuditChain.objects.values_list("company_id", flat=True)
        )
        for row in companies.only("id", "ruc"):
            if row.pk not in with_events:
                continue
            broken = audit_chain_verify(company_id=row.pk)
            if broken is not None:
                where = f"evento n.º {broken.seq}" + (f" (id {broken.event_id})" if broken.event_id else "")
                self.stderr.write(f"Empresa {row.ruc}: cadena rota en el {where}: {broken.reason}.")
                raise SystemExit(1)
            count = AuditEvent.objects.filter(company_id=row.pk).count()
            self.stdout.write(f"Empresa {row.ruc}: {count} eventos, cadena verificada.")
        self.stdout.write("Auditoría verificada.")
