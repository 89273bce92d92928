"""Job handlers of the Reachability and History areas (registered with console.core.jobs.handler)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from cluster.errors import PermanentClusterError
from console.core import jobs, tenants
from console.core.access import Access
from console.core.scope import Scope
from console.reachability import whatif
from console.reachability.grid import GridInputError, portable
from console.reachability.matrix import JOB_KIND, grid_now, parse_query
from isolation import text
from isolation.text import gettext as _
from isolation.text import ngettext


def _requester_scope(ctx: jobs.JobContext) -> Scope:
    """What the job's requester may see, read afresh (their rights may have changed)."""
    ctx.progress(2, gettext_noop("Reading who may see what"))
    directory = tenants.directory(fresh=True)
    user = ctx.job.requested_by
    return Scope.of(Access.for_user(user) if user else Access(username=""),
                    directory.namespaces, directory.workspace_of, directory.workspaces)


@jobs.handler(JOB_KIND)
def reachability_matrix(ctx: jobs.JobContext) -> dict[str, Any]:
    """Compute a large reachability grid in the requester's scope; the grid is the result."""
    scope = _requester_scope(ctx)
    try:
        query = parse_query(ctx.params.get("query") or {})
        grid = grid_now(scope, query, progress=ctx.progress)
    except GridInputError as exc:
        raise PermanentClusterError(exc.message) from exc
    message = ngettext("Matrix of {pods} pod computed in {seconds} s.",
                       "Matrix of {pods} pods computed in {seconds} s.", grid["pods"],
                       pods=grid["pods"], seconds=grid["seconds"])
    return {"message": message, "grid": portable(grid)}


@jobs.handler(whatif.JOB_KIND)
def reachability_what_if(ctx: jobs.JobContext) -> dict[str, Any]:
    """Preview a pending change on a large cluster in the requester's scope."""
    scope = _requester_scope(ctx)
    pending = whatif.pending_from(ctx.params["pending"])
    try:
        result = whatif.preview_now(scope, pending, progress=ctx.progress)
    except whatif.WhatIfInputError as exc:
        raise PermanentClusterError(exc.message) from exc
    delta = result["delta"]
    message = _("{title}: {allowed} connections newly allowed, {blocked} newly blocked.",
                title=pending.title, allowed=delta["allowed"], blocked=delta["blocked"])
    return {"message": message, "whatif": text.dump_all(result)}


@jobs.handler("revert-change")
def revert_change(ctx: jobs.JobContext) -> dict[str, Any]:
    """Re-apply the before state of a history entry (see console.history.revert)."""
    from console.history.revert import run_revert

    return run_revert(ctx)
