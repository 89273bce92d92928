"""`compile_isolation`: print the NetworkPolicies generated for a cluster snapshot."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand

from isolation.cli import compile


class Command(BaseCommand):
    help = "Print the NetworkPolicies the isolation engine generates for a snapshot file."

    def add_arguments(self, parser):
        compile.add_arguments(parser)

    def handle(self, *args, **options):
        code = compile.run(argparse.Namespace(**options), self.stdout, self.stderr)
        if code:
            raise SystemExit(code)
