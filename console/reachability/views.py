from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from cluster.errors import ClusterError
from console.core import cluster
from console.core.access import access_of
from console.core.cache import NotKept, render_kept, roles_key
from console.core.models import Job
from console.core.responses import error_status, partial, render_cluster_error
from console.reachability import grid, matrix, whatif
from console.reachability import services as svc


def _page(request, template: str, fragment: str, context: dict, status: int = 200):
    """The full page, or only `fragment` for an htmx request (not a boosted page load)."""
    name = f"{template}#{fragment}" if partial(request) else template
    return render(request, name, context, status=status)


def _form_page(request, template: str, fragment: str, context: dict):
    """A form's page or fragment; refused input (`context["error"]`) is shown at its field:
    400 with the full page for a browser, 200 with the form fragment for htmx, which swaps
    only successful responses (see console.core.responses.error_status)."""
    return _page(request, template, fragment, context,
                 status=error_status(request, bool(context["error"])))


@require_GET
def reachability(request):
    """The matrix; once its grid was computed from the cluster's current state, the matrix
    area (for htmx) or the page's content is rendered once per cluster version, roles,
    language and query, and kept (cached_fragment)."""
    alone = partial(request)
    try:
        version = cluster.model_version()
        return render_kept(request, "reachability/matrix.html",
                           "matrix-area" if alone else "content", version,
                           ("reachability", roles_key(access_of(request))),
                           lambda: _matrix_context(request, version), alone=alone)
    except grid.GridInputError as exc:
        return _refused(request, exc)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Reachability"))


def _matrix_context(request, version: str | None) -> dict:
    """The matrix's context (raises GridInputError, ClusterError); NotKept unless its grid
    was computed from the cluster's state at `version`."""
    scope = svc.scope_for(request)
    opening = matrix.default_level(scope)
    query = matrix.parse_query(request.GET, default_level=opening)
    outcome = matrix.matrix_for(request.user, scope, query,
                                refresh=request.GET.get("refresh") == "1")
    if (outcome.grid and version is not None and not svc.grid_is_current(outcome.grid, version)
            and matrix.expected_seconds(scope, query) <= matrix.INLINE_SECONDS):
        # The cluster changed since this grid was computed, and a new one takes under a second.
        outcome = matrix.matrix_for(request.user, scope, query, refresh=True)
    options = matrix.filter_options(scope)
    context = {"options": options, "params": request.GET, "query": query,
               "job": outcome.job,
               "grid": matrix.present(outcome.grid) if outcome.grid else None,
               "grouped_for_size": (not request.GET.get("level") and opening != "project"
                                    and len(options["projects"]))}
    if outcome.grid and version is not None and svc.grid_is_current(outcome.grid, version):
        return context
    return NotKept(context)


def _refused(request, error: grid.GridInputError):
    try:
        options = matrix.filter_options(svc.scope_for(request))
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Reachability"))
    return _page(request, "reachability/matrix.html", "matrix-area",
                 {"options": options, "params": request.GET, "error": error}, status=400)


@require_GET
def cell(request):
    try:
        scope = svc.scope_for(request)
        query = matrix.parse_query(request.GET)
        row, column = request.GET.get("row", ""), request.GET.get("col", "")
        namespaces = grid.drill_namespaces(scope, query, row, column)
        detail = grid.drill(scope, query, row, column, cluster.snapshot(namespaces))
    except grid.GridInputError as exc:
        raise Http404(exc.message) from exc
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Reachability"))
    if request.htmx:
        return render(request, "reachability/matrix.html#drill", {"detail": detail})
    outcome = matrix.matrix_for(request.user, scope, query)
    return render(request, "reachability/matrix.html", {
        "options": matrix.filter_options(scope), "params": request.GET, "query": query,
        "grid": matrix.present(outcome.grid) if outcome.grid else None, "job": outcome.job,
        "detail": detail})


def _own_job(request, job_id: int, kind: str) -> Job:
    job = get_object_or_404(Job, pk=job_id, kind=kind)
    if job.requested_by_id != request.user.pk and not access_of(request).view_all:
        raise Http404("No such job.")
    return job


def _polled(request, template: str, context: dict):
    response = render(request, template, context)
    if request.htmx and context["job"].finished:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_GET
def matrix_job(request, job_id: int):
    job = _own_job(request, job_id, matrix.JOB_KIND)
    grid_ = job.result.get("grid") if job.finished else None
    return _polled(request, "reachability/matrix.html#matrix-result",
                   {"job": job, "grid": matrix.present(grid_) if grid_ else None})


@require_GET
def what_if_job(request, job_id: int):
    job = _own_job(request, job_id, whatif.JOB_KIND)
    return _polled(request, "reachability/whatif.html#whatif-result",
                   {"job": job, "result": job.result.get("whatif") if job.finished else None})


@require_GET
def check(request):
    asked = any(request.GET.get(k) for k in ("source", "destination", "port"))
    context = {"params": request.GET, "result": None, "error": None}
    try:
        scope = svc.scope_for(request)
        if asked:
            context["result"] = svc.check(scope, request.GET.get("source", ""),
                                          request.GET.get("destination", ""),
                                          request.GET.get("port", ""),
                                          request.GET.get("protocol", "TCP"))
        if not partial(request):
            context["suggestions"] = svc.suggestions(scope)
    except svc.CheckInputError as exc:
        context["error"] = exc
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Reachability"))
    return _form_page(request, "reachability/check.html", "result", context)


@require_http_methods(["GET", "POST"])
def what_if(request):
    data = request.POST if request.method == "POST" else request.GET
    context = {"params": data, "result": None, "error": None}
    try:
        scope = svc.scope_for(request)
        context["options"] = matrix.filter_options(scope)
        if data.get("change"):
            pending = whatif.parse_pending(data)
            context["result"], context["job"] = whatif.preview_for(request.user, scope, pending)
    except whatif.WhatIfInputError as exc:
        context["error"] = exc
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Reachability"))
    return _form_page(request, "reachability/whatif.html", "result", context)
