"""`import_snapshot`: replace the simulator's state with a kubectl snapshot of a real cluster."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from isolation.snapshot import SnapshotError
from kubesim import import_snapshot


class Command(BaseCommand):
    help = ("Load `kubectl get ns,nodes,pods,svc,ep,ingress,networkpolicies,workspaces,nsnp -A -o yaml` "
            "output into the simulator's state file, replacing it (restart the simulator afterwards).")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="YAML files printed by kubectl")
        parser.add_argument("--state", default=None, metavar="FILE",
                            help="simulator state file (default: kubesim-state.json in the data directory)")

    def handle(self, *args, files: list[str], state: str | None, **options):
        state_file = state or str(Path(getattr(settings, "DATA_DIR", ".")) / "kubesim-state.json")
        try:
            summary = import_snapshot(files, state_file)
        except SnapshotError as exc:
            raise CommandError(f"Nothing was imported: {exc}") from None
        self.stdout.write(self.style.SUCCESS(str(summary)))
