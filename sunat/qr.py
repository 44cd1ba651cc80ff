"""The QR code of the printed representation (RS 185-2015/SUNAT), as inline SVG.

Payload, pipe separated with a trailing pipe (SUNAT.md "Printed-representation QR")::

    RUC|TIPO|SERIE|NUMERO|IGV|TOTAL|FECHA|TIPO_DOC|NUM_DOC|HASH|

* TIPO is the catalog-01 document type (``01`` factura, ``03`` boleta);
* IGV and TOTAL are the snapshot's amounts, already rounded by ``sales.money`` (two decimals);
* FECHA is the issue date in America/Lima, ``YYYY-MM-DD``;
* TIPO_DOC/NUM_DOC are the buyer's catalog-06 type and number (``0`` and ``-`` when anonymous);
* HASH is the signature's DigestValue (``SunatDocument.xml_hash``), empty until the worker
  signs — the reprint carries it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import qrcode
import qrcode.image.svg

from .rules import fiscal_date
from .snapshot import DocumentSnapshot

if TYPE_CHECKING:
    from .models import SunatDocument


def _amount(value: Decimal) -> str:
    # Amounts come rounded from sales.money; this only formats them with two places.
    return f"{value:.2f}"


def qr_payload_from_snapshot(*, snapshot: DocumentSnapshot, xml_hash: str = "") -> str:
    """The QR text for a document snapshot and its (possibly still empty) hash."""
    fields = [
        snapshot.supplier.ruc,
        snapshot.document_type,
        snapshot.series,
        str(snapshot.number),
        _amount(snapshot.totals.igv),
        _amount(snapshot.totals.total),
        fiscal_date(snapshot.issued_at).isoformat(),
        snapshot.customer.doc_type,
        snapshot.customer.doc_number,
        xml_hash,
    ]
    return "|".join(fields) + "|"


def qr_payload(*, document: SunatDocument) -> str:
    """The QR text of a ``SunatDocument``: its frozen snapshot plus its ``xml_hash``."""
    snapshot = DocumentSnapshot.from_json(document.snapshot)
    return qr_payload_from_snapshot(snapshot=snapshot, xml_hash=document.xml_hash or "")


def qr_svg(payload: str) -> str:
    """Render ``payload`` as a standalone inline ``<svg>`` element (no XML declaration).

    Error correction level M, as SUNAT's printed representations use; the size is set by the
    caller's CSS (the SVG scales through its viewBox).
    """
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=2,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    qr.add_data(payload)
    qr.make(fit=True)
    svg = qr.make_image().to_string(encoding="unicode")
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1].lstrip()
    return svg
