"""`traffic_path`: how external traffic reaches a Service or Ingress, node by node.

    python manage.py traffic_path --snapshot FILE.yaml (--service NS/NAME | --ingress NS/NAME)
        [--client-ip IP] [--cni routed|ipip|vxlan] [--format json|text]

The contract is stable (tools outside the suite call it): one path per entry node and target
pod; `--format json` prints `{"paths": [...]}` with the fields of `Path.to_dict()`. Extra
options (`--port`, `--controller`, `--svg`) are additions, never changes. Bad input exits with 2
and a message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from isolation.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    CommandParser,
    add_snapshot_argument,
    run_command,
    snapshot_text,
    warn_ignored,
)
from isolation.paths.diagrams import render_svg
from isolation.paths.trace import CNI_MODES, DEFAULT_CLIENT_IP, PathInputError, TraceResult, trace
from isolation.paths.types import Path
from isolation.snapshot import Snapshot, SnapshotError, load_snapshot


def _object_ref(value: str) -> tuple[str, str]:
    namespace, _, name = value.partition("/")
    if not namespace or not name or "/" in name:
        raise argparse.ArgumentTypeError(f"expected NAMESPACE/NAME, got {value!r}")
    return namespace, name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options; shared by `main` and the Django management command."""
    add_snapshot_argument(parser)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--service", type=_object_ref, metavar="NS/NAME",
                        help="a NodePort or LoadBalancer Service")
    target.add_argument("--ingress", type=_object_ref, metavar="NS/NAME", help="an Ingress")
    parser.add_argument("--client-ip", default=DEFAULT_CLIENT_IP, metavar="IP",
                        help=f"the external client's address (default {DEFAULT_CLIENT_IP})")
    parser.add_argument("--cni", choices=CNI_MODES, default=None,
                        help="override the CNI mode detected from IPPools or node annotations")
    parser.add_argument("--port", default=None, metavar="PORT",
                        help="Service port to follow, by number or name (default: the first; "
                             "for an Ingress the controller's http port)")
    parser.add_argument("--controller", type=_object_ref, default=None, metavar="NS/NAME",
                        help="the ingress controller's Service, when it is not recognised")
    parser.add_argument("--compile-isolation", action="store_true",
                        help="evaluate with the policies the isolation engine generates from "
                             "the snapshot's intent (as after a reconcile), in place of the "
                             "console-managed ones the snapshot holds")
    parser.add_argument("--svg", default=None, metavar="FILE.svg",
                        help="also write the diagram of every path to this file")
    parser.add_argument("--format", choices=("json", "text"), default="text")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="traffic_path", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command with `argv` (without the program name); returns the exit code."""
    return run_command(build_parser(), argv, run)


def run(options: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Trace and print; the exit code is 0, or 2 for input that cannot be used."""
    text = snapshot_text(options.snapshot, err)
    if text is None:
        return EXIT_BAD_INPUT
    port = options.port
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    try:
        snapshot = load_snapshot(text)
        warn_ignored(snapshot, options.snapshot, err)
        if options.compile_isolation:
            snapshot = with_compiled_isolation(snapshot)
        result = trace(snapshot, service=options.service, ingress=options.ingress,
                       client_ip=options.client_ip, cni=options.cni, port=port,
                       controller=options.controller)
    except (SnapshotError, PathInputError) as exc:
        err.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # A NetworkPolicy the engine refuses, or a field of an unexpected shape: still a
        # message about the input, not a crash.
        err.write(f"error: {options.snapshot}: {exc}\n")
        return EXIT_BAD_INPUT
    if options.svg:
        kind = "Ingress" if options.ingress else result.exposure.kind
        try:
            with open(options.svg, "w", encoding="utf-8") as handle:
                handle.write(render_svg(result, title=f"Traffic paths of {kind} "
                                                      f"{result.exposure.key}"))
        except OSError as exc:
            err.write(f"error: cannot write {options.svg}: {exc.strerror or exc}\n")
            return EXIT_BAD_INPUT
    for warning in result.warnings:
        err.write(f"warning: {warning}\n")
    if options.format == "json":
        out.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        out.write(render_text(result))
    return EXIT_OK


def with_compiled_isolation(snapshot: Snapshot) -> Snapshot:
    """The snapshot with the console-managed policies replaced by freshly compiled ones."""
    from isolation.compiler.generate import IsolationSettings, desired_policies
    from isolation.compiler.reconcile import is_ours

    compiled = desired_policies(snapshot, IsolationSettings()).policies
    kept = [p for p in snapshot.network_policies if not is_ours(p)]
    return snapshot.with_network_policies(kept + compiled)


def _outcome(path: Path) -> str:
    if path.succeeds:
        return "WORKS"
    last = path.blocked_hop
    if last is not None and last.kind in ("drop", "reject"):
        return "DROPPED" if last.kind == "drop" else "REJECTED"
    return "BLOCKED" if path.app_source or path.legs else "FAILS"


def _entries(entries: list[dict]) -> str:
    parts = []
    for entry in entries:
        if "namespace" in entry:
            parts.append(f"namespace {entry['namespace']}")
        else:
            ports = ", ".join(f"{p['port']}/{p['protocol']}" for p in entry["ports"])
            parts.append(f"{entry['cidr']} on {ports}")
    return "; ".join(parts)


def render_text(result: TraceResult) -> str:
    """A readable report: the exposure, the outcome per entry node, then every path."""
    exposure = result.exposure
    head = f"{exposure.kind} {exposure.key}"
    if exposure.controller:
        head += f" through {exposure.controller}"
    lines = [f"{head}: externalTrafficPolicy {exposure.traffic_policy or '?'}, CNI {result.cni} "
             f"({result.cni_source}), client {result.client_ip}", result.summary(), ""]
    for path in result.paths:
        target = f"{path.target} on {path.target_node}" if path.target else "no pod"
        stale = " (stale route only)" if not path.steady_state else ""
        lines.append(f"{path.entry_node} -> {target}: {_outcome(path)}{stale}")
        lines.append("  " + " -> ".join(hop.label for hop in path.hops))
        if path.app_source:
            lines.append(f"  app sees {path.app_source} ({path.app_source_label}); "
                         f"policy sees {path.policy_source} ({path.policy_source_label})")
        if path.forwarded_for:
            lines.append(f"  X-Forwarded-For: {path.forwarded_for}")
        lines.append(f"  {path.reason}")
        if path.needed_allowlist:
            lines.append(f"  missing: {_entries(path.needed_allowlist)}")
    needed = result.needed_allowlist()
    lines.append("")
    lines.append("Missing allowlist entries: " + (_entries(needed) if needed else "none"))
    if result.pitfalls:
        lines.append("Pitfalls:")
        lines.extend(f"  - {note}" for note in result.pitfalls)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
