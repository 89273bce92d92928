"""Traffic Paths: the exposures list, one exposure's paths and advisor, the fix, the explainer."""

from __future__ import annotations

from urllib.parse import quote

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from cluster.errors import ClusterError
from console.core import cluster, tenants
from console.core.access import access_of, require_project
from console.core.cache import NotKept, render_kept, roles_key, tenant_directory
from console.core.models import PlatformSettings
from console.core.responses import render_cluster_error
from console.reachability.services import scope_for
from console.tenancy.config import isolation_settings as iso_settings
from console.tenancy.previews import preview_guardrails
from console.tenancy.services import IntentError
from console.traffic import advisor
from console.traffic import services as traffic
from console.traffic.forms import ClientForm, ExplainForm, TrafficFilterForm
from isolation.paths.trace import DEFAULT_CLIENT_IP, PathInputError

PAGE_SIZE = 25
SORT_COLUMNS = [("name", _("Name")), ("project", _("Project")), ("type", _("Type")),
                ("status", _("Status"))]
SORTS = {
    "name": lambda row: (row.exposure.name, row.exposure.namespace),
    "project": lambda row: (row.exposure.namespace, row.exposure.name),
    "type": lambda row: (row.exposure.kind, row.exposure.namespace, row.exposure.name),
    "status": lambda row: (traffic.STATUS_ORDER[row.status], row.exposure.namespace,
                           row.exposure.name),
}


def _visible_namespaces(request, directory: tenants.Directory, namespaces: list[str]) -> list[str]:
    """Namespaces the user may see: all for global viewers, else their projects."""
    access = access_of(request)
    if access.view_all:
        return namespaces
    return access.visible_projects([n for n in namespaces if n in directory.workspace_of],
                                   directory.workspace_of)


def _visible_ref(request, kind: str, namespace: str, name: str, *, edit: bool = False):
    """(ref, workspace_of, access) once the user may see (or, with `edit`, change) the project.

    Raises Http404 when the kind is unknown or the user may not see the project,
    PermissionDenied when `edit` and the user may only view it, ClusterError when the tenant
    directory cannot be read.
    """
    if kind not in traffic.KINDS:
        raise Http404("No such exposure.")
    workspace_of = tenants.directory().workspace_of
    access = access_of(request)
    if not access.view_all or edit:
        require_project(request, namespace, workspace_of, known=namespace in workspace_of,
                        edit=edit)
    return traffic.Ref(kind, namespace, name), workspace_of, access


def _load_exposure(request, kind: str, namespace: str, name: str, *, edit: bool = False):
    """(traffic context, ref, exposure, template context) for a page of one exposure.

    Raises as `_visible_ref` does, and Http404 when the exposure does not exist.
    """
    ref, workspace_of, access = _visible_ref(request, kind, namespace, name, edit=edit)
    ctx = traffic.load_context()
    exposure = traffic.find_exposure(ctx, ref)
    if exposure is None:
        raise Http404("No such exposed Service or Ingress.")
    return ctx, ref, exposure, {
        "ctx": ctx, "ref": ref, "exposure": exposure, "mode": ctx.modes.get(namespace, "off"),
        "in_workspace": namespace in workspace_of,
        "can_edit": access.can_edit_project(namespace, workspace_of)}


def _queries(request) -> dict[str, str]:
    """Query strings for links: pages (keeps sort), sort headers (filters only), detail pages."""
    page, filters = request.GET.copy(), request.GET.copy()
    for params in (page, filters):
        params.pop("poll", None)
    page.pop("page", None)
    filters.pop("page", None)
    filters.pop("sort", None)
    client = request.GET.get("client", "").strip()
    return {"query": page.urlencode(), "sort_query": filters.urlencode(),
            "client_query": f"client={quote(client)}" if client else ""}


def _sorted(rows: list[traffic.ExposureRow], sort: str) -> list[traffic.ExposureRow]:
    key = SORTS.get(sort.lstrip("-"), SORTS["project"])
    return sorted(rows, key=key, reverse=sort.startswith("-"))


@require_GET
def traffic_list(request):
    """Every exposure the user may see, from the rows the "trace-exposures" job cached for the
    cluster's current state; while it runs, the latest rows marked as being updated (or a
    waiting note), and the results poll until the current ones are there. Once the rows are
    current, the results (for htmx) or the page's content are rendered once per cluster
    version, settings, roles, language and query, and kept (cached_fragment)."""
    shown: dict = {}
    alone = bool(request.htmx)
    version = cluster.model_version()
    try:
        settings_key = (repr(iso_settings()), PlatformSettings.load().cni_mode or "")
        response = render_kept(
            request, "traffic/list.html", "results" if alone else "content", version,
            ("traffic", roles_key(access_of(request)), settings_key),
            lambda: _list_context(request, shown, version), alone=alone)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=_("Traffic Paths"))
    if alone and request.GET.get("poll") and not shown.get("tracing"):
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _list_context(request, shown: dict, version: str | None) -> dict:
    """The list's context; NotKept while its rows are being traced (`shown["tracing"]`)."""
    directory = tenant_directory(version)
    inputs = traffic.list_inputs()
    visible = _visible_namespaces(request, directory, inputs.exposed)
    form = TrafficFilterForm(request.GET or None, projects=visible)
    client = form.client_or_default()
    rows = listing = job = None
    stale = False
    if not form.is_bound or form.is_valid():
        listing, job, stale = traffic.current_list(inputs, request.user, client)
        if listing is not None:
            project = form.cleaned_data.get("project", "") if form.is_bound else ""
            shown_namespaces = set(visible) if not project else {project} & set(visible)
            rows = _sorted([row for row in listing.rows
                            if row.exposure.namespace in shown_namespaces],
                           request.GET.get("sort", "project"))
    tracing = shown["tracing"] = (job is not None and listing is None) or stale
    page = Paginator(rows or [], PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form, "page": page, "rows": rows, "client": client, "listing": listing,
        "job": job, "tracing": tracing, "stale": stale, "exposure_count": len(inputs.exposed),
        "sort": request.GET.get("sort", "project"), "sort_columns": SORT_COLUMNS,
        "anticipated": sorted(listing.anticipated & set(visible)) if listing else [],
        **_queries(request)}
    return NotKept(context) if tracing or job is not None else context


