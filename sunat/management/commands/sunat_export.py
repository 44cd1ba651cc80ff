"""``manage.py sunat_export --out DIR [--since YYYY-MM-DD] [--store CODE]``.

Writes, flat in DIR, every document's signed ``{RUC}-{TT}-{SERIE}-{NUM}.xml`` (the exact stored
bytes) and, where SUNAT answered one, its ``R-{RUC}-{TT}-{SERIE}-{NUM}.zip`` CDR. ``--since`` is
an issue date in America/Lima (from 00:00 Lima that day); ``--store`` is a store's 4-digit
establishment code (summaries RC/RA belong to no store and are left out then). Documents not
signed yet have no XML to export and are counted as skipped; demo history (``seed_demo
--history-days``), which SUNAT never saw, is never exported. Bad input exits non-zero with one
readable line and writes nothing.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stores.models import Store
from sunat.models import SunatDocument
from sunat.rules import LIMA
from sunat.services import document_file_name


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


class Command(BaseCommand):
    help = "Exporta los XML firmados y los CDR de SUNAT a una carpeta."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="carpeta de destino (se crea si no existe)")
        parser.add_argument("--since", help="desde la fecha de emisión YYYY-MM-DD (hora de Lima)")
        parser.add_argument("--store", help="código de establecimiento de la tienda (4 dígitos)")

    def handle(self, *args, **options):
        since: date | None = None
        if options["since"]:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", options["since"]):
                raise CommandError(f"--since debe tener el formato YYYY-MM-DD: {options['since']!r}")
            try:
                since = date.fromisoformat(options["since"])
            except ValueError:
                raise CommandError(f"--since no es una fecha válida: {options['since']!r}") from None
        documents = SunatDocument.objects.filter(is_demo=False).select_related("company").order_by("issued_at", "id")
        if options["store"] is not None:
            code = options["store"]
            if not re.fullmatch(r"\d{4}", code):
                raise CommandError(f"--store debe ser un código de establecimiento de 4 dígitos: {code!r}")
            if not Store.objects.filter(code=code).exists():
                raise CommandError(f"No existe una tienda con el código de establecimiento {code}.")
            documents = documents.filter(store__code=code)
        if since is not None:
            documents = documents.filter(issued_at__gte=datetime.combine(since, time.min, tzinfo=LIMA))

        out = Path(options["out"])
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out no es una carpeta: {out}")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"No se pudo crear la carpeta {out}: {exc.strerror}") from None
        if not os.access(out, os.W_OK):
            raise CommandError(f"No se puede escribir en la carpeta {out}.")

        xml_count = cdr_count = skipped = 0
        rows = documents.only(
            "id", "company__ruc", "document_type", "series", "number", "signed_xml", "cdr_zip", "issued_at"
        )
        try:
            for document in rows.iterator(chunk_size=200):
                if not document.signed_xml:
                    skipped += 1
                    continue
                name = document_file_name(document)
                _write(out / f"{name}.xml", bytes(document.signed_xml))
                xml_count += 1
                if document.cdr_zip:
                    _write(out / f"R-{name}.zip", bytes(document.cdr_zip))
                    cdr_count += 1
        except OSError as exc:
            raise CommandError(f"No se pudo escribir en {out}: {exc.strerror}") from None
        self.stdout.write(
            f"Exportados {xml_count} XML firmados y {cdr_count} CDR a {out}"
            + (f" ({skipped} sin firmar, omitidos)" if skipped else "")
        )
