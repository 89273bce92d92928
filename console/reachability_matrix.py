"""The matrix of the Reachability page as a service: filters read from the URL, the grid from
the cache, computed now, or computed by a background job when it is expected to take longer
than a second; and the grid dressed for the template (symbols, words, links).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from console import cluster, jobs
from console.models import Job, JobStatus
from console.reachability_grid import (
    LEVELS,
    MORE,
    GridInputError,
    MatrixQuery,
    Progress,
    check_query,
    compute_grid,
)
from console.reachability_scope import OTHER, Scope
from console.reachability_sources import SourceInputError, parse_entries

INLINE_SECONDS = 1.0       # grids expected to take longer are computed by a job
GUESS_NAMESPACES = 200     # before any grid was measured, more namespaces than this means "slow"
JOB_KIND = "reachability-matrix"
GRID_KEY = "reachability:grid:"
COST_KEY = "reachability:grid-seconds"
CACHE_SECONDS = 30
COST_SECONDS = 3600
REUSE_JOBS = timedelta(seconds=60)


# -- reading a query ----------------------------------------------------------------------


def parse_query(data) -> MatrixQuery:
    """A MatrixQuery from GET parameters (or job params); GridInputError names a bad field.

    `ports` is "80, 443/TCP, 53/UDP"; `external` is IP addresses and CIDRs.
    """
    level = (data.get("level") or "").strip() or "project"
    if level not in LEVELS:
        raise GridInputError("level", f"Level must be one of {', '.join(LEVELS)}.")
    ports: list[tuple[int, str]] = []
    for raw in (data.get("ports") or "").replace(",", " ").split():
        number, _, protocol = raw.partition("/")
        protocol = (protocol or "TCP").upper()
        if not number.isdigit() or not 1 <= int(number) <= 65535 or protocol not in (
                "TCP", "UDP", "SCTP"):
            raise GridInputError("ports", f"{raw!r} is not a port like 8080 or 53/UDP.")
        if (int(number), protocol) not in ports:
            ports.append((int(number), protocol))
    try:
        external = parse_entries(data.get("external") or "")
    except SourceInputError as exc:
        raise GridInputError("external", str(exc)) from exc
    return MatrixQuery(level, (data.get("workspace") or "").strip(),
                       (data.get("project") or "").strip(), tuple(ports), tuple(external))


# -- computing now or in the background ---------------------------------------------------


@dataclass
class MatrixOutcome:
    """Either the grid, or the job computing it."""

    grid: dict[str, Any] | None = None
    job: Job | None = None


def expected_seconds(scope: Scope) -> float:
    """How long a whole-cluster grid is expected to take: the last one measured, or (before
    any) a guess from the number of namespaces."""
    measured = cache.get(COST_KEY)
    if measured is not None:
        return float(measured)
    return 2 * INLINE_SECONDS if len(scope.known) > GUESS_NAMESPACES else 0.0


def matrix_for(user, scope: Scope, query: MatrixQuery, *, refresh: bool = False
               ) -> MatrixOutcome:
    """The grid of `query` for `user`: from the cache, computed now when that is expected to
    take under a second, else a "reachability-matrix" job (an identical recent one is reused).

    Raises GridInputError before any work when a filter is invalid.
    """
    check_query(scope, query)
    digest = query.digest(scope)
    if not refresh:
        cached = cache.get(GRID_KEY + digest)
        if cached is not None:
            return MatrixOutcome(grid=cached)
    if expected_seconds(scope) <= INLINE_SECONDS:
        return MatrixOutcome(grid=grid_now(scope, query))
    recent = Job.objects.filter(
        kind=JOB_KIND, requested_by=user, params__digest=digest,
        created_at__gte=timezone.now() - REUSE_JOBS).exclude(status=JobStatus.FAILED).first()
    if recent is not None and not refresh:
        return MatrixOutcome(job=recent)
    job = jobs.start(JOB_KIND, target=f"{query.level} matrix", user=user,
                     params={"digest": digest, "query": query.params()})
    return MatrixOutcome(job=job)


def grid_now(scope: Scope, query: MatrixQuery, progress: Progress | None = None
             ) -> dict[str, Any]:
    """Read the cluster and compute the grid; remembers its cost and caches it briefly."""
    started = time.perf_counter()
    if progress:
        progress(5, "Reading the cluster")
    snapshot = cluster.snapshot()
    grid = compute_grid(scope, query, snapshot, progress)
    grid["seconds"] = round(time.perf_counter() - started, 3)
    cache.set(COST_KEY, grid["seconds"], COST_SECONDS)
    cache.set(GRID_KEY + query.digest(scope), grid, CACHE_SECONDS)
    return grid


# -- for the page -------------------------------------------------------------------------

SYMBOLS = {"allowed": "✓", "partly": "◐", "blocked": "✕"}
WORDS = {"allowed": "all allowed", "partly": "partly allowed", "blocked": "all blocked"}


def present(grid: dict[str, Any]) -> dict[str, Any]:
    """The grid with what each cell shows: symbol, words, counts, and its drill-down link."""
    base = grid["params"]
    columns = [_linked(c) for c in grid["columns"]]
    rows = []
    for header, cells in zip(grid["rows"], grid["cells"], strict=True):
        shown = []
        for column, cell in zip(grid["columns"], cells, strict=True):
            if cell is None:
                shown.append({"status": "none", "symbol": "", "text": "—",
                              "title": f"{header['label']} → {column['label']}: no connections"})
                continue
            status = cell["status"]
            counts = (f"{cell['allowed']}/{cell['total']}" if "total" in cell else "")
            title = f"{header['label']} → {column['label']}: {WORDS[status]}"
            if counts:
                title += f" ({cell['allowed']} of {cell['total']} connections)"
            url = ""
            if header["key"] not in (OTHER, MORE):
                url = reverse("reachability_cell") + "?" + urlencode(
                    {**base, "row": header["key"], "col": column["key"]})
            shown.append({"status": status, "symbol": SYMBOLS[status], "text": counts,
                          "words": WORDS[status], "title": title, "url": url})
        rows.append({"header": _linked(header), "cells": shown})
    refresh = reverse("reachability") + "?" + urlencode({**base, "refresh": "1"})
    return {**grid, "rows": rows, "columns": columns, "refresh_url": refresh,
            "computed": datetime.fromisoformat(grid["computed_at"])}


def _linked(header: dict[str, Any]) -> dict[str, Any]:
    if "zoom" not in header:
        return header
    return {**header, "zoom_url": reverse("reachability") + "?" + urlencode(header["zoom"])}


def filter_options(scope: Scope) -> dict[str, list[str]]:
    """The workspaces and projects the filters offer: those of `scope`."""
    projects = sorted(n for n in scope.known if scope.sees(n))
    return {"workspaces": list(scope.workspaces), "projects": projects, "levels": list(LEVELS)}
