from django.core.management.base import BaseCommand, CommandError

from cluster.crds import CRDFileError, install_crds
from cluster.errors import ClusterError
from console.core import cluster


class Command(BaseCommand):
    help = ("Create or update the Workspace and NamespaceNetworkPolicy CRDs (deploy/crds/) in "
            "the configured cluster and wait until they are served.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="ask the API server what would change, change nothing")

    def handle(self, *args, dry_run: bool, **options):
        try:
            results = install_crds(cluster.gateway(), dry_run=dry_run)
        except (ClusterError, CRDFileError) as exc:
            raise CommandError(str(exc)) from exc
        suffix = " (dry run)" if dry_run else ""
        for result in results:
            self.stdout.write(f"{result.name}: {result.action}{suffix}")
        if not dry_run:
            self.stdout.write(self.style.SUCCESS("The console's CRDs are installed and served."))
