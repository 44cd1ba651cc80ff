"""Reads that enforce tenancy: what a user may see. "Not yours" and "does not exist" look alike."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import Company, Membership, Register, Role, Store
from .rows import columns_select


class NotFound(Exception):
    """Raised for objects outside the user's stores and for objects that do not exist alike."""


class RegisterInactive(NotFound):
    """The user's register exists, but it, its store or its company is deactivated: it sells
    nothing. ``message`` says why, in Spanish."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def register_inactive_reason(register: Register) -> str | None:
    """Why ``register`` (with its store and company loaded) cannot sell, or None."""
    if not register.company.is_active:
        return f"La empresa {register.company.legal_name} está desactivada: sus cajas no venden."
    if not register.store.is_active:
        return f"La tienda {register.store.code} {register.store.name} está desactivada: sus cajas no venden."
    if not register.is_active:
        return f"La caja {register.code} de la tienda {register.store.code} está desactivada."
    return None


def _membership_grants(*, user: User, store_ref: str, company_ref: str) -> Exists:
    """The tenancy rule, as one ``EXISTS`` on the outer row's store and company: the user is a
    member of that store, or an admin of that company."""
    return Exists(
        Membership.objects.filter(user=user).filter(
            Q(store_id=OuterRef(store_ref)) | Q(role=Role.COMPANY_ADMIN, company_id=OuterRef(company_ref))
        )
    )


def store_list_for_user(*, user: User) -> QuerySet[Store]:
    """Stores the user belongs to: every store for a superuser, the company's for its admins."""
    if not user.is_authenticated:
        return Store.objects.none()
    if user.is_superuser:
        return Store.objects.all()
    return Store.objects.filter(_membership_grants(user=user, store_ref="pk", company_ref="company_id"))


def company_list_for_user(*, user: User) -> QuerySet[Company]:
    if not user.is_authenticated:
        return Company.objects.none()
    if user.is_superuser:
        return Company.objects.all()
    return Company.objects.filter(memberships__user=user).distinct()


def register_list_for_user(*, user: User, active: bool = True) -> QuerySet[Register]:
    """The registers of the user's stores (the rule of :func:`store_list_for_user`, applied to the
    register's store: one ``EXISTS``); with ``active``, only those whose register, store and
    company are all active (the ones that sell)."""
    if not user.is_authenticated:
        return Register.objects.none()
    registers = Register.objects.all()
    if active:
        registers = registers.filter(is_active=True, store__is_active=True, company__is_active=True)
    if user.is_superuser:
        return registers
    return registers.filter(_membership_grants(user=user, store_ref="store_id", company_ref="store__company_id"))


def register_key(register: Register) -> str:
    """The identifier of a register that :func:`register_access` accepts from any of its users."""
    return f"{register.store.code}/{register.code}"


def register_access(*, user: User, code: str | None) -> Register:
    """The register the user sells from, with its store and company.

    With ``code``, it must be one of the user's registers: ``"CAJA1"`` when that code names only
    one of them, or ``"0001/CAJA1"`` (store code / register code) for a user of several stores,
    whose stores reuse register codes. Without it, the user must have exactly one active register.
    Raises :class:`NotFound` otherwise, and :class:`RegisterInactive` (with the reason) when the
    register, its store or its company is deactivated.

    One query: the till's read runs on every sale, so it is a cursor ``SELECT`` of the three rows
    with the tenancy rule of :func:`register_list_for_user` written in SQL (a test holds the two
    to the same answers); what is not exactly one register (none, several, an inactive one named
    by nobody) is settled by the ``QuerySet`` path, which also words the refusal.
    """
    rows = _register_select(user=user, code=code) if user.is_authenticated else []
    found = rows[0] if len(rows) == 1 else _register_find(user=user, code=code)
    reason = register_inactive_reason(found)
    if reason:
        raise RegisterInactive(reason)
    return found


