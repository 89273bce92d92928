"""Job handlers of the Reachability and History areas (registered with console.jobs.handler)."""

from __future__ import annotations

from typing import Any

from cluster.errors import PermanentClusterError
from console import jobs, tenants
from console.access import Access
from console.reachability_grid import GridInputError
from console.reachability_matrix import JOB_KIND, grid_now, parse_query
from console.reachability_scope import Scope


@jobs.handler(JOB_KIND)
def reachability_matrix(ctx: jobs.JobContext) -> dict[str, Any]:
    """Compute a large reachability grid in the requester's scope; the grid is the result."""
    ctx.progress(2, "Reading who may see what")
    directory = tenants.directory(fresh=True)
    scope = Scope.of(Access.for_user(ctx.job.requested_by) if ctx.job.requested_by else
                     Access(username=""), directory.namespaces, directory.workspace_of,
                     directory.workspaces)
    try:
        query = parse_query(ctx.params.get("query") or {})
        grid = grid_now(scope, query, progress=ctx.progress)
    except GridInputError as exc:
        raise PermanentClusterError(exc.message) from exc
    return {"message": f"Matrix of {grid['pods']} pods computed in {grid['seconds']} s.",
            "grid": grid}


@jobs.handler("revert-change")
def revert_change(ctx: jobs.JobContext) -> dict[str, Any]:
    """Re-apply the before state of a history entry (see console.history_revert)."""
    from console.history_revert import run_revert

    return run_revert(ctx)
