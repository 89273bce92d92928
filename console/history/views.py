from datetime import date

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from cluster.errors import ClusterError
from console.core import cluster, tenants
from console.core.access import access_of, scoped_to_user
from console.core.cache import render_kept, roles_key, tenant_directory
from console.core.models import Job
from console.core.responses import render_cluster_error
from console.guardrails.forms import OverrideForm
from console.guardrails.services import record_override
from console.history import revert
from console.history import services as svc
from console.reachability.services import scope_for
from console.tenancy.services import isolation_settings
from isolation.text import gettext as _


@require_GET
def history(request):
    """The changes (with their filters) are rendered once per state of the change log and
    the cluster, roles, language and query, and kept (cached_fragment); the recent jobs,
    whose state moves all the time, are read on every view."""
    access = access_of(request)
    version = cluster.model_version()
    alone = bool(request.htmx)
    try:
        workspace_of = {} if access.view_all else tenant_directory(version).workspace_of
        jobs = [] if alone else scoped_to_user(
            Job.objects.select_related("requested_by").defer("params", "result"), request,
            workspace_of)[:20]
        return render_kept(request, "history/list.html", "changes" if alone else "listing",
                           version and f"{version}|{svc.changes_version()}",
                           ("history", roles_key(access)),
                           lambda: _listing_context(request, version),
                           alone=alone, page={"jobs": jobs})
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("History"))


def _listing_context(request, version: str | None) -> dict:
    changes = svc.listed_changes(request, tenant_directory(version).workspace_of)
    wanted = svc.HistoryFilter.from_params(request.GET)
    page = Paginator(svc.filtered(changes, wanted), 50).get_page(request.GET.get("page"))
    return {"changes": page, "filters": wanted, "choices": svc.filter_choices(changes)}


@require_GET
def history_export(request):
    try:
        scope = scope_for(request)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("History"))
    changes = svc.filtered(svc.visible_changes(request, scope.workspace_of),
                           svc.HistoryFilter.from_params(request.GET))
    response = JsonResponse({"changes": [svc.export_record(c, scope) for c in changes]},
                            json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="history-{date.today()}.json"'
    return response


@require_GET
def history_detail(request, change_id: int):
    try:
        scope = scope_for(request)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("History"))
    change = svc.get_change_for_user(request, change_id, scope.workspace_of)
    return render(request, "history/detail.html", {
        "change": change, "delta": svc.delta_for(change, scope), "diffs": svc.diffs(change),
        "can_revert": svc.can_revert(access_of(request), change, scope.workspace_of),
        "reverted_by": change.reverted_by.order_by("-created_at")[:5],
    })


@require_GET
def history_diff(request, change_id: int):
    """More rows of one of a change's diffs ("show more" on its page)."""
    try:
        workspace_of = tenants.directory().workspace_of
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("History"))
    change = svc.get_change_for_user(request, change_id, workspace_of)
    number, start = _number(request.GET.get("diff")), _number(request.GET.get("start"))
    page = svc.diff_rows(change, number, start)
    if page is None:
        raise Http404(gettext("No such diff."))
    diff = {"page": page, "number": number, "more": True}
    if request.htmx:
        return render(request, "history/_diff.html#diff-rows", {"diff": diff, "change": change})
    return render(request, "history/diff.html", {"diff": diff, "change": change})


def _number(value) -> int:
    try:
        return max(0, min(int(value or 0), 10_000_000))
    except (TypeError, ValueError):
        return 0


@require_GET
def history_objects(request, change_id: int):
    try:
        workspace_of = tenants.directory().workspace_of
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("History"))
    change = svc.get_change_for_user(request, change_id, workspace_of)
    text = svc.resulting_yaml(change, generated=request.GET.get("generated") == "1")
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="change-{change.pk}.yaml"'
    return response


@require_http_methods(["GET", "POST"])
def history_revert(request, change_id: int):
    try:
        scope = scope_for(request)
        change = svc.get_change_for_user(request, change_id, scope.workspace_of)
        svc.require_revert(request, change, scope.workspace_of)
        plan = revert.plan_revert(change, cluster.gateway())
        context = {"change": change, "plan": plan, "job": None}
        if plan.possible and plan.writes:
            snapshot, settings = cluster.snapshot(), isolation_settings()
            check = revert.revert_guardrails(plan, snapshot, settings, request.user, change)
            context["guardrails"] = check
            if request.method == "POST":
                override = OverrideForm(request.POST, check=check, user=request.user)
                if override.is_valid():
                    context["job"] = job = revert.start_revert(request.user, change)
                    if override.cleaned_data["override_reason"]:
                        record_override(request.user, check,
                                        override.cleaned_data["override_reason"],
                                        target=_("revert of change #{number}",
                                                 number=change.pk),
                                        job=job, workspace=change.workspace,
                                        project=change.project)
                    return render(request, "history/revert.html", context, status=202)
                context["apply_refused"] = " ".join(override.non_field_errors())
            context["delta"], context["notes"] = revert.preview(plan, snapshot, settings, scope)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Revert"))
    status = 409 if request.method == "POST" else 200
    return render(request, "history/revert.html", context, status=status)
