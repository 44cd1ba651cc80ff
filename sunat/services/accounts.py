"""Each company's SUNAT account: its clave SOL (the certificate: ``sunat.certificates``)."""

from __future__ import annotations

from stores.models import Company

from ..models import SunatAccount


def sunat_account_ensure(*, company: Company, sol_user: str = "", sol_password: str = "") -> SunatAccount:
    """The company's SUNAT account, created with this clave SOL when it has none; an existing
    account is returned unchanged (its credentials are a company admin's to change, in the sunat
    admin). One ``get_or_create`` in the caller's transaction, or its own."""
    account, _ = SunatAccount.objects.get_or_create(
        company=company, defaults={"sol_user": sol_user, "sol_password": sol_password}
    )
    return account
