"""The `reachability` command: what can reach what in a cluster snapshot.

    reachability --snapshot FILE.yaml [--queries Q.json] [--port 80/TCP ...]
                 [--from-ip IP ...] [--format json|table|summary]
    reachability --snapshot FILE.yaml (--expect EXPECT.yaml | --expect-from-snapshot)
                 [--format json|table]
    reachability --snapshot BEFORE.yaml --proposed FILE_OR_DIR [--delete NS/NAME ...]
                 [--expect EXPECT.yaml] [--expect-from-snapshot] [--format json|table]

With expectations (isolation.guardrails) the exit status is 0 when every expectation holds, 1
when one does not (with --proposed: when the proposed change newly violates one), 2 on bad
input. With --proposed and no --expect, the snapshot's own expectations are checked.

Bad input (unreadable files, bad YAML or JSON, a NetworkPolicy, AdminNetworkPolicy or
BaselineAdminNetworkPolicy the API server would reject, an unknown pod, the same object twice)
ends with exit status 2 and one message naming the document and field. Objects the engine does
not evaluate (other kinds, such as Calico's NetworkSets) are named in one warning on stderr, and
so are AdminNetworkPolicies sharing a priority (their order is undefined) and Calico objects
that cannot be evaluated (an unparsable selector, an unknown tier). Calico NetworkPolicies,
GlobalNetworkPolicies and Tiers (projectcalico.org/v3 or crd.projectcalico.org/v1) are
evaluated in Calico's tier order, the Kubernetes NetworkPolicies in its default tier.

With `--format json`, each result keeps its fields and adds the kind of the deciding policy
(`kind`, per direction and for the connection: "GlobalNetworkPolicy" and "Calico
NetworkPolicy" for Calico's), the deciding rule (`decided_by`, with its `tier` and, as
`priority`, a Calico policy's order) and the Pass rules on the way (`passed_by`).
"""

from __future__ import annotations

import argparse
import contextvars
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the engine (and numpy) is imported when a snapshot is read, not for --help
    from isolation.guardrails.evaluate import ExpectationResult
    from isolation.guardrails.model import Expectation
    from isolation.reachability.engine import Cluster, Matrix, Verdict
    from isolation.review.impact import Impact
    from isolation.snapshot import Snapshot

MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024    # the default of --max-input-mb
# the largest input file this run reads (--max-input-mb)
_LIMIT: contextvars.ContextVar[int] = contextvars.ContextVar("limit", default=MAX_SNAPSHOT_BYTES)
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
    parser.add_argument("--expect", metavar="EXPECT.yaml",
                        help="ConnectivityExpectation / ClusterConnectivityExpectation documents "
                             "to evaluate (exit 1 when one does not hold)")
    parser.add_argument("--expect-from-snapshot", action="store_true",
                        help="evaluate the expectations the snapshot carries")
    parser.add_argument("--proposed", metavar="FILE_OR_DIR",
                        help="objects to create or replace (NetworkPolicies, "
                             "NamespaceNetworkPolicies, expectations; List items with "
                             "$patch: delete are deleted); reports newly violated "
                             "expectations and the reachability delta")
    parser.add_argument("--delete", action="append", default=[], metavar="NS/NAME",
                        help="a NetworkPolicy (or NamespaceNetworkPolicy) the proposed change "
                             "deletes (repeatable)")
    parser.add_argument("--format", choices=("json", "table", "summary"), default="json")
    parser.add_argument("--max-input-mb", type=_megabytes, default=MAX_SNAPSHOT_BYTES >> 20,
                        metavar="MB", help="refuse an input file larger than this many MiB "
                                           f"(default {MAX_SNAPSHOT_BYTES >> 20})")
    return parser


