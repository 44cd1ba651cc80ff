"""``manage.py restore_drill [--dump FILE] [--keep] [--bin-dir DIR]`` — see ops/restore_drill.py."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from ops import restore_drill


class Command(BaseCommand):
    help = (
        "Simulacro de restauración: pg_dump -Fc (o --dump FILE), pg_restore en una base nueva, conteo de "
        "ventas, comprobantes y eventos de auditoría, audit_verify y /health?deep=true; sale con 1 si algo falla."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dump", help="Un respaldo pg_dump -Fc existente (el de anoche) en vez de uno nuevo.")
        parser.add_argument("--keep", action="store_true", help="No borrar la base restaurada al terminar.")
        parser.add_argument("--bin-dir", help="Carpeta con pg_dump y pg_restore de la versión del servidor.")
        parser.add_argument("--verify-here", action="store_true", help="(interno) verificar la base de este proceso.")

    def handle(self, *args, **options) -> None:
        if options["verify_here"]:
            self.stdout.write(restore_drill.RESULT_MARK + json.dumps(restore_drill.verify_here(), default=str))
            return
        try:
            report = restore_drill.drill_run(
                dump=options["dump"], keep=options["keep"], bin_dir=options["bin_dir"], log=self.stdout.write
            )
        except restore_drill.DrillError as exc:
            raise CommandError(f"Simulacro de restauración fallido: {exc}") from None
        self.stdout.write(f"respaldo: {report.dump}")
        self.stdout.write(f"base restaurada: {report.scratch}" + (" (conservada)" if options["keep"] else " (borrada)"))
        for table, count in report.restored.items():
            expected = "" if report.expected is None else f" (respaldo: {report.expected.get(table)})"
            self.stdout.write(f"  {table}: {count} filas{expected}")
        for name, result in report.commands.items():
            self.stdout.write(f"  manage.py {name}: {result}")
        self.stdout.write(f"  /health?deep=true: {report.health.get('status')} (HTTP {report.health.get('http')})")
        self.stdout.write("tiempos (s): " + ", ".join(f"{k} {v}" for k, v in report.seconds.items()))
        if report.problems:
            raise CommandError("Simulacro de restauración fallido: " + "; ".join(report.problems))
        self.stdout.write(self.style.SUCCESS("Simulacro de restauración correcto."))
