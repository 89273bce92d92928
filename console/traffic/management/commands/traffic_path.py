"""`traffic_path`: how external traffic reaches a Service or Ingress, node by node."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand

from isolation.cli import traffic as traffic_cli


class Command(BaseCommand):
    help = ("Print every path from the entry nodes to the pods of a NodePort/LoadBalancer "
            "Service or an Ingress in a snapshot: sources seen, verdicts, missing allowlist entries.")

    def add_arguments(self, parser):
        traffic_cli.add_arguments(parser)

    def handle(self, *args, **options):
        code = traffic_cli.run(argparse.Namespace(**options), self.stdout, self.stderr)
        if code:
            raise SystemExit(code)