@require_GET
def traffic_detail(request, kind: str, namespace: str, name: str):
    try:
        ctx, ref, exposure, page = _load_exposure(request, kind, namespace, name)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=f"{namespace}/{name}")
    form = ClientForm(request.GET or None)
    client = form.client_or_default()
    context = {**page, "form": form, "client": client}
    try:
        result = traffic.traced(ctx, ref, client)
    except PathInputError as exc:
        return render(request, "traffic/detail.html", {**context, "error": str(exc)})
    svg = traffic.cached_drawing_for(result.digest, ref)
    job = None
    if svg is None:
        job = traffic.request_drawing(request.user, ref, result.result.client_ip, result.digest)
        svg = traffic.cached_drawing_for(result.digest, ref)  # drawn already when run eagerly
    return render(request, "traffic/detail.html", {
        **context, "result": result, "svg": svg, "job": job,
        "advice": advisor.with_overrides(
            ctx, advisor.advise(ctx, result, can_edit=page["can_edit"]), scope_for(request))})


@require_GET
def traffic_diagram(request, kind: str, namespace: str, name: str):
    """The diagram panel, polled while the drawing job runs (reads the cache, not the cluster)."""
    try:
        ref, _, _ = _visible_ref(request, kind, namespace, name)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=f"{namespace}/{name}")
    digest = request.GET.get("digest", "")
    svg = traffic.cached_drawing_for(digest, ref)
    job = traffic.drawing_job(digest)
    client = ClientForm(request.GET or None).client_or_default()
    response = render(request, "traffic/detail.html#diagram",
                      {"ref": ref, "svg": svg, "job": job, "digest": digest, "client": client})
    if svg is not None or job is None or job.finished:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_GET
def traffic_diagram_svg(request, kind: str, namespace: str, name: str):
    """The drawing as a file: from the cache by digest, else traced and drawn now."""
    try:
        ref, _, _ = _visible_ref(request, kind, namespace, name)
        svg = traffic.cached_drawing_for(request.GET.get("digest", ""), ref)
        if svg is None:
            ctx, ref, _, _ = _load_exposure(request, kind, namespace, name)
            result = traffic.traced(ctx, ref, ClientForm(request.GET or None).client_or_default())
            svg = traffic.cached_drawing_for(result.digest, ref) or traffic.draw(
                ctx, ref, result.result.client_ip)[1]
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=f"{namespace}/{name}")
    except PathInputError as exc:
        return HttpResponse(str(exc), status=422, content_type="text/plain")
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="{kind}-{namespace}-{name}.svg"'
    return response


@require_http_methods(["GET", "POST"])
def traffic_fix(request, kind: str, namespace: str, name: str):
    """The one-click fix: the entry and its impact, then the job that saves it."""
    try:
        ctx, ref, exposure, page = _load_exposure(request, kind, namespace, name, edit=True)
        client = ClientForm(request.POST or request.GET or None).client_or_default()
        result = traffic.traced(ctx, ref, client)
        scope = scope_for(request)
        advice = advisor.with_overrides(ctx, advisor.advise(ctx, result, can_edit=True), scope)
        context = {**page, "client": client, "advice": advice, "result": result}
        if not advice.can_fix:
            return render(request, "traffic/fix.html", context)
        if request.method == "POST" and request.POST.get("digest") == result.digest:
            return _start_fix(request, ctx, context, advice)
        fix = advisor.preview_fix(ctx, result, advice)
        guardrails = preview_guardrails(fix.preview, scope)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=f"{namespace}/{name}")
    except PathInputError as exc:
        raise Http404(str(exc)) from exc
    changed = request.method == "POST"  # posted for a trace that is no longer current
    return render(request, "traffic/fix.html", {**context, "fix": fix, "changed": changed,
                                                "guardrails": guardrails})


def _start_fix(request, ctx: traffic.TrafficContext, context: dict, advice: advisor.Advice):
    try:
        job = advisor.start_fix(request.user, ctx, advice, request.POST.get("name", "").strip())
    except IntentError as exc:
        return render(request, "traffic/fix.html", {**context, "issues": exc.issues}, status=422)
    return render(request, "traffic/fix.html", {**context, "job": job}, status=202)


@require_GET
def traffic_explain(request):
    form = ExplainForm.from_query(request.GET)
    case = traffic.explained(**form.case()) if form.is_valid() else None
    template = "traffic/explain.html#case" if request.htmx else "traffic/explain.html"
    return render(request, template, {"form": form, "case": case, "client_ip": DEFAULT_CLIENT_IP})
