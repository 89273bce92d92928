"""`reconcile`: bring the generated NetworkPolicies in step with the isolation intent."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cluster.errors import ClusterError
from console.tenancy import reconcile


class Command(BaseCommand):
    help = ("Repair drift of the generated NetworkPolicies (edited, deleted or stray nsnp-* "
            "policies) and record every repair in the history. --dry-run only prints the plan.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="print what would be written and write nothing")
        parser.add_argument("--namespace", action="append", dest="namespaces", metavar="NS",
                            help="reconcile only this namespace (repeatable)")

    def handle(self, *args, dry_run: bool, namespaces: list[str] | None, **options):
        try:
            outcome = reconcile.repair_drift(namespaces=namespaces, dry_run=dry_run)
        except ClusterError as exc:
            raise CommandError(exc.message) from exc
        for line in reconcile.report_lines(outcome):
            self.stdout.write(line)
