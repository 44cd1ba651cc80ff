from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from stores.models import Company, Membership, Register, Role, Store


@pytest.fixture
def chain(db):
    company = Company.objects.create(
        ruc="20000000001", legal_name="Bodega SAC", address="Av. Lima 1", ubigeo="150101"
    )
    stores, registers, users = [], [], []
    for n in (1, 2):
        store = Store.objects.create(company=company, code=f"000{n - 1}", name=f"Tienda {n}", address="x", ubigeo="150101")
        register = Register.objects.create(company=company, store=store, code="CAJA1")
        user = get_user_model().objects.create_user(username=f"cajero{n}", password="clave-segura-1")
        Membership.objects.create(user=user, company=company, store=store, role=Role.CASHIER)
        stores.append(store)
        registers.append(register)
        users.append(user)
    return {"company": company, "stores": stores, "registers": registers, "users": users}

