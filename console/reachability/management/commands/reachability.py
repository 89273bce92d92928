"""`reachability`: what can reach what in a cluster snapshot, and why.

The arguments are parsed by `isolation.cli.reachability` (see `--help`), so this command hands
them over untouched.
"""

from __future__ import annotations

import argparse
import sys

from django.core.management.base import BaseCommand

from isolation.cli.reachability import main


class Command(BaseCommand):
    help = ("Evaluate NetworkPolicy reachability on a snapshot: --snapshot FILE.yaml "
            "[--queries Q.json] [--port 80/TCP ...] [--from-ip IP ...] "
            "[--format json|table|summary]")

    def add_arguments(self, parser):
        parser.add_argument("cli_args", nargs=argparse.REMAINDER)

    def run_from_argv(self, argv):
        sys.exit(main(argv[2:], stdout=self.stdout))

    def handle(self, *args, **options):
        code = main(options.get("cli_args") or [], stdout=self.stdout)
        if code:
            raise SystemExit(code)
