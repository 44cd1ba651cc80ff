"""``manage.py fake_sunat``: run the local SUNAT double (see :mod:`sunat.fake.server`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sunat.fake.server import FakeSunatConfig, FakeSunatServer


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(value)
    return rate


class Command(BaseCommand):
    help = "Doble local de SUNAT (billService y billConsultService) para desarrollo y pruebas."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8900)
        parser.add_argument("--latency-ms", type=int, default=0, help="demora de cada respuesta (ms)")
        parser.add_argument(
            "--fault-rate", type=str, default="0", help="probabilidad 0..1 de fallas 0109/0130/HTTP 503/timeout"
        )
        parser.add_argument(
            "--lost-response-rate",
            type=str,
            default="0",
            help="probabilidad 0..1 de registrar el comprobante y perder la respuesta (timeout tras registrar)",
        )
        parser.add_argument("--seed", type=int, default=None, help="semilla de las fallas aleatorias")
        parser.add_argument("--timeout-sleep", type=float, default=35.0, help="segundos que duerme un timeout simulado")
        parser.add_argument("--ticket-polls", type=int, default=1, help="respuestas 98 antes de procesar un ticket")
        parser.add_argument("--no-sfs", action="store_true", help="no ejecutar las hojas XSL de SUNAT (saxonche)")

    def handle(self, *args, **options):
        try:
            fault_rate = _rate(options["fault_rate"])
            lost_rate = _rate(options["lost_response_rate"])
        except ValueError:
            raise CommandError("--fault-rate y --lost-response-rate deben ser números entre 0 y 1.") from None
        if options["port"] < 0 or options["port"] > 65535:
            raise CommandError("--port debe estar entre 0 y 65535.")
        if options["latency_ms"] < 0 or options["timeout_sleep"] < 0 or options["ticket_polls"] < 0:
            raise CommandError("--latency-ms, --timeout-sleep y --ticket-polls no pueden ser negativos.")
        config = FakeSunatConfig(
            latency_ms=options["latency_ms"],
            fault_rate=fault_rate,
            lost_response_rate=lost_rate,
            seed=options["seed"],
            timeout_sleep=options["timeout_sleep"],
            ticket_polls=options["ticket_polls"],
            validate_sfs=not options["no_sfs"],
        )
        try:
            server = FakeSunatServer(host=options["host"], port=options["port"], config=config)
        except OSError as exc:
            raise CommandError(f"No se pudo abrir el puerto {options['port']}: {exc.strerror}") from None
        self.stdout.write(
            f"fake_sunat escuchando en {server.url} (billService {server.bill_url}, "
            f"billConsultService {server.consult_url}); usuario {{RUC}}MODDATOS / moddatos"
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()
            server.fake.close()
