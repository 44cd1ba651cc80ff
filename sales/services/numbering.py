"""Document numbers: the next correlative of a register's series, taken inside the open cash
session. The one place that moves ``DocumentSeries.last_number``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from sales.models import CashSession
from stores.models import DocumentSeries, Register

from .errors import TillError
from .sessions import SESSION_NONE

NO_SERIES = "La caja no tiene una serie para este tipo de comprobante."

# One statement, one round trip: the register's open session taken FOR SHARE (a close holding it
# FOR UPDATE makes this wait, then find it closed: no row), then the series row locked and
# incremented. The session lock comes first, in every action that takes both.
_TAKE_SQL = f"""
WITH open_session AS MATERIALIZED (
    SELECT id FROM {CashSession._meta.db_table}
    WHERE company_id = %(company)s AND register_id = %(register)s AND status = 'open'
    FOR SHARE
)
UPDATE {DocumentSeries._meta.db_table} AS ds SET last_number = ds.last_number + 1
FROM open_session
WHERE ds.register_id = %(register)s AND ds.document_type = %(type)s AND left(ds.series, 1) LIKE %(family)s
RETURNING ds.id, ds.series, ds.last_number, open_session.id
"""


@dataclass(frozen=True)
class Number:
    series_id: int
    series: str
    number: int
    session_id: int


def series_number_take(*, register: Register, document_type: str, family: str = "") -> Number:
    """Take the next correlative of ``register``'s series for ``document_type`` (a note's
    ``family``: ``"B"`` or ``"F"``) inside the register's open cash session.

    Must run inside the action's ``atomic()``. The series row stays locked until the transaction
    ends (so a register's documents get consecutive numbers, and a rolled-back action gives its
    number back), and the session stays held ``FOR SHARE``. Raises :class:`TillError`: 409 when
    the register has no open session, 400 when it has no such series.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _TAKE_SQL,
            {"company": register.company_id, "register": register.pk, "type": document_type, "family": family or "%"},
        )
        row = cursor.fetchone()
    if row is not None:
        return Number(series_id=row[0], series=row[1], number=row[2], session_id=row[3])
    if not CashSession.objects.filter(company_id=register.company_id, register_id=register.pk, status="open").exists():
        raise TillError.single("session", SESSION_NONE, status=409)
    raise TillError.single("document_type", NO_SERIES)
