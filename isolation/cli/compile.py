"""`compile_isolation`: print the NetworkPolicies the isolation engine generates for a snapshot.

    python manage.py compile_isolation --snapshot FILE.yaml [--allowed-ingress-namespace NS ...]
        [--detect-ingress-namespaces] [--format yaml|json]

The contract is stable (tools outside the suite call it): output on stdout is multi-document
YAML (or a JSON `List`) of the generated policies, sorted by namespace and name; entry
problems go to stderr as warnings and do not change the exit code; bad input exits with 2 and
a message naming the document, line and field, never a traceback. Only the flags add
always-allowed namespaces: ingress controller namespaces are detected only when asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

import yaml

from isolation.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    CommandParser,
    add_snapshot_argument,
    run_command,
    snapshot_text,
    warn_ignored,
)
from isolation.compiler.generate import (
    ENGINE_CONSOLE,
    ENGINE_KUBESPHERE,
    CompileResult,
    EntryProblem,
    IsolationSettings,
    desired_policies,
)
from isolation.compiler.tenancy import TenancyInputError
from isolation.snapshot import SnapshotError, load_snapshot
from isolation.yamlio import YamlInputError, document_objects, load_documents, locate

# libyaml's emitter is an order of magnitude faster on thousands of policies
_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options; shared by `main` and the Django management command."""
    add_snapshot_argument(parser)
    parser.add_argument("--allowed-ingress-namespace", action="append", default=[],
                        metavar="NS", dest="allowed_ingress_namespace",
                        help="namespace always allowed into isolated projects (repeatable)")
    parser.add_argument("--detect-ingress-namespaces", action="store_true",
                        help="also allow the namespaces that run an ingress controller")
    parser.add_argument("--snat-cidr", action="append", default=[], metavar="CIDR",
                        dest="snat_cidr",
                        help="node SNAT/tunnel address admitted into isolated projects "
                             "(repeatable)")
    parser.add_argument("--engine-mode", choices=(ENGINE_CONSOLE, ENGINE_KUBESPHERE),
                        default=ENGINE_CONSOLE,
                        help="'kubesphere' prints what KubeSphere v3's controller would write")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="compile_isolation", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command with `argv` (without the program name); returns the exit code."""
    return run_command(build_parser(), argv, run)


def run(options: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Compile and print; the exit code is 0, or 2 for input that cannot be used."""
    text = snapshot_text(options.snapshot, err)
    if text is None:
        return EXIT_BAD_INPUT
    try:
        settings = IsolationSettings(
            always_allowed_namespaces=tuple(options.allowed_ingress_namespace),
            detect_ingress_namespaces=options.detect_ingress_namespaces,
            snat_cidrs=tuple(options.snat_cidr),
            engine_mode=options.engine_mode,
        )
    except ValueError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    try:
        snapshot = load_snapshot(text)
        warn_ignored(snapshot, options.snapshot, err)
        result = desired_policies(snapshot, settings)
    except SnapshotError as exc:
        err.write(f"error: {options.snapshot}: {exc}\n")
        return EXIT_BAD_INPUT
    except TenancyInputError as exc:
        err.write(f"error: {options.snapshot}: {_where(text, exc)}{exc}\n")
        return EXIT_BAD_INPUT
    except (TypeError, ValueError, AttributeError) as exc:
        # A shape no check above anticipated: still a message about the input, not a crash.
        err.write(f"error: {options.snapshot}: an object has a field of an unexpected type "
                  f"({exc})\n")
        return EXIT_BAD_INPUT
    for problem in result.problems:
        err.write(f"warning: {format_problem(problem)}\n")
    rendered = render(result, options.format)
    if rendered:
        out.write(rendered)
    return EXIT_OK


def render(result: CompileResult, fmt: str = "yaml") -> str:
    """The policies as multi-document YAML ('' when none), or as a JSON `List`."""
    if fmt == "json":
        listing = {"apiVersion": "v1", "kind": "List", "items": result.policies}
        return json.dumps(listing, indent=2, sort_keys=True) + "\n"
    return render_yaml(result.policies)


def render_yaml(policies: list[dict[str, Any]]) -> str:
    if not policies:
        return ""
    return yaml.dump_all(policies, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                         explicit_start=True)


def format_problem(problem: EntryProblem) -> str:
    where = "/".join(part for part in (problem.namespace, problem.entry) if part)
    return f"{where}: {problem.message}" if where else problem.message


def _where(text: bytes | str, exc: TenancyInputError) -> str:
    """'document N, line L: ' for the object and field of `exc`, when they can be found."""
    try:
        documents = load_documents(text)
    except YamlInputError:
        return ""
    path = tuple(exc.field.split("."))
    for document in documents:
        for prefix, obj in document_objects(document):
            if _is(obj, exc):
                line, _ = locate(document.node, (*prefix, *path))
                return f"document {document.index}, line {line}: "
    return ""


def _is(obj: Any, exc: TenancyInputError) -> bool:
    if not isinstance(obj, dict) or obj.get("kind") != exc.kind:
        return False
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("name") != exc.name:
        return False
    return exc.namespace is None or metadata.get("namespace") in (exc.namespace, None)


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
