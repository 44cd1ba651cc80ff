from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model

from stores.models import Company, Membership, Register, Role, Store


@pytest.fixture
def chain(db):
    company = Company.objects.create(ruc="20000000001", legal_name="Bodega SAC", address="Av. Lima 1", ubigeo="150101")
    stores, registers, users = [], [], []
    for n in (1, 2):
        store = Store.objects.create(
            company=company, code=f"000{n - 1}", name=f"Tienda {n}", address="x", ubigeo="150101"
        )
        register = Register.objects.create(company=company, store=store, code="CAJA1")
        user = get_user_model().objects.create_user(username=f"cajero{n}", password="clave-segura-1")
        Membership.objects.create(user=user, company=company, store=store, role=Role.CASHIER)
        stores.append(store)
        registers.append(register)
        users.append(user)
    return {"company": company, "stores": stores, "registers": registers, "users": users}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A private redis-server on a free port (nothing kept on disk), as ``CACHE_URL`` would name it.
    .ci/run installs redis-server; elsewhere the tests that need it say why they skip."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "redis-server is not installed (apt-get install redis-server): the Redis rate-limit counter is untested here"
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError("redis-server did not start listening")
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(params=["postgres", "redis"])
def counter(request, settings) -> str:
    """The rate-limit store: the PostgreSQL counter (no ``CACHE_URL``) or Redis (``CACHE_URL`` set)."""
    if request.param == "redis":
        from django.core.cache import cache

        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": request.getfixturevalue("redis_url"),
            }
        }
        cache.clear()
    return request.param
