"""The reachability matrix of the Reachability page: aggregate first, drill down on demand.

Rows are sources and columns destinations, grouped by workspace, by project, or (inside one
project) by pod. A cell counts the (source pod, destination pod, destination port) connections
that are allowed out of all of them, so "partly" means some pods or ports get through and
others do not. Rows and columns outside the user's scope follow console.core.scope.
The whole grid is a dict of plain data and sentences (`isolation.text`), JSON-ready once
`portable`, so a background job can compute it and the page render it in the reader's language
(console.reachability.matrix decides which, and dresses it for the template).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from console.core.scope import OTHER, OTHER_LABEL, Scope
from console.reachability.services import engine_of
from console.reachability.sources import Piece, SourceInputError, pieces
from isolation import text
from isolation.reachability.engine import Cluster
from isolation.snapshot import Snapshot
from isolation.text import gettext as _
from isolation.text import ngettext

LEVELS = ("workspace", "project", "pod")
MAX_GROUPS = 60            # rows or columns drawn; more rows merge, more columns are left out
MORE = "more"
NO_WORKSPACE = "ws:"
MAX_PAIRS = 200            # pod pairs listed in a drill-down
SCAN_LIMIT = 200_000       # connections read for a drill-down's list (its totals are exact)

Progress = Callable[[int, str], None]


class GridInputError(ValueError):
    """A matrix request that cannot be drawn; `field` names the filter to correct."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class MatrixQuery:
    """What the user asked to see (the filters of the page, all in the URL)."""

    level: str = "project"
    workspace: str = ""
    project: str = ""
    ports: tuple[tuple[int, str], ...] = ()
    external: tuple[str, ...] = ()

    def params(self) -> dict[str, str]:
        """The GET parameters that reproduce this query."""
        values = {"level": self.level, "workspace": self.workspace, "project": self.project,
                  "ports": ", ".join(f"{p}/{proto}" for p, proto in self.ports),
                  "external": ", ".join(self.external)}
        return {k: v for k, v in values.items() if v}

    def digest(self, scope: Scope) -> str:
        """A short stable name of this query as `scope` sees it (cache keys, job reuse)."""
        text = json.dumps([self.params(), scope.key()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]


# -- grouping -----------------------------------------------------------------------------


class _Grouping:
    """Which row and which column (if any) each pod belongs to, for one query and scope."""

    def __init__(self, scope: Scope, query: MatrixQuery) -> None:
        self.scope = scope
        self.query = query

    def _project_group(self, namespace: str) -> str:
        if not self.scope.sees(namespace):
            return OTHER
        if self.query.workspace and self.scope.workspace_of.get(namespace) != self.query.workspace:
            return OTHER
        return f"ns:{namespace}"

    def row(self, namespace: str, key: str) -> str:
        if self.query.level == "workspace":
            if not self.scope.sees(namespace):
                return OTHER
            return "ws:" + self.scope.workspace_of.get(namespace, "")
        if self.query.level == "pod" and namespace == self.query.project:
            return f"pod:{key}"
        return self._project_group(namespace)

    def column(self, namespace: str, key: str) -> str | None:
        if self.query.level == "pod":
            return f"pod:{key}" if namespace == self.query.project else None
        group = self.row(namespace, key)
        if group == OTHER:
            return None
        if self.query.level == "project" and self.query.project and namespace != self.query.project:
            return None
        return group


def group_label(key: str) -> str:
    """The text a row or column header shows for a group key."""
    kind, _sep, name = key.partition(":")
    if key == OTHER:
        return OTHER_LABEL
    if key == NO_WORKSPACE:
        return _("Outside workspaces")
    if kind == "pod":
        return name.split("/", 1)[1]
    return name


def check_query(scope: Scope, query: MatrixQuery) -> None:
    """Refuse filters that name what the user cannot see (GridInputError)."""
    if query.level not in LEVELS:
        raise GridInputError("level", level_error())
    if query.workspace and query.workspace not in scope.workspaces:
        raise GridInputError("workspace", _("There is no workspace {workspace} among yours.",
                                            workspace=query.workspace))
    if query.project and not scope.sees(query.project):
        raise GridInputError("project", _("There is no project {project} among yours.",
                                          project=query.project))
    if query.level == "pod" and not query.project:
        raise GridInputError("project", _("Choose the project whose pods to show."))


def level_error() -> str:
    """Why a level is refused: the levels there are."""
    return _("Level must be one of {levels}.", levels=", ".join(LEVELS))


# -- the grid -----------------------------------------------------------------------------


def compute_grid(scope: Scope, query: MatrixQuery, snapshot: Snapshot,
                 progress: Progress | None = None) -> dict[str, Any]:
    """The matrix of `query` over `snapshot` as `scope` may see it, as a JSON-ready dict.

    Guarantees: no row or column names a pod or project outside `scope`; the aggregated
    "other projects" row carries counts only for users who see everything; counts are exact
    (every source pod × destination pod × destination port, or the port filter's ports).
    Raises GridInputError for filters naming what `scope` does not hold.
    """
    started = time.perf_counter()
    check_query(scope, query)
    report = progress or (lambda _pct, _msg: None)
    engine = engine_of(snapshot)
    grouping = _Grouping(scope, query)
    report(30, ngettext("Evaluating {count} pod", "Evaluating {count} pods", len(engine.pods),
                        count=len(engine.pods)))
    row_of: dict[str, str] = {}
    col_of: dict[str, str] = {}
    for pod in engine.pods:
        row_of[pod.key] = grouping.row(pod.namespace, pod.key)
        column = grouping.column(pod.namespace, pod.key)
        if column is not None:
            col_of[pod.key] = column
    notes: list[str] = []    # sentences
    order = _Order(scope)
    columns = sorted(set(col_of.values()), key=order)
    if len(columns) > MAX_GROUPS:
        notes.append(_("{count} columns: only the first {shown} are drawn. Pick a workspace, "
                       "a project or the workspace level to see the rest.",
                       count=len(columns), shown=MAX_GROUPS))
        kept = set(columns[:MAX_GROUPS])
        columns = columns[:MAX_GROUPS]
        col_of = {k: v for k, v in col_of.items() if v in kept}
    groups = sorted({g for g in row_of.values() if g != OTHER}, key=order)
    if len(groups) > MAX_GROUPS:
        merged = set(groups[MAX_GROUPS:])
        notes.append(ngettext("{count} more source group is merged into one row.",
                              "{count} more source groups are merged into one row.",
                              len(merged), count=len(merged)))
        row_of = {k: (MORE if v in merged else v) for k, v in row_of.items()}
        groups = groups[:MAX_GROUPS] + [MORE]
    probes, piece_of = _external(engine, query.external)
    for probe, (entry, _piece) in piece_of.items():
        row_of[probe] = f"ext:{entry}"
    rows = groups + ([OTHER] if OTHER in row_of.values() else [])
    rows += [f"ext:{entry}" for entry in query.external]
    sources = [pod.key for pod in engine.pods] + probes
    destinations = [pod.key for pod in engine.pods if pod.key in col_of]
    ports = list(query.ports) or None
    counts = {}
    if destinations:
        matrix = engine.matrix(sources, destinations, ports)
        report(70, gettext_noop("Adding up the verdicts"))
        counts = matrix.by_group(lambda e: row_of[e.name], lambda e: col_of[e.name])
    cells = [[_cell(counts.get((r, c)), hide_counts=(r == OTHER and not scope.everything))
              for c in columns] for r in rows]
    if not query.ports:
        notes.append(_("Ports are each destination pod's declared container ports; pods that "
                       "declare none count only with the port filter."))
    return {
        "level": query.level, "params": query.params(),
        "rows": [_header(r, scope, query) for r in rows],
        "columns": [_header(c, scope, query) for c in columns],
        "cells": cells, "notes": notes, "pods": len(engine.pods),
        "seconds": round(time.perf_counter() - started, 3),
        "computed_at": timezone.now().isoformat(),
    }


def portable(grid: dict[str, Any]) -> dict[str, Any]:
    """`grid` as JSON-ready data (a job's result): its sentences kept as `isolation.text.dump`
    keeps them, for `matrix.present` to say in the reader's language."""
    return text.dump_all(grid)


class _Order:
    """Tenants first: projects by workspace then name, namespaces outside workspaces last."""

    def __init__(self, scope: Scope) -> None:
        self.workspace_of = scope.workspace_of

    def __call__(self, key: str) -> tuple[int, str, str]:
        kind, _sep, name = key.partition(":")
        if kind == "ws":
            return (0 if name else 1, name, "")
        namespace = name.split("/", 1)[0]
        workspace = self.workspace_of.get(namespace, "")
        return (0 if workspace else 1, workspace, name)


def _header(key: str, scope: Scope, query: MatrixQuery) -> dict[str, Any]:
    kind = key.partition(":")[0]
    header = {"key": key, "label": group_label(key), "kind": kind}
    if key == OTHER:
        header["hint"] = (_("Pods of every project outside your access, together.") if not
                          scope.everything else _("Pods of every project outside the filter."))
    elif key == MORE:
        header["label"] = _("More projects")
        header["hint"] = _("Source groups beyond the first rows, together.")
    elif kind == "ns" and query.level != "pod":
        header["zoom"] = {**query.params(), "level": "pod", "project": key[3:]}
        header["workspace"] = scope.workspace_of.get(key[3:], "")
    elif kind == "ws" and key != NO_WORKSPACE:
        header["zoom"] = {**query.params(), "level": "project", "workspace": key[3:]}
    return header


def _cell(counts, *, hide_counts: bool) -> dict[str, Any] | None:
    if counts is None or counts.total == 0:
        return None
    status = ("allowed" if counts.allowed == counts.total
              else "blocked" if counts.allowed == 0 else "partly")
    if hide_counts:
        return {"status": status}
    return {"status": status, "allowed": counts.allowed, "total": counts.total}


def _external(engine: Cluster, entries: tuple[str, ...]
              ) -> tuple[list[str], dict[str, tuple[str, Piece]]]:
    """Probe addresses of every external entry, each mapped to its entry and piece."""
    piece_of: dict[str, tuple[str, Piece]] = {}
    ordered = sorted(entries, key=lambda e: "/" in e)   # single addresses keep their own probe
    for entry in ordered:
        try:
            found = pieces(engine, entry, used=set(piece_of))
        except SourceInputError as exc:
            raise GridInputError("external", exc.args[0] if exc.args else str(exc)) from exc
        for piece in found:
            piece_of[piece.probe] = (entry, piece)
    return list(piece_of), piece_of


# -- drill-down ---------------------------------------------------------------------------


def drill_namespaces(scope: Scope, query: MatrixQuery, row: str, column: str) -> list[str]:
    """The namespaces a drill-down must read; GridInputError for a cell that may not open."""
    check_query(scope, query)
    names = []
    for key, is_row in ((row, True), (column, False)):
        kind, _sep, name = key.partition(":")
        if kind == "ext" and is_row and name in query.external:
            continue
        if kind == "ws" and (name in scope.workspaces or (not name and scope.everything)):
            names += [n for n in sorted(scope.known)
                      if scope.sees(n) and scope.workspace_of.get(n, "") == name]
        elif kind == "ns" and scope.sees(name):
            names.append(name)
        elif kind == "pod" and "/" in name and scope.sees(name.split("/", 1)[0]):
            names.append(name.split("/", 1)[0])
        else:
            raise GridInputError("cell", _("This cell cannot be opened: it is not one of your "
                                           "projects, or it aggregates projects outside your "
                                           "access."))
    return sorted(set(names))


def drill(scope: Scope, query: MatrixQuery, row: str, column: str,
          snapshot: Snapshot) -> dict[str, Any]:
    """The connections behind one cell: project pairs for a workspace cell, else pod pairs
    with each port's verdict and a link that explains it."""
    drill_namespaces(scope, query, row, column)
    engine = engine_of(snapshot)
    sources, label_of = _members(engine, row, query, scope)
    destinations = _members(engine, column, query, scope)[0]
    result: dict[str, Any] = {"row": _header(row, scope, query),
                              "column": _header(column, scope, query), "pairs": [],
                              "projects": [], "shown": 0, "more": 0}
    if not sources or not destinations:
        return result
    matrix = engine.matrix(sources, destinations, list(query.ports) or None)
    total = matrix.counts()
    result["allowed"], result["total"] = total.allowed, total.total
    if row.startswith("ws:") and column.startswith("ws:"):
        result["projects"] = _project_pairs(matrix, query)
        return result
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for scanned, connection in enumerate(matrix.connections()):
        if scanned >= SCAN_LIMIT:
            break
        pairs.setdefault((connection.src, connection.dst), []).append({
            "port": connection.port, "protocol": connection.protocol,
            "allowed": connection.allowed,
            "check": _check_url(connection.src, connection.dst, connection.port,
                                connection.protocol)})
    ordered = sorted(pairs.items(), key=lambda item: (all(p["allowed"] for p in item[1]),
                                                      item[0]))
    result["pairs"] = [{"src": label_of.get(src, src), "dst": dst, "ports": ports}
                       for (src, dst), ports in ordered[:MAX_PAIRS]]
    result["shown"] = len(result["pairs"])
    both = len(set(sources) & set(destinations))
    result["more"] = max(0, len(sources) * len(destinations) - both - result["shown"])
    return result


def _members(engine: Cluster, key: str, query: MatrixQuery, scope: Scope
             ) -> tuple[list[str], dict[str, str]]:
    kind, _sep, name = key.partition(":")
    if kind == "ext":
        found = pieces(engine, name, used=set())
        return [p.probe for p in found], {p.probe: p.label for p in found}
    if kind == "pod":
        return ([name] if any(p.key == name for p in engine.pods) else []), {}
    if kind == "ns":
        return [p.key for p in engine.pods if p.namespace == name], {}
    return [p.key for p in engine.pods if scope.sees(p.namespace)
            and scope.workspace_of.get(p.namespace, "") == name], {}


def _project_pairs(matrix, query: MatrixQuery) -> list[dict[str, Any]]:
    rows = []
    for (src, dst), counts in sorted(matrix.by_namespace().items()):
        cell = _cell(counts, hide_counts=False)
        if cell is None:
            continue
        rows.append({"from": src, "to": dst, **cell,
                     "open_url": reverse("reachability_cell") + "?" + urlencode(
                         {**query.params(), "level": "project", "row": f"ns:{src}",
                          "col": f"ns:{dst}"})})
    return rows


def _check_url(src: str, dst: str, port: int, protocol: str) -> str:
    return _check_path() + "?" + urlencode(
        {"source": src, "destination": dst, "port": port, "protocol": protocol})


@functools.cache
def _check_path() -> str:
    return reverse("reachability_check")
