"""The matrix of the Reachability page as a service: filters read from the URL, the grid from
the cache, computed now, or computed by a background job when it is expected to take longer
than a second; and the grid dressed for the template (symbols, words, links).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus, urlencode

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop, ngettext

from console.core import cluster, jobs
from console.core.models import Job, JobStatus
from console.core.scope import OTHER, Scope
from console.reachability.grid import (
    LEVELS,
    MORE,
    GridInputError,
    MatrixQuery,
    Progress,
    check_query,
    compute_grid,
    level_error,
)
from console.reachability.sources import SourceInputError, parse_entries
from isolation import text
from isolation.text import gettext as _

INLINE_SECONDS = 1.0       # grids expected to take longer are computed by a job
GUESS_NAMESPACES = 200     # before any grid was measured, more namespaces than this means "slow"
JOB_KIND = "reachability-matrix"
# what a grid's job works on, by level
MATRIX_TARGETS = {"workspace": _("workspace matrix"), "project": _("project matrix"),
                  "pod": _("pod matrix")}
GRID_KEY = "reachability:grid:"
COST_KEY = "reachability:grid-seconds"
CACHE_SECONDS = 30
COST_SECONDS = 3600
REUSE_JOBS = timedelta(seconds=60)


# -- reading a query ----------------------------------------------------------------------


# Above this many projects in view, the matrix opens grouped by workspace: a grid of hundreds
# of projects squared is megabytes of cells no one can read; a workspace heading zooms in.
MANY_PROJECTS = 100


def default_level(scope: Scope) -> str:
    """The level the matrix opens at for `scope`: projects, or workspaces when there are many."""
    if scope.workspaces and len(filter_options(scope)["projects"]) > MANY_PROJECTS:
        return "workspace"
    return "project"


def parse_query(data, default_level: str = "project") -> MatrixQuery:
    """A MatrixQuery from GET parameters (or job params); GridInputError names a bad field.

    `ports` is "80, 443/TCP, 53/UDP"; `external` is IP addresses and CIDRs; without `level`,
    `default_level`.
    """
    level = (data.get("level") or "").strip() or default_level
    if level not in LEVELS:
        raise GridInputError("level", level_error())
    ports: list[tuple[int, str]] = []
    for raw in (data.get("ports") or "").replace(",", " ").split():
        number, _sep, protocol = raw.partition("/")
        protocol = (protocol or "TCP").upper()
        if not number.isdigit() or not 1 <= int(number) <= 65535 or protocol not in (
                "TCP", "UDP", "SCTP"):
            raise GridInputError("ports", _("{port} is not a port like 8080 or 53/UDP.",
                                            port=repr(raw)))
        if (int(number), protocol) not in ports:
            ports.append((int(number), protocol))
    try:
        external = parse_entries(data.get("external") or "")
    except SourceInputError as exc:
        raise GridInputError("external", exc.args[0] if exc.args else str(exc)) from exc
    return MatrixQuery(level, (data.get("workspace") or "").strip(),
                       (data.get("project") or "").strip(), tuple(ports), tuple(external))


# -- computing now or in the background ---------------------------------------------------


@dataclass
class MatrixOutcome:
    """Either the grid, or the job computing it."""

    grid: dict[str, Any] | None = None
    job: Job | None = None


def expected_seconds(scope: Scope, query: MatrixQuery) -> float:
    """How long the grid of `query` is expected to take: the last one of the same shape
    measured, or (before any) a guess from the number of namespaces."""
    measured = cache.get(_cost_key(scope, query))
    if measured is not None:
        return float(measured)
    return 2 * INLINE_SECONDS if len(scope.known) > GUESS_NAMESPACES else 0.0


def _cost_key(scope: Scope, query: MatrixQuery) -> str:
    # Grids of one shape (level, narrowed or not, whole cluster or one tenant) cost alike.
    return (f"{COST_KEY}:{query.level}:{bool(query.workspace or query.project)}:"
            f"{scope.everything}")


def matrix_for(user, scope: Scope, query: MatrixQuery, *, refresh: bool = False
               ) -> MatrixOutcome:
    """The grid of `query` for `user`: from the cache, computed now when that is expected to
    take under a second, else from a "reachability-matrix" job (an identical one started in
    the last minute is reused; a finished job gives its grid at once).

    Raises GridInputError before any work when a filter is invalid.
    """
    check_query(scope, query)
    digest = query.digest(scope)
    if not refresh:
        cached = cache.get(GRID_KEY + digest)
        if cached is not None:
            return MatrixOutcome(grid=cached)
    if expected_seconds(scope, query) <= INLINE_SECONDS:
        return MatrixOutcome(grid=grid_now(scope, query))
    job = None if refresh else Job.objects.filter(
        kind=JOB_KIND, requested_by=user, params__digest=digest,
        created_at__gte=timezone.now() - REUSE_JOBS).exclude(status=JobStatus.FAILED).first()
    if job is None:
        job = jobs.start(JOB_KIND, target=MATRIX_TARGETS[query.level], user=user,
                         params={"digest": digest, "query": query.params()})
        job.refresh_from_db()   # when jobs run in-process, it has already finished
    if job.status == JobStatus.SUCCEEDED and job.result.get("grid"):
        return MatrixOutcome(grid=job.result["grid"])
    return MatrixOutcome(job=job)


def grid_now(scope: Scope, query: MatrixQuery, progress: Progress | None = None
             ) -> dict[str, Any]:
    """Read the cluster and compute the grid; remembers its cost and caches it briefly."""
    started = time.perf_counter()
    if progress:
        progress(5, gettext_noop("Reading the cluster"))
    snapshot = cluster.snapshot()
    grid = compute_grid(scope, query, snapshot, progress)
    grid["seconds"] = round(time.perf_counter() - started, 3)
    cache.set(_cost_key(scope, query), grid["seconds"], COST_SECONDS)
    cache.set(GRID_KEY + query.digest(scope), grid, CACHE_SECONDS)
    return grid


# -- for the page -------------------------------------------------------------------------

SYMBOLS = {"allowed": "✓", "partly": "◐", "blocked": "✕"}
WORDS = {"allowed": gettext_noop("all allowed"), "partly": gettext_noop("partly allowed"),
         "blocked": gettext_noop("all blocked")}


def present(grid: dict[str, Any]) -> dict[str, Any]:
    """The grid with each row's cells as markup: symbol, counts, words for screen readers and
    the drill-down link, in the active language (its sentences, kept or `portable`, are said
    in it). Cells are built here, escaped once per piece, rather than in the template, because
    a drawn grid has up to 60 × 60 of them and that is where the page's time would go."""
    grid = {**grid, "rows": [text.load_all(h) for h in grid["rows"]],
            "columns": [text.load_all(c) for c in grid["columns"]],
            "notes": [text.load(note) for note in grid.get("notes") or []]}
    words = {status: escape(gettext(word)) for status, word in WORDS.items()}
    nothing = escape(gettext("no connections"))
    connections: dict[int, str] = {}   # the words for each total, said once
    prefix = reverse("reachability_cell") + "?" + urlencode(grid["params"])
    prefix += "&" if grid["params"] else ""
    columns = [(escape(c["label"]), quote_plus(c["key"])) for c in grid["columns"]]
    rows = []
    for header, cells in zip(grid["rows"], grid["cells"], strict=True):
        label, row_key = escape(header["label"]), quote_plus(header["key"])
        drillable = header["key"] not in (OTHER, MORE)
        shown = []
        for (column, column_key), cell in zip(columns, cells, strict=True):
            if cell is None:
                shown.append(f'<td class="reach-cell reach-none"><span title="{label} → {column}:'
                             f' {nothing}">—</span></td>')
                continue
            status = cell["status"]
            title = f"{label} → {column}: {words[status]}"
            counts = ""
            if "total" in cell:
                counts = f"{cell['allowed']}/{cell['total']}"
                total = cell["total"]
                if total not in connections:
                    connections[total] = ngettext("(%(allowed)s of %(total)s connection)",
                                                  "(%(allowed)s of %(total)s connections)", total)
                title += " " + escape(connections[total] % {"allowed": cell["allowed"],
                                                            "total": total})
            inner = (f'<span class="reach-symbol" aria-hidden="true">{SYMBOLS[status]}</span>'
                     f'{counts}<span class="visually-hidden"> {title}</span>')
            if drillable:
                url = escape(f"{prefix}row={row_key}&col={column_key}")
                inner = (f'<a href="{url}" hx-get="{url}" hx-target="#drill" '
                         f'hx-swap="innerHTML" title="{title}">{inner}</a>')
            else:
                inner = f'<span title="{title}">{inner}</span>'
            shown.append(f'<td class="reach-cell reach-{status}">{inner}</td>')
        # Every variable part above went through escape() or is a number or a constant.
        rows.append({"header": _linked(header), "cells": mark_safe("".join(shown))})  # noqa: S308
    refresh = reverse("reachability") + "?" + urlencode({**grid["params"], "refresh": "1"})
    return {**grid, "rows": rows, "columns": [_linked(c) for c in grid["columns"]],
            "refresh_url": refresh, "computed": datetime.fromisoformat(grid["computed_at"])}


def _linked(header: dict[str, Any]) -> dict[str, Any]:
    if "zoom" not in header:
        return header
    return {**header, "zoom_url": reverse("reachability") + "?" + urlencode(header["zoom"])}


def filter_options(scope: Scope) -> dict[str, list[str]]:
    """The workspaces and projects the filters offer: those of `scope`."""
    projects = sorted(n for n in scope.known if scope.sees(n))
    return {"workspaces": list(scope.workspaces), "projects": projects, "levels": list(LEVELS)}