def _megabytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of MiB of 1 or more")
    return value


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Run the command; returns the exit status (0 done, 2 bad input)."""
    out = stdout or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    limit = _LIMIT.set(args.max_input_mb << 20)
    try:
        return _run(args, out)
    finally:
        _LIMIT.reset(limit)
        gc.unfreeze()   # see `_load_snapshot`: the caller's process goes on as it was


def _run(args: argparse.Namespace, out: TextIO) -> int:
    if args.expect or args.expect_from_snapshot or args.proposed or args.delete:
        return _guardrails(args, out)
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

def _load_snapshot(path: str) -> tuple[Snapshot, bytes]:
    from isolation.cli.common import warn_ignored
    from isolation.snapshot import SnapshotError, load_snapshot

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > _LIMIT.get():
        raise InputError(f"{path}: the file is {len(data):,} bytes, larger than the limit of "
                         f"{_LIMIT.get():,} bytes (--max-input-mb {_LIMIT.get() >> 20})")
    try:
        # the engine is imported while a forked process reads (part of) a large snapshot
        snapshot = load_snapshot(data, max_bytes=_LIMIT.get(), engine_fields_only=True,
                                 meanwhile=_import_engine)
    except SnapshotError as error:
        raise InputError(f"{path}: {error}") from None
    # The snapshot lives as long as the command: the collector need not walk its millions of
    # objects again each time building the engine starts a collection (`main` unfreezes).
    gc.freeze()
    warn_ignored(snapshot, path, sys.stderr)
    return snapshot, data


def _import_engine() -> None:
    import isolation.reachability.engine  # noqa: F401


def _load_cluster(path: str, from_ips: list[str]) -> Cluster:
    snapshot, data = _load_snapshot(path)
    return _cluster_of(snapshot, path, data, from_ips)


def _cluster_of(snapshot: Snapshot, path: str, data: bytes, from_ips: list[str]) -> Cluster:
    from isolation.reachability.engine import Cluster, InvalidPolicyError
    from isolation.reachability.inventory import canonical_ip

    addresses = []
    for value in from_ips:
        address = canonical_ip(value)
        if address is None:
            raise InputError(f"--from-ip {value!r} is not an IP address")
        addresses.append(address)
    try:
        cluster = Cluster.from_snapshot(snapshot, extra_ips=addresses)
    except InvalidPolicyError as error:
        raise InputError(_policy_error(path, data, error)) from None
    except ValueError as error:
        raise InputError(f"{path}: {error}") from None
    for warning in cluster.warnings:
        print(f"warning: {path}: {warning}", file=sys.stderr)
    return cluster


def _policy_error(path: str, data: bytes, error: Any) -> str:
    """Name the document, policy, field and line of a NetworkPolicy the API would reject
    (`error` is the engine's InvalidPolicyError)."""
    from isolation.netpol.validation import parse_field_path
    from isolation.yamlio import YamlInputError, document_objects, load_documents, locate

    issue = error.issues[0]
    where = f"{path}"
    try:
        documents = load_documents(data, max_bytes=_LIMIT.get())
    except YamlInputError:
        documents = []
    kind = getattr(error, "kind", "NetworkPolicy")
    for document in documents:
        for prefix, obj in document_objects(document):
            if _policy_key(obj, kind) == error.policy:
                line, _ = locate(document.node, prefix + parse_field_path(issue.field))
                where = f"{path}: document {document.index}, line {line}"
                break
        else:
            continue
        break
    more = f" (and {_count(len(error.issues) - 1, 'more problem')})" if len(error.issues) > 1 else ""
    return f"{where}: {kind} {error.policy}: {issue}{more}"


def _policy_key(obj: Any, kind: str = "NetworkPolicy") -> str | None:
    """How the engine names a policy of `kind` (namespace/name, or the name of a
    cluster-scoped kind)."""
    if not isinstance(obj, dict) or obj.get("kind") != kind:
        return None
    metadata = obj.get("metadata") or {}
    if kind != "NetworkPolicy":
        return str(metadata.get("name"))
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



# -- guardrails: expectations and proposed changes ------------------------------------------

def _guardrails(args: argparse.Namespace, out: TextIO) -> int:
    """Evaluate expectations (and a proposed change); 0 all hold, 1 violated, 2 bad input."""
    if args.format == "summary":
        args.format = "table"
    if args.queries or args.port or args.from_ip:
        print("reachability: --queries, --port and --from-ip cannot be combined with "
              "--expect, --expect-from-snapshot or --proposed", file=sys.stderr)
        return 2
    try:
        snapshot, data = _load_snapshot(args.snapshot)
        expectations = _expectations(args, snapshot)
        if args.proposed or args.delete:
            output, failed = _run_proposed(args, snapshot, data, expectations)
        else:
            output, failed = _run_expectations(snapshot, data, args.snapshot, expectations,
                                               args.format)
    except InputError as error:
        print(f"reachability: {error}", file=sys.stderr)
        return 2
    out.write(output if output.endswith("\n") else output + "\n")
    return 1 if failed else 0


def _expectations(args: argparse.Namespace, snapshot: Snapshot) -> list[Expectation]:
    from isolation.guardrails.evaluate import expectation_objects, parse_expectations

    found: list[Expectation] = []
    if args.expect_from_snapshot or (not args.expect and (args.proposed or args.delete)):
        valid, errors = parse_expectations(expectation_objects(snapshot))
        if errors:
            raise InputError(f"{args.snapshot}: {errors[0]}")
        found += valid
    if args.expect:
        found += _read_expectations(args.expect)
    seen: set[str] = set()
    if not found:
        print(f"warning: {args.expect or args.snapshot}: no expectations to evaluate",
              file=sys.stderr)
    for expectation in found:
        if expectation.name in seen:
            raise InputError(f"expectation {expectation.name} is given twice")
        seen.add(expectation.name)
    return found


def _documents(path: str) -> list[tuple[str, Any, Any, tuple]]:
    """(where, object, document node, path in it) of every object in the YAML or JSON file(s)
    at `path` (a directory: its *.yaml, *.yml and *.json files in name order)."""
    from isolation.yamlio import YamlInputError, document_objects, load_documents

    target = Path(path)
    files = (sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
             if target.is_dir() else [target])
    found = []
    for file in files:
        try:
            documents = load_documents(file.read_bytes(), max_bytes=_LIMIT.get())
        except OSError as error:
            raise InputError(f"cannot read {file}: {error.strerror or error}") from None
        except YamlInputError as error:
            raise InputError(f"{file}: {error}") from None
        for document in documents:
            if document.data is None:
                continue
            objects = document_objects(document)
            listed = any(prefix for prefix, _ in objects)
            for prefix, obj in objects:
                where = f"{file}: document {document.index}"
                if listed:
                    where += f", item {prefix[1] + 1}"
                found.append((where, obj, document.node, prefix))
    return found


def _read_expectations(path: str) -> list[Expectation]:
    from isolation.guardrails.model import ExpectationError, is_expectation, parse_expectation
    from isolation.netpol.validation import parse_field_path
    from isolation.yamlio import locate

    expectations = []
    for where, obj, node, prefix in _documents(path):
        if not is_expectation(obj):
            kind = obj.get("kind") if isinstance(obj, dict) else None
            raise InputError(f"{where}: expected a ConnectivityExpectation or "
                             f"ClusterConnectivityExpectation, not {kind or 'an object without kind'}")
        try:
            expectations.append(parse_expectation(obj))
        except ExpectationError as error:
            issue = error.issues[0]
            line, _ = locate(node, prefix + parse_field_path(issue.field)) if issue.field else (0, 0)
            at = f", line {line}" if line else ""
            raise InputError(f"{where}{at}: {error}") from None
    return expectations


def _evaluate(snapshot: Snapshot, data: bytes, path: str,
              expectations: list[Expectation]) -> list[ExpectationResult]:
    from isolation.guardrails.evaluate import evaluate

    return evaluate(snapshot, expectations, _cluster_of(snapshot, path, data, []))


def _run_expectations(snapshot: Snapshot, data: bytes, path: str,
                      expectations: list[Expectation], fmt: str) -> tuple[str, bool]:
    results = _evaluate(snapshot, data, path, expectations)
    failed = any(not r.holds for r in results)
    if fmt == "json":
        return json.dumps({"expectations": [r.to_dict() for r in results]}, indent=2), failed
    return _expectation_table(results), failed


def _expectation_table(results: list[ExpectationResult], newly: set[str] | None = None) -> str:
    if not results:
        return "No expectations to evaluate."
    rows = [("expectation", "expect", "state", "pairs", "violations")]
    for r in results:
        state = "holds" if r.holds else ("NEWLY VIOLATED" if newly and r.name in newly
                                         else "VIOLATED")
        rows.append((r.name, r.expect, state, str(r.pairs),
                     str(r.violation_count) if r.violation_count or r.holds else "-"))
    lines = [_columns(rows)]
    for r in results:
        if r.holds:
            continue
        lines.append("")
        lines.append(f"{r.name}: {r.reason}" if r.reason else
                     f"{r.name}: {r.violation_count} of {_count(r.pairs, 'pair')} violate "
                     f"'{r.expect}'" + (f" (first {len(r.violations)} shown)"
                                        if r.violation_count > len(r.violations) else ""))
        for v in r.violations:
            lines.append(f"  {v.src} -> {v.dst} {v.port}/{v.protocol}: {v.reason}")
    held = sum(r.holds for r in results)
    lines += ["", f"{held} of {_count(len(results), 'expectation')} "
              f"{'holds' if len(results) == 1 else 'hold'}."]
    return "\n".join(lines)


def _run_proposed(args: argparse.Namespace, before: Snapshot, data: bytes,
                  expectations: list[Expectation]) -> tuple[str, bool]:
    from isolation.guardrails.evaluate import evaluate, newly_violated
    from isolation.guardrails.model import is_expectation, parse_expectation
    from isolation.guardrails.proposed import (
        Change,
        ProposalError,
        add_object,
        apply_change,
        delete_key,
    )
    from isolation.reachability.engine import InvalidPolicyError
    from isolation.review.impact import impact_of

    change = Change()
    try:
        if args.proposed:
            for where, obj, _, _ in _documents(args.proposed):
                add_object(change, obj, where)
        for ref in args.delete:
            change.delete.append(delete_key(before, ref))
        after = apply_change(before, change)
    except ProposalError as error:
        raise InputError(str(error)) from None
    # expectations proposed with the change replace (or join) those checked
    proposed = [parse_expectation(o) for o in change.upsert if is_expectation(o)]
    names = {e.name for e in proposed}
    checked_before = expectations
    checked_after = [e for e in expectations if e.name not in names] + proposed
    before_results = _evaluate(before, data, args.snapshot, checked_before)
    try:
        after_results = evaluate(after, checked_after)
        impact = impact_of(before, after)
    except InvalidPolicyError as error:
        raise InputError(f"{args.proposed or 'the proposed change'}: {error}") from None
    except ValueError as error:
        raise InputError(f"{args.proposed or 'the proposed change'}: {error}") from None
    newly = newly_violated(before_results, after_results)
    failed = bool(newly)
    if args.format == "json":
        return json.dumps({
            "expectations": [r.to_dict() for r in after_results],
            "newly_violated": [r.name for r in newly],
            "reachability": impact.to_dict(),
        }, indent=2), failed
    return _proposed_table(after_results, {r.name for r in newly}, impact), failed


def _proposed_table(results: list[ExpectationResult], newly: set[str], impact: Impact) -> str:
    lines = [f"Proposed change: {_count(len(newly), 'expectation')} newly violated; "
             f"{_count(len(impact.newly_allowed), 'connection')} newly allowed, "
             f"{len(impact.newly_blocked)} newly blocked.", ""]
    lines.append(_expectation_table(results, newly))
    if impact.pairs:
        lines += ["", "Reachability delta by project pair:"]
        rows = [("from", "to", "newly allowed", "newly blocked")]
        rows += [(p.src_namespace, p.dst_namespace, str(p.allowed), str(p.blocked))
                 for p in impact.pairs]
        lines.append(_columns(rows))
    for warning in impact.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
