"""The `reachability` command: what can reach what in a cluster snapshot.

    reachability --snapshot FILE.yaml [--queries Q.json] [--port 80/TCP ...]
                 [--from-ip IP ...] [--format json|table|summary]

Bad input (unreadable files, bad YAML or JSON, a NetworkPolicy the API server would reject,
an unknown pod, the same object twice) ends with exit status 2 and one message naming the
document and field. Objects the engine does not evaluate (other kinds, a Calico
NetworkPolicy) are named in one warning on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the engine (and numpy) is imported when a snapshot is read, not for --help
    from isolation.reachability.engine import Cluster, Matrix, Verdict

MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
PROTOCOLS = ("TCP", "UDP", "SCTP")


class InputError(ValueError):
    """Input the command refuses; the message is shown as is."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reachability",
        description="Evaluate NetworkPolicy reachability on a cluster snapshot "
                    "(kubectl get -o yaml output).")
    parser.add_argument("--snapshot", required=True, metavar="FILE.yaml",
                        help="Namespaces, Pods, NetworkPolicies and optionally Nodes, Services")
    parser.add_argument("--queries", metavar="Q.json",
                        help='a JSON list of {"from", "to", "port", "protocol"} checks')
    parser.add_argument("--port", action="append", default=[], metavar="PORT[/PROTOCOL]",
                        help="port to evaluate every pair on (repeatable; default: each "
                             "destination's declared ports)")
    parser.add_argument("--from-ip", action="append", default=[], metavar="IP",
                        help="an address outside the pods to use as a source (repeatable)")
    parser.add_argument("--format", choices=("json", "table", "summary"), default="json")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Run the command; returns the exit status (0 done, 2 bad input)."""
    out = stdout or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        cluster = _load_cluster(args.snapshot, args.from_ip)
        ports = [_parse_port(text) for text in args.port]
        if args.queries:
            output = _run_queries(cluster, _read_queries(args.queries), args.format)
        else:
            output = _run_matrix(cluster, ports or None, args.format)
    except InputError as error:
        print(f"reachability: {error}", file=sys.stderr)
        return 2
    out.write(output if output.endswith("\n") else output + "\n")
    return 0


# -- input ----------------------------------------------------------------------------------

def _load_cluster(path: str, from_ips: list[str]) -> Cluster:
    from isolation.cli.common import warn_ignored
    from isolation.reachability.engine import Cluster, InvalidPolicyError
    from isolation.reachability.inventory import canonical_ip
    from isolation.snapshot import SnapshotError, load_snapshot

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        snapshot = load_snapshot(data, max_bytes=MAX_SNAPSHOT_BYTES, engine_fields_only=True)
    except SnapshotError as error:
        raise InputError(f"{path}: {error}") from None
    warn_ignored(snapshot, path, sys.stderr)
    addresses = []
    for value in from_ips:
        address = canonical_ip(value)
        if address is None:
            raise InputError(f"--from-ip {value!r} is not an IP address")
        addresses.append(address)
    try:
        return Cluster.from_snapshot(snapshot, extra_ips=addresses)
    except InvalidPolicyError as error:
        raise InputError(_policy_error(path, data, error)) from None
    except ValueError as error:
        raise InputError(f"{path}: {error}") from None


def _policy_error(path: str, data: bytes, error: Any) -> str:
    """Name the document, policy, field and line of a NetworkPolicy the API would reject
    (`error` is the engine's InvalidPolicyError)."""
    from isolation.netpol.validation import parse_field_path
    from isolation.yamlio import YamlInputError, document_objects, load_documents, locate

    issue = error.issues[0]
    where = f"{path}"
    try:
        documents = load_documents(data, max_bytes=MAX_SNAPSHOT_BYTES)
    except YamlInputError:
        documents = []
    for document in documents:
        for prefix, obj in document_objects(document):
            if _policy_key(obj) == error.policy:
                line, _ = locate(document.node, prefix + parse_field_path(issue.field))
                where = f"{path}: document {document.index}, line {line}"
                break
        else:
            continue
        break
    more = f" (and {len(error.issues) - 1} more problem(s))" if len(error.issues) > 1 else ""
    return f"{where}: NetworkPolicy {error.policy}: {issue}{more}"


def _policy_key(obj: Any) -> str | None:
    if not isinstance(obj, dict) or obj.get("kind") != "NetworkPolicy":
        return None
    metadata = obj.get("metadata") or {}
    return f"{metadata.get('namespace') or 'default'}/{metadata.get('name')}"


def _parse_port(text: str) -> tuple[int, str]:
    number, _, protocol = text.partition("/")
    protocol = (protocol or "TCP").upper()
    if not number.isdigit() or not 1 <= int(number) <= 65535 or protocol not in PROTOCOLS:
        raise InputError(f"--port {text!r} must look like 80, 80/TCP, 53/UDP or 9000/SCTP")
    return int(number), protocol


def _read_queries(path: str) -> list[dict[str, Any]]:
    from isolation.yamlio import YamlInputError, load_json

    try:
        queries = load_json(Path(path).read_bytes())
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    except YamlInputError as error:  # invalid UTF-8, a duplicate key
        raise InputError(f"{path}: {error}") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(queries, list):
        raise InputError(f"{path}: expected a JSON list of queries")
    for number, query in enumerate(queries, start=1):
        where = f"{path}: query {number}"
        if not isinstance(query, dict):
            raise InputError(f"{where}: expected an object with from, to and port")
        for key in ("from", "to"):
            if not isinstance(query.get(key), str) or not query[key]:
                raise InputError(f'{where}: "{key}" must be "namespace/pod" or an IP address')
        port = query.get("port")
        if isinstance(port, bool) or not isinstance(port, int | str) or port == "":
            raise InputError(f'{where}: "port" must be a number or a port name')
        protocol = query.get("protocol", "TCP")
        if not isinstance(protocol, str) or protocol.upper() not in PROTOCOLS:
            raise InputError(f'{where}: "protocol" must be TCP, UDP or SCTP')
        unknown = set(query) - {"from", "to", "port", "protocol"}
        if unknown:
            raise InputError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return queries


# -- output ---------------------------------------------------------------------------------

def _run_queries(cluster: Cluster, queries: list[dict[str, Any]], fmt: str) -> str:
    verdicts: list[Verdict] = []
    for number, query in enumerate(queries, start=1):
        try:
            verdicts.append(cluster.check(query["from"], query["to"], query["port"],
                                          query.get("protocol", "TCP")))
        except ValueError as error:
            raise InputError(f"query {number}: {error}") from None
    if fmt == "json":
        return json.dumps({"results": [v.to_dict() for v in verdicts]}, indent=2)
    if fmt == "summary":
        allowed = sum(v.allowed for v in verdicts)
        return json.dumps({
            "sources": len({v.src.name for v in verdicts}),
            "destinations": len({v.dst.name for v in verdicts}),
            "verdicts": len(verdicts), "allowed": allowed, "denied": len(verdicts) - allowed})
    rows = [("from", "to", "port", "verdict", "why")]
    for v in verdicts:
        why = v.ingress.reason if v.egress.allowed else v.egress.reason
        rows.append((v.src.name, v.dst.name, f"{v.port}/{v.protocol}",
                     "allowed" if v.allowed else "DENIED", why))
    return _columns(rows)


def _run_matrix(cluster: Cluster, ports: list[tuple[int, str]] | None, fmt: str) -> str:
    matrix = cluster.matrix(ports=ports)
    if fmt == "summary":
        counts = matrix.counts()
        return json.dumps({"sources": len(matrix.sources),
                           "destinations": len(matrix.destinations),
                           "verdicts": counts.total, "allowed": counts.allowed,
                           "denied": counts.denied})
    if fmt == "json":
        results = [cluster.check(c.src, c.dst, c.port, c.protocol).to_dict()
                   for c in matrix.connections()]
        return json.dumps({"results": results}, indent=2)
    return _matrix_table(matrix)


def _matrix_table(matrix: Matrix) -> str:
    counts = matrix.counts()
    lines = [
        f"Reachability: {len(matrix.sources)} sources x {len(matrix.destinations)} destinations,"
        f" {counts.total} verdicts, {counts.allowed} allowed, {counts.denied} denied",
        'Cells: "all" = every port allowed, "none" = every port denied, otherwise the allowed '
        'ports; "-" = the pod itself.',
        "",
    ]
    header = ["source \\ destination"] + [f"[{j + 1}]" for j in range(len(matrix.destinations))]
    rows = [header]
    cells: dict[tuple[str, str], list] = {}
    for connection in matrix.connections():
        cells.setdefault((connection.src, connection.dst), []).append(connection)
    for source in matrix.sources:
        row = [source.name]
        for destination in matrix.destinations:
            if destination.name == source.name:
                row.append("-")
                continue
            verdicts = cells.get((source.name, destination.name), [])
            allowed = [f"{c.port}/{c.protocol}" for c in verdicts if c.allowed]
            if not verdicts:
                row.append("")
            elif len(allowed) == len(verdicts):
                row.append("all")
            else:
                row.append(",".join(allowed) or "none")
        rows.append(row)
    lines.append(_columns(rows))
    lines.append("")
    for j, destination in enumerate(matrix.destinations):
        ports = ", ".join(f"{p}/{proto}" for p, proto in matrix.ports_of(j)) or "no ports"
        lines.append(f"[{j + 1}] {destination.name} ({ports})")
    return "\n".join(lines)


def _columns(rows: list[Sequence[str]]) -> str:
    widths = [max(len(str(row[k])) for row in rows) for k in range(len(rows[0]))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths,
                                                                              strict=True)).rstrip()
                     for row in rows)
