"""`kubesim`: serve the built-in Kubernetes API simulator in the foreground."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

import kubesim
from kubesim.persistence import StateFileError


class Command(BaseCommand):
    help = "Serve the built-in Kubernetes API simulator (the demo cluster by default) until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001, help="port to listen on (default 8001)")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--seed", choices=["demo", "empty"], default="demo",
                            help="what a fresh simulator contains (default demo)")
        parser.add_argument("--state", default=None, metavar="FILE",
                            help="keep the state in FILE (loaded when it exists, written on every change)")

    def handle(self, *args, port: int, host: str, seed: str, state: str | None, **options):
        try:
            kubesim.serve_forever(seed=seed, state_file=state, host=host, port=port)
        except (StateFileError, OSError) as exc:
            raise CommandError(str(exc)) from None
