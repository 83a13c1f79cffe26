from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Migrate, load the demo region and serve it at http://127.0.0.1:8000 "
        "(plain HTTP, DEBUG on, two-step sign-in not enforced)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare the database and stop."
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Serve without a background worker (imports and recomputes then wait).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("seed_demo")
        if options["no_serve"]:
            return
        self.stdout.write(
            f"Serving the demo at http://{options['addrport']}/ (data in {settings.DATA_DIR})"
        )
        # Imports, recomputes and emails run in the background, as in production: one worker
        # beside the server, with the same environment, stopped with it.
        worker = None
        # A SIGTERM (how service managers and test harnesses stop a server) would otherwise end
        # this process without running the finally below, leaving the worker orphaned.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        if not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "commonground", "worker"])
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
