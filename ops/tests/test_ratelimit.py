from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.http import JsonResponse
from django.urls import path

from ops.models import RateLimitCounter
from ops.ratelimit import RateError, checkout_ratelimited, parse_rate, ratelimit_hit, ratelimit_prune, ratelimit_release


@checkout_ratelimited
def fake_checkout(request):
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [path("api/v1/checkout", fake_checkout)]


def test_parse_rate():
    assert parse_rate("10/5m") == (10, 300)
    assert parse_rate("600/m") == (600, 60)
    assert parse_rate("3/h") == (3, 3600)
    assert parse_rate("5/30s") == (5, 30)
    for bad in ("", "10", "x/m", "0/m", "10/5y"):
        with pytest.raises(RateError):
            parse_rate(bad)


@pytest.mark.django_db(transaction=True)
def test_the_counter_is_atomic_across_threads(counter):
    seen: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        for _ in range(10):
            result = ratelimit_hit(scope="t", key="same", rate="1000/h")
            with lock:
                seen.append(result.hits)
        connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(1, 81))  # no lost or duplicated increments
    # The counter lives where CACHE_URL says: PostgreSQL rows only without Redis.
    assert RateLimitCounter.objects.exists() == (counter == "postgres")


@pytest.mark.django_db
def test_limit_refuses_past_rate_and_keys_are_independent(counter):
    results = [ratelimit_hit(scope="s", key="a", rate="3/m") for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert 1 <= results[-1].retry_after <= 60
    assert ratelimit_hit(scope="s", key="b", rate="3/m").allowed
    assert ratelimit_hit(scope="other", key="a", rate="3/m").allowed
    assert ratelimit_prune(older_than_seconds=0) == 0  # current windows are kept
    ratelimit_release(result=results[-1])
    ratelimit_release(result=results[-2])
    assert ratelimit_hit(scope="s", key="a", rate="3/m").allowed  # two hits taken back: 3 of 3
    assert not ratelimit_hit(scope="s", key="a", rate="3/m").allowed


@pytest.mark.django_db
def test_login_is_limited_per_ip_and_username(client, settings, chain):
    settings.RATELIMIT_LOGIN = "3/5m"
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": "cajero1", "password": "mala"})
        assert response.status_code != 429
    refused = client.post("/accounts/login/", {"username": "cajero1", "password": "clave-segura-1"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Demasiadas" in refused.json()["detail"]
    # The same cashier from another address is not locked out by someone else's guesses.
    elsewhere = client.post(
        "/accounts/login/", {"username": "cajero1", "password": "clave-segura-1"}, REMOTE_ADDR="10.0.0.9"
    )
    assert elsewhere.status_code == 302
    # Another user behind the same address (one NAT for the whole store) is unaffected.
    ok = client.post("/accounts/login/", {"username": "cajero2", "password": "clave-segura-1"})
    assert ok.status_code == 302


LOGIN = "/accounts/login/"
GOOD, BAD = "clave-segura-1", "mala"


def _login(client, username, password, ip="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip).status_code


@pytest.mark.django_db
def test_successful_sign_ins_count_against_no_limit(client, settings, chain, counter):
    settings.RATELIMIT_LOGIN = settings.RATELIMIT_LOGIN_IP = settings.RATELIMIT_LOGIN_USER = "2/5m"
    for _ in range(6):
        assert _login(client, "cajero1", GOOD) == 302
        client.logout()
    assert [_login(client, "cajero1", BAD) for _ in range(3)] == [200, 200, 429]


@pytest.mark.django_db
def test_one_address_spraying_a_password_over_every_username_is_limited(client, settings, chain, counter):
    settings.RATELIMIT_LOGIN_IP = "3/5m"
    assert [_login(client, name, BAD, ip="203.0.113.7") for name in ("ana", "beto", "cajero2")] == [200, 200, 200]
    # The fourth username from that address is refused, even with its right password.
    assert _login(client, "cajero1", GOOD, ip="203.0.113.7") == 429
    assert _login(client, "cajero1", GOOD, ip="198.51.100.4") == 302  # another address signs in


@pytest.mark.django_db
def test_many_addresses_hammering_one_username_are_limited(client, settings, chain, counter):
    settings.RATELIMIT_LOGIN_USER = "3/5m"
    assert [_login(client, "cajero1", BAD, ip=f"203.0.113.{n}") for n in (1, 2, 3)] == [200, 200, 200]
    refused = client.post(LOGIN, {"username": "CAJERO1 ", "password": GOOD}, REMOTE_ADDR="198.51.100.4")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1  # case and spaces do not matter
    assert _login(client, "cajero2", GOOD, ip="203.0.113.1") == 302  # another username is unaffected


@pytest.mark.django_db
def test_refused_attempts_spend_no_other_limit(client, settings, chain, counter):
    """Hammering one (address, username) pair past its limit does not fill the username's limit,
    so an attacker at one address cannot lock the cashier out everywhere."""
    settings.RATELIMIT_LOGIN = "2/5m"
    settings.RATELIMIT_LOGIN_USER = "4/5m"
    settings.RATELIMIT_LOGIN_IP = "4/5m"
    codes = [_login(client, "cajero1", BAD, ip="203.0.113.7") for _ in range(12)]
    assert codes == [200, 200] + [429] * 10
    assert _login(client, "cajero1", BAD, ip="198.51.100.4") == 200  # 3rd failure of the username
    assert _login(client, "cajero1", GOOD, ip="198.51.100.5") == 302  # 4th attempt: not refused
    assert _login(client, "cajero2", BAD, ip="203.0.113.7") == 200  # the address has used 2 of 4


@pytest.mark.django_db
def test_a_lockout_ends_with_its_window_whatever_the_attacker_sends(client, settings, chain, counter):
    import time

    settings.RATELIMIT_LOGIN_USER = "2/2s"
    time.sleep(2 - time.time() % 2 + 0.05)  # start at the beginning of a 2-second window
    assert [_login(client, "cajero1", BAD, ip=f"203.0.113.{n}") for n in (1, 2)] == [200, 200]
    refused = client.post(LOGIN, {"username": "cajero1", "password": GOOD}, REMOTE_ADDR="198.51.100.4")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 2
    deadline = time.time() + 2 - time.time() % 2  # the window's end
    while time.time() < deadline - 0.2:  # the attacker keeps guessing through the lockout
        assert _login(client, "cajero1", BAD, ip="203.0.113.3") == 429
        time.sleep(0.05)
    time.sleep(max(0.0, deadline - time.time()) + 0.05)
    assert _login(client, "cajero1", GOOD, ip="198.51.100.4") == 302


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_never_get_more_than_the_limit(settings, chain, counter):
    from django.test import Client

    settings.RATELIMIT_LOGIN_USER = "5/5m"
    codes: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def guesser(n):
        client = Client()
        barrier.wait()
        for _ in range(4):
            code = _login(client, "cajero1", BAD, ip=f"203.0.113.{n}")
            with lock:
                codes.append(code)
        connections.close_all()

    threads = [threading.Thread(target=guesser, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] * 5 + [429] * 19


@pytest.mark.django_db
def test_login_behind_a_trusted_proxy_counts_the_client_address(client, settings, chain):
    """Every login arrives from the proxy's socket address; X-Forwarded-For tells clients apart."""
    settings.RATELIMIT_LOGIN = "2/5m"
    settings.FORWARDED_ALLOW_IPS = ["127.0.0.1"]
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(2):
        client.post(
            "/accounts/login/",
            {"username": "cajero1", "password": "mala"},
            HTTP_X_FORWARDED_FOR="203.0.113.7",
            **via_proxy,
        )
    assert (
        client.post(
            "/accounts/login/",
            {"username": "cajero1", "password": "mala"},
            HTTP_X_FORWARDED_FOR="203.0.113.7",
            **via_proxy,
        ).status_code
        == 429
    )
    other_client = client.post(
        "/accounts/login/",
        {"username": "cajero1", "password": "clave-segura-1"},
        HTTP_X_FORWARDED_FOR="198.51.100.4",
        **via_proxy,
    )
    assert other_client.status_code == 302
    # An untrusted peer cannot pick its own address by sending the header.
    settings.FORWARDED_ALLOW_IPS = ["10.9.9.9"]
    spoofed = client.post(
        "/accounts/login/", {"username": "cajero1", "password": "mala"}, HTTP_X_FORWARDED_FOR="192.0.2.1", **via_proxy
    )
    assert spoofed.status_code != 429  # counted as 127.0.0.1|cajero1, a fresh key
    for _ in range(2):
        client.post(
            "/accounts/login/",
            {"username": "cajero1", "password": "mala"},
            HTTP_X_FORWARDED_FOR="192.0.2.2",
            **via_proxy,
        )
    assert (
        client.post(
            "/accounts/login/",
            {"username": "cajero1", "password": "mala"},
            HTTP_X_FORWARDED_FOR="192.0.2.3",
            **via_proxy,
        ).status_code
        == 429
    )


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_checkout_limit_is_per_register(client, settings, chain):
    settings.RATELIMIT_CHECKOUT = "2/m"
    one, two = chain["users"]
    client.force_login(one)
    codes = [client.post("/api/v1/checkout", {}, content_type="application/json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    # The other store's register (another cashier) is not limited by register one's traffic.
    client.force_login(two)
    assert client.post("/api/v1/checkout", {"register": "CAJA1"}, content_type="application/json").status_code == 201


@pytest.mark.django_db
def test_real_checkout_is_limited_per_register(settings, counter):
    import json
    import uuid

    from django.test import Client

    from sales.tests.factories import cashier_make, company_make, product_make, store_make

    settings.RATELIMIT_CHECKOUT = "2/m"
    company = company_make()
    clients = []
    for n, code in ((1, "0000"), (2, "0001")):
        store, _ = store_make(company=company, code=code, n=n)
        sp = product_make(store=store, price="2.50", stock="100")
        client = Client()
        client.force_login(cashier_make(store=store))
        clients.append((client, sp))

    def sell(client, sp):
        body = {
            "idempotency_key": str(uuid.uuid4()),
            "document_type": "03",
            "lines": [{"barcode": sp.product.barcode, "quantity": "1"}],
            "payments": [{"method": "cash", "amount": "5.00"}],
        }
        return client.post("/api/v1/checkout", json.dumps(body), content_type="application/json")

    first, sp1 = clients[0]
    statuses = [sell(first, sp1).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    refused = sell(first, sp1)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    second, sp2 = clients[1]
    assert sell(second, sp2).status_code == 201  # another register keeps selling


@pytest.mark.django_db
def test_only_a_checkout_the_view_would_serve_spends_the_registers_limit(settings, counter):
    """The checkout's method, sign-in and CSRF checks come before the limit: a GET (405), an
    anonymous POST and a POST without a CSRF token (403) cost the register nothing, however many."""
    import json
    import uuid

    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    from sales.tests.factories import cashier_make, company_make, product_make, store_make

    settings.RATELIMIT_CHECKOUT = "1/m"
    store, _ = store_make(company=company_make(), code="0000", n=1)
    sp = product_make(store=store, price="2.50", stock="100")
    cashier = Client(enforce_csrf_checks=True)
    cashier.force_login(cashier_make(store=store))

    def body():
        return json.dumps(
            {
                "idempotency_key": str(uuid.uuid4()),
                "register": "CAJA1",
                "document_type": "03",
                "lines": [{"barcode": sp.product.barcode, "quantity": "1"}],
                "payments": [{"method": "cash", "amount": "5.00"}],
            }
        )

    for _ in range(3):
        assert cashier.get("/api/v1/checkout").status_code == 405
        assert Client().post("/api/v1/checkout", body(), content_type="application/json").status_code == 403
        forged = cashier.post("/api/v1/checkout", body(), content_type="application/json")
        assert forged.status_code == 403 and "csrf" in forged.json()["errors"]
    token = _get_new_csrf_string()
    cashier.cookies["csrftoken"] = token
    sell = [
        cashier.post("/api/v1/checkout", body(), content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code
        for _ in range(2)
    ]
    assert sell == [201, 429]


@pytest.mark.django_db
def test_admin_login_shares_the_login_limit(client, settings):
    settings.RATELIMIT_LOGIN = "2/5m"
    url = f"/{settings.ADMIN_URL}login/"
    assert client.get(url).status_code == 200
    for _ in range(2):
        assert client.post(url, {"username": "admin", "password": "mala"}).status_code == 200  # form error
    refused = client.post(url, {"username": "admin", "password": "mala"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1


@pytest.mark.django_db
def test_admin_login_shares_the_per_username_limit_with_the_tills_login(client, settings):
    settings.RATELIMIT_LOGIN_USER = "2/5m"
    url = f"/{settings.ADMIN_URL}login/"
    assert [_login(client, "admin", BAD, ip=ip) for ip in ("203.0.113.1", "203.0.113.2")] == [200, 200]
    refused = client.post(url, {"username": "admin", "password": BAD}, REMOTE_ADDR="198.51.100.4")
    assert refused.status_code == 429


@pytest.mark.django_db
def test_look_alike_usernames_share_the_username_limit(client, settings, chain, counter):
    """Django signs ``ｃａｊｅｒｏ1`` (fullwidth) in as ``cajero1`` (``UsernameField`` normalises
    NFKC), so every spelling of one username spends the same counters."""
    settings.RATELIMIT_LOGIN_USER = "3/5m"
    assert _login(client, "ｃａｊｅｒｏ1", GOOD, ip="198.51.100.9") == 302  # the same user
    client.logout()
    variants = ("ｃａｊｅｒｏ1", "ＣＡＪＥＲＯ1", " Cajero1")
    assert [_login(client, name, BAD, ip=f"203.0.113.{n}") for n, name in enumerate(variants, 1)] == [200] * 3
    assert _login(client, "cajero1", GOOD, ip="198.51.100.4") == 429
    assert _login(client, "ｃａｊｅｒｏ1", GOOD, ip="198.51.100.5") == 429


@pytest.mark.django_db
def test_look_alike_usernames_share_the_pair_limit(client, settings, chain, counter):
    settings.RATELIMIT_LOGIN = "2/5m"
    assert [_login(client, name, BAD) for name in ("ｃａｊｅｒｏ1", "CAJERO1")] == [200, 200]
    assert _login(client, "cajero1", GOOD) == 429


def _checkout_raw(client, body: str) -> int:
    return client.post("/api/v1/checkout", body, content_type="application/json").status_code


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_register_code_with_spaces_spends_that_registers_limit(client, settings, chain):
    """The schema strips ``register``: ``" CAJA1"`` sells from CAJA1, so it counts as CAJA1."""
    settings.RATELIMIT_CHECKOUT = "2/m"
    client.force_login(chain["users"][0])
    bodies = ('{"register": "CAJA1"}', '{"register": " CAJA1"}', '{"register": "CAJA1\\t "}', "{}")
    assert [_checkout_raw(client, b) for b in bodies] == [201, 201, 429, 429]


@pytest.mark.urls(__name__)
@pytest.mark.django_db
@pytest.mark.parametrize("code", ["\\ud800", "CAJA\\udfff1", "CAJA1\\u0000", "\\u0000"])
def test_a_register_code_no_register_can_have_is_not_found(client, settings, chain, code):
    """A lone surrogate (no UTF-8 form) or NUL never reaches the database: the limiter treats
    it as a register not found and keys it on the cashier."""
    settings.RATELIMIT_CHECKOUT = "1/m"
    client.force_login(chain["users"][0])
    body = '{"register": "' + code + '"}'
    assert [_checkout_raw(client, body) for _ in range(2)] == [201, 429]
    assert _checkout_raw(client, '{"register": "CAJA1"}') == 201  # the register's own limit is untouched


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_body_nested_past_the_parsers_limit_is_unkeyable_like_malformed_json(client, settings, chain):
    settings.RATELIMIT_CHECKOUT = "2/m"
    client.force_login(chain["users"][0])
    deep = '{"lines":' + "[" * 50_000 + "]" * 50_000 + "}"
    # Like a body that is not JSON: the cashier's only register (CAJA1) is the one counted.
    assert [_checkout_raw(client, b) for b in (deep, "{not json", '{"register": "CAJA1"}')] == [201, 201, 429]
