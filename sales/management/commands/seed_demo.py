"""``manage.py seed_demo [--stores N] [--products M] [--password PW] [--pin PIN] [--history-days N]``
— an idempotent demo chain.

One company (RUC 20000000001), stores 1…N (establishment codes 0000, 0001, …) each with register
CAJA1, series B{n:03}/F{n:03} and credit-note series BC{n:02}/FC{n:02}; M products with valid EAN-13 barcodes (gravado, exonerado and
inafecto items, weighed KGM items, a plastic bag with ICBPER, bread/eggs that allow negative
stock, cigarettes that block it) priced in every store with stock ≥ 1 000 recorded through the
stock ledger; an ``admin`` superuser, cashiers ``cajero1``…``cajeroN`` and managers
``gerente1``…``gerenteN`` (``gerente{n}`` manages store n; approval PIN ``2468`` or ``--pin``); a
development certificate. It opens no cash session. Running it again tops up stock and resets the
passwords and PINs; it never duplicates rows.

``--history-days N`` (default 0: the contract's fresh numbering is unchanged) adds N past days
of each store's till through the real services, dated in the past (``sales.demo_history``):
sessions, sales, returns, voids and closes, their SUNAT documents demo history (settled as
accepted, never queued; the till refuses to return or void them). Days already there are
skipped.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from stdnum import ean

from sales.models import MovementKind, Product, StoreProduct
from sales.services.stock import stock_movements_record_bulk
from stores.admin_scoping import membership_staff_sync
from stores.models import Company, DocumentSeries, Membership, Register, Role, Store
from stores.services import PIN_RE, approval_pin_set
from sunat.services import sunat_account_ensure

RUC = "20000000001"
MIN_STOCK = Decimal("1000")

# name, unit, affectation, plastic bag, allows negative stock, base price in céntimos
SPECIAL = [
    ("Bolsa plástica", "NIU", "10", True, False, 10),
    ("Pan francés", "NIU", "20", False, True, 30),
    ("Huevos rosados (unidad)", "NIU", "20", False, True, 60),
    ("Cigarrillos Hamilton x20", "NIU", "10", False, False, 1500),
    ("Arroz Costeño a granel", "KGM", "10", False, False, 420),
    ("Azúcar rubia a granel", "KGM", "10", False, False, 380),
    ("Plátano de seda", "KGM", "20", False, False, 350),
    ("Papa amarilla", "KGM", "20", False, False, 450),
    ("Libro Cuaderno escolar", "NIU", "30", False, False, 550),
    ("Periódico El Comercio", "NIU", "30", False, False, 300),
]
GENERIC = [
    "Gaseosa Inca Kola 500 ml",
    "Agua San Luis 625 ml",
    "Leche Gloria tarro",
    "Aceite Primor 1 L",
    "Fideos Don Vittorio 500 g",
    "Atún Florida",
    "Galletas Soda Field",
    "Chocolate Sublime",
    "Detergente Bolívar 500 g",
    "Papel higiénico Suave x4",
    "Jabón Camay",
    "Cerveza Pilsen 630 ml",
    "Yogurt Laive 1 L",
    "Mantequilla Laive",
    "Sal Emsal 1 kg",
    "Café Altomayo 200 g",
    "Avena Quaker 400 g",
    "Mayonesa Alacena 100 g",
    "Pilas Panasonic AA",
    "Shampoo Sedal 190 ml",
]


def _barcode(i: int) -> str:
    body = f"7759{i:08d}"
    return body + ean.calc_check_digit(body)


def _catalogue(count: int) -> list[dict]:
    items = []
    for i in range(1, count + 1):
        if i <= len(SPECIAL):
            name, unit, aff, bag, negative, cents = SPECIAL[i - 1]
        else:
            base = GENERIC[(i - 1) % len(GENERIC)]
            variant = (i - 1) // len(GENERIC)
            name = base if variant == 0 else f"{base} ({variant + 1})"
            unit, aff, bag, negative = "NIU", "10", False, False
            cents = 50 + (i * 137) % 2450
        items.append(
            {
                "sku": f"DEMO{i:05d}",
                "barcode": _barcode(i),
                "name": name,
                "unit_code": unit,
                "affectation": aff,
                "is_plastic_bag": bag,
                "allows_negative_stock": negative,
                "price": Decimal(cents) / 100,
            }
        )
    return items


class Command(BaseCommand):
    help = "Crea (o completa) una cadena de bodegas de demostración. Idempotente."

    def add_arguments(self, parser):
        parser.add_argument("--stores", type=int, default=3, help="número de tiendas (por defecto 3)")
        parser.add_argument("--products", type=int, default=200, help="número de productos (por defecto 200)")
        parser.add_argument(
            "--password", default=None, help="contraseña de todos los usuarios (por defecto: aleatoria)"
        )
        parser.add_argument("--pin", default="2468", help="PIN de autorización de los gerentes (por defecto 2468)")
        parser.add_argument(
            "--history-days",
            type=int,
            default=0,
            help="días pasados de ventas de demostración por tienda (por defecto 0; SUNAT nunca los recibe)",
        )

    def handle(
        self, *args, stores: int, products: int, password: str | None, pin: str, history_days: int = 0, **options
    ):
        if not 1 <= stores <= 999:
            raise CommandError("--stores debe estar entre 1 y 999.")
        if not 1 <= products <= 99_999:
            raise CommandError("--products debe estar entre 1 y 99999.")
        if password is not None and len(password) < 8:
            raise CommandError("--password debe tener al menos 8 caracteres.")
        if not PIN_RE.match(pin or ""):
            raise CommandError("--pin debe tener de 4 a 8 dígitos.")
        if not 0 <= history_days <= 366:
            raise CommandError("--history-days debe estar entre 0 y 366.")
        printed_password = password or secrets.token_urlsafe(9)
        with transaction.atomic():
            company, store_rows = self._chain(stores)
            created_products, movements = self._catalogue(company, store_rows, products)
            usernames = self._users(company, store_rows, printed_password, pin)
        certificate = self._certificate(company)
        history = self._history(company, store_rows, history_days) if history_days else None
        self.stdout.write(f"Empresa {company.ruc} {company.legal_name}")
        for store in store_rows:
            n = int(store.code) + 1
            self.stdout.write(
                f"  Tienda {store.code} {store.name}: caja CAJA1, series B{n:03d}/F{n:03d}, notas de crédito BC{n:02d}/FC{n:02d}"
            )
        self.stdout.write(f"Productos: {products} ({created_products} nuevos); movimientos de stock: {movements}")
        self.stdout.write(f"Usuarios: {', '.join(usernames)} — contraseña: {printed_password}")
        self.stdout.write(f"PIN de autorización de los gerentes: {pin}")
        self.stdout.write(f"Certificado: {certificate}")
        if history is not None:
            self.stdout.write(
                f"Historial de demostración: {history.days} días, {history.sessions} turnos nuevos, {history.sales} ventas, "
                f"{history.returns} devoluciones, {history.voids} anulaciones (SUNAT no los recibe). Reportes: /reports/"
            )
            if history.registers_skipped:
                self.stdout.write(
                    f"Sin historial nuevo (tienen un turno abierto): {', '.join(history.registers_skipped)}"
                )

    def _chain(self, count: int) -> tuple[Company, list[Store]]:
        company, _ = Company.objects.get_or_create(
            ruc=RUC,
            defaults={
                "legal_name": "BODEGAS DEMO S.A.C.",
                "trade_name": "Bodegas Demo",
                "address": "AV. AREQUIPA 1234",
                "ubigeo": "150101",
            },
        )
        sunat_account_ensure(company=company, sol_user="MODDATOS", sol_password="moddatos")  # SUNAT beta's test user
        rows = []
        for n in range(1, count + 1):
            store, _ = Store.objects.get_or_create(
                company=company,
                code=f"{n - 1:04d}",
                defaults={"name": f"Bodega {n}", "address": f"JR. DEMO {n * 100}, LIMA", "ubigeo": "150101"},
            )
            register, _ = Register.objects.get_or_create(
                company=company, store=store, code="CAJA1", defaults={"name": "Caja 1"}
            )
            wanted = [("03", f"B{n:03d}"), ("01", f"F{n:03d}")]
            if n <= 99:  # credit notes: one series per family (boletas' B…, facturas' F…)
                wanted += [("07", f"BC{n:02d}"), ("07", f"FC{n:02d}")]
            for doc_type, series in wanted:
                DocumentSeries.objects.get_or_create(
                    company=company,
                    series=series,
                    defaults={"store": store, "register": register, "document_type": doc_type},
                )
            rows.append(store)
        return company, rows

    def _catalogue(self, company: Company, stores: list[Store], count: int) -> tuple[int, int]:
        wanted = _catalogue(count)
        existing = set(
            Product.objects.filter(company=company, sku__in=[w["sku"] for w in wanted]).values_list("sku", flat=True)
        )
        new = [
            Product(company=company, **{k: v for k, v in w.items() if k != "price"})
            for w in wanted
            if w["sku"] not in existing
        ]
        Product.objects.bulk_create(new)
        by_sku = {p.sku: p for p in Product.objects.filter(company=company, sku__in=[w["sku"] for w in wanted])}
        prices = {w["sku"]: w["price"] for w in wanted}
        have = set(
            StoreProduct.objects.filter(store__in=stores, product__in=by_sku.values()).values_list(
                "store_id", "product_id"
            )
        )
        StoreProduct.objects.bulk_create(
            [
                StoreProduct(company=company, store=store, product=p, price=prices[sku])
                for store in stores
                for sku, p in by_sku.items()
                if (store.pk, p.pk) not in have
            ]
        )
        low = StoreProduct.objects.filter(store__in=stores, product__in=by_sku.values(), stock__lt=MIN_STOCK)
        items = [(sp, MIN_STOCK - sp.stock) for sp in low]
        moved = stock_movements_record_bulk(items=items, kind=MovementKind.PURCHASE, note="seed_demo: stock inicial")
        return len(new), moved

    def _users(self, company: Company, stores: list[Store], password: str, pin: str) -> list[str]:
        User = get_user_model()
        admin, created = User.objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        names = ["admin"]
        for n, store in enumerate(stores, start=1):
            user, _ = User.objects.get_or_create(username=f"cajero{n}")
            user.set_password(password)
            user.save()
            Membership.objects.get_or_create(user=user, company=company, store=store, defaults={"role": Role.CASHIER})
            names.append(user.username)
        for n, store in enumerate(stores, start=1):
            manager, _ = User.objects.get_or_create(username=f"gerente{n}")
            manager.set_password(password)
            manager.save()
            Membership.objects.get_or_create(
                user=manager, company=company, store=store, defaults={"role": Role.STORE_MANAGER}
            )
            membership_staff_sync(user=manager)
            approval_pin_set(company=company, user=manager, pin=pin, changed_by=None)
            names.append(manager.username)
        return names

    def _history(self, company: Company, stores: list[Store], days: int):
        from sales.demo_history import StoreCrew, demo_history_seed

        User = get_user_model()
        crews = []
        for n, store in enumerate(stores, start=1):
            register = Register.objects.select_related("store", "company").get(
                company=company, store=store, code="CAJA1"
            )
            crews.append(
                StoreCrew(
                    register=register,
                    cashier=User.objects.get(username=f"cajero{n}"),
                    manager=User.objects.get(username=f"gerente{n}"),
                )
            )
        return demo_history_seed(crews=crews, days=days)

    def _certificate(self, company: Company) -> str:
        account = sunat_account_ensure(company=company)
        if account.certificate:
            return f"ya cargado ({account.certificate_subject})"
        try:
            from sunat.certificates import company_certificate_set, development_certificate_create
        except ImportError:
            return "no creado (sunat.certificates no disponible)"
        pfx, pfx_password = development_certificate_create(ruc=company.ruc, legal_name=company.legal_name)
        loaded = company_certificate_set(company=company, pfx=pfx, password=pfx_password)
        return f"de desarrollo, autofirmado ({loaded.subject}), vence {loaded.not_after:%Y-%m-%d}"