_REGISTER_FIELDS, _REGISTER_COLUMNS = columns_select(model=Register, alias="r")
_STORE_FIELDS, _STORE_COLUMNS = columns_select(model=Store, alias="s")
_COMPANY_FIELDS, _COMPANY_COLUMNS = columns_select(model=Company, alias="c")
_REGISTER_SQL = f"""
SELECT {_REGISTER_COLUMNS}, {_STORE_COLUMNS}, {_COMPANY_COLUMNS}
FROM {Register._meta.db_table} r
JOIN {Store._meta.db_table} s ON s.id = r.store_id
JOIN {Company._meta.db_table} c ON c.id = r.company_id
WHERE (%(superuser)s OR EXISTS (
        SELECT 1 FROM {Membership._meta.db_table} m
        WHERE m.user_id = %(user)s AND (m.store_id = r.store_id OR (m.role = %(admin)s AND m.company_id = s.company_id))
      ))
  AND (CASE WHEN %(any)s THEN r.is_active AND s.is_active AND c.is_active
            ELSE r.code = %(register)s AND (%(store)s = '' OR s.code = %(store)s) END)
LIMIT 2
"""


def _register_select(*, user: User, code: str | None) -> list[Register]:
    """At most two of the registers ``code`` names among the user's (any, active or not), or of
    the user's active registers without ``code``: what ``register_list_for_user`` filtered by the
    code gives, in one cursor query."""
    store_code, _, register_code = (code or "").rpartition("/")
    with connection.cursor() as cursor:
        cursor.execute(
            _REGISTER_SQL,
            {
                "superuser": bool(user.is_superuser),
                "user": user.pk,
                "admin": Role.COMPANY_ADMIN,
                "any": not code,
                "register": register_code,
                "store": store_code,
            },
        )
        return [_register_from_row(row) for row in cursor.fetchall()]


def _register_from_row(row: tuple) -> Register:
    n, m = len(_REGISTER_FIELDS), len(_REGISTER_FIELDS) + len(_STORE_FIELDS)
    register = Register.from_db(connection.alias, _REGISTER_FIELDS, row[:n])
    register.store = Store.from_db(connection.alias, _STORE_FIELDS, row[n:m])
    register.company = Company.from_db(connection.alias, _COMPANY_FIELDS, row[m:])
    return register


def _register_find(*, user: User, code: str | None) -> Register:
    """The register ``code`` names among all of the user's registers (active or not: a
    deactivated one is refused with its reason, not as missing), or the user's only active one."""
    registers = register_list_for_user(user=user, active=not code).select_related("store", "company")
    if code:
        store_code, _, register_code = code.rpartition("/")
        registers = registers.filter(code=register_code)
        if store_code:
            registers = registers.filter(store__code=store_code)
    found = list(registers[:2])
    if len(found) == 1:
        return found[0]
    if not code and not found:
        # No active register: name the reason when the user's one register is deactivated.
        inactive = list(register_list_for_user(user=user, active=False).select_related("store", "company")[:2])
        if len(inactive) == 1:
            return inactive[0]
    raise NotFound(code)


def store_user_is_manager(*, user: User, store: Store) -> bool:
    """A superuser, a manager of ``store`` or an admin of its company: who may do a cashier's
    sensitive actions without an approval, and who may approve them (with a PIN)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        Q(role=Role.STORE_MANAGER, store_id=store.pk) | Q(role=Role.COMPANY_ADMIN, company_id=store.company_id),
        user=user,
    ).exists()


def store_list_managed_by(*, user: User) -> QuerySet[Store]:
    """Stores whose reports the user may read: every store for a superuser, the company's stores
    for its admins, the stores they manage for store managers; none for a cashier (one ``EXISTS``
    per store, like :func:`store_list_for_user`)."""
    if not user.is_authenticated or not user.is_active:
        return Store.objects.none()
    if user.is_superuser:
        return Store.objects.all()
    return Store.objects.filter(
        Exists(
            Membership.objects.filter(user=user).filter(
                Q(role=Role.STORE_MANAGER, store_id=OuterRef("pk"))
                | Q(role=Role.COMPANY_ADMIN, company_id=OuterRef("company_id"))
            )
        )
    )
