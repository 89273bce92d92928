"""Projects and their Network Isolation page: the switch, the allowlists, the effective result.

Every change is previewed first (the reachability it would change, generated policies before
and after), then started as a job whose card updates live; the page's state sections reload
when a job finishes (`isolation-changed`, see templates/projects/_live.html).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlparse

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cluster.errors import ClusterError, NotFoundError
from console import cluster, tenants
from console import isolation_service as iso
from console.access import access_of, require_project
from console.forms_isolation import IsolationSwitchForm
from console.history import to_yaml
from console.isolation_views_service import (
    entry_form_for,
    entry_kind,
    preview_context,
    project_page,
    project_reachability,
    project_rows,
)
from console.models import Job
from console.reachability_service import scope_for
from console.views.common import render_cluster_error

PARTS = ("head", "state", "generated")
PAGE_SIZE = 50
PANEL = "isolation-panel"   # the element of a page where previews and job cards appear


def cluster_page(view):
    """Turn a ClusterError into the page that explains it (503), never a 500."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        except ClusterError as exc:
            if partial(request):
                return render(request, "projects/_cluster_error.html", {"error": exc.message},
                              status=error_status(request, True, 503))
            title = kwargs.get("project") or kwargs.get("workspace") or "Network isolation"
            return render_cluster_error(request, exc, title=title)

    return wrapper


def partial(request) -> bool:
    """An htmx request that wants a fragment (not a boosted page load)."""
    return bool(request.htmx) and not request.htmx.boosted


def error_status(request, failed, status: int = 400) -> int:
    """`status` for a refused request; 200 for htmx, which swaps only successful responses
    (the fragment itself says what went wrong)."""
    return status if failed and not partial(request) else 200


def in_dialog(request) -> bool:
    """Whether the fragment goes into a modal dialog of another page (not its own page, and
    not the page's inline panel)."""
    if not partial(request) or request.htmx.target == PANEL:
        return False
    return urlparse(request.htmx.current_url or "").path != request.path


def job_response(request, job: Job, page_url: str):
    """The live job card for htmx, or back to the page showing it."""
    job.refresh_from_db()
    if partial(request):
        return render(request, "projects/_job.html", {"job": job, "dialog": in_dialog(request)},
                      status=202)
    return redirect(f"{page_url}?job={job.pk}")


def visible_job(request) -> Job | None:
    """The job named by ?job= when the user may see it (theirs, or they see everything)."""
    job_id = request.GET.get("job", "")
    if not job_id.isdigit():
        return None
    job = Job.objects.filter(pk=int(job_id)).first()
    if job and (access_of(request).view_all or job.requested_by_id == request.user.pk):
        return job
    return None


def issues_response(request, issues) -> HttpResponse:
    """The refused request's issues as a fragment; 400 unless htmx (see `error_status`)."""
    return render(request, "projects/_issues.html", {"issues": issues},
                  status=error_status(request, True))


def switch_preview(request, preview_of: Callable[[bool], Any], *, folder: str, context: dict,
                   confirm_url: str) -> HttpResponse:
    """Preview turning isolation on or off (?enabled=1 for on) with `preview_of(enabled)`:
    `<folder>/switch_preview.html`, only its panel for htmx; refused previews are 400 unless
    htmx."""
    enabled = request.GET.get("enabled") == "1"
    preview = preview_of(enabled)
    context = {**context, "enabled": enabled, "confirm_url": confirm_url,
               **preview_context(preview, scope_for(request))}
    template = f"{folder}/switch_preview.html" + ("#panel" if partial(request) else "")
    return render(request, template, context, status=error_status(request, preview.issues))


def start_switch(request, start: Callable[[bool], Job], page_url: str) -> HttpResponse:
    """Read the on/off switch from the POST and start its job with `start(enabled)`; an invalid
    switch or a refused change answers with the issues instead."""
    form = IsolationSwitchForm(request.POST)
    if not form.is_valid():
        return issues_response(request, [("enabled", "Choose on or off.")])
    try:
        job = start(form.cleaned_data["enabled"])
    except iso.IntentError as exc:
        return issues_response(request, exc.issues)
    return job_response(request, job, page_url)


def _project(request, project: str, *, edit: bool = False):
    directory = tenants.directory()
    workspace_of = directory.workspace_of
    access = require_project(request, project, workspace_of, known=project in workspace_of,
                             edit=edit)
    return directory, access


@require_GET
def project_list(request):
    try:
        directory = tenants.directory()
    except ClusterError as exc:
        return render_cluster_error(request, exc, title="Projects")
    workspace_of = directory.workspace_of
    access = access_of(request)
    names = access.visible_projects(sorted(workspace_of), workspace_of)
    query, workspace = request.GET.get("q", "").strip(), request.GET.get("workspace", "")
    rows = project_rows(directory, names, query, workspace)
    context = {"rows": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
               "visible": len(names), "q": query, "workspace": workspace,
               "workspaces": sorted({workspace_of[p] for p in names})}
    if partial(request) and request.GET.get("part") == "table":
        return render(request, "projects/list.html#table", context)
    return render(request, "projects/list.html", context)


@require_GET
@cluster_page
def project_detail(request, project: str):
    directory, access = _project(request, project)
    state = iso.project_state(project)
    context = {"project": project, "state": state, "settings": iso.isolation_settings(),
               "can_edit": access.can_edit_project(project, directory.workspace_of),
               "job": visible_job(request), **project_page(state)}
    part = request.GET.get("part")
    if partial(request) and part in PARTS:
        return render(request, f"projects/detail.html#{part}", context)
    return render(request, "projects/detail.html", context)


@require_GET
@cluster_page
def project_reachability_view(request, project: str):
    _project(request, project)
    result = project_reachability(cluster.snapshot(), project, scope_for(request))
    template = "projects/reachability.html" + ("#result" if partial(request) else "")
    return render(request, template, {"project": project, "result": result})


@require_GET
@cluster_page
def project_isolation_preview(request, project: str):
    _project(request, project, edit=True)
    return switch_preview(request, lambda enabled: iso.preview_project_isolation(project, enabled),
                          folder="projects", context={"project": project},
                          confirm_url=reverse("project_isolation", args=[project]))


@require_POST
@cluster_page
def project_isolation(request, project: str):
    _project(request, project, edit=True)
    return start_switch(
        request, lambda enabled: iso.start_project_isolation(request.user, project, enabled),
        reverse("project_detail", args=[project]))


@require_http_methods(["GET", "POST"])
@cluster_page
def project_entry_new(request, project: str, kind: str):
    directory, _ = _project(request, project, edit=True)
    if kind not in ("internal", "external"):
        raise Http404("No such kind of allowlist entry.")
    form = entry_form_for(kind, project, directory, data=request.POST or None)
    return _entry_dialog(request, project, kind, form, name=None,
                         workspace=directory.workspace_of[project])


@require_http_methods(["GET", "POST"])
@cluster_page
def project_entry_edit(request, project: str, name: str):
    directory, _ = _project(request, project, edit=True)
    entry = cluster.gateway().get_object("NamespaceNetworkPolicy", name, project)
    kind = entry_kind(entry)
    form = entry_form_for(kind, project, directory, data=request.POST or None, entry=entry)
    if form is None:
        template = "projects/entry_form.html" + ("#dialog" if partial(request) else "")
        return render(request, template, {
            "project": project, "name": name, "kind": kind, "form": None,
            "entry_yaml": to_yaml([entry]), "dialog": in_dialog(request)})
    return _entry_dialog(request, project, kind, form, name=name,
                         workspace=directory.workspace_of[project])


def _entry_dialog(request, project: str, kind: str, form, *, name: str | None,
                  workspace: str):
    """Show the form; on POST re-render a row change, preview, or start the save job."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    context = {"project": project, "name": name, "kind": kind, "form": form,
               "workspace": workspace, "quiet": action not in ("preview", "save"),
               "dialog": in_dialog(request)}
    if action in ("preview", "save") and form.is_valid():
        version = form.cleaned_data.get("resource_version") or None
        if action == "save":
            try:
                job = iso.start_save_entry(request.user, project, name, form.spec(),
                                           resource_version=version)
            except iso.IntentError as exc:
                form.add_service_issues(exc.issues)
            else:
                return job_response(request, job, reverse("project_detail", args=[project]))
        else:
            preview = iso.preview_entry(project, name, form.spec())
            context.update(preview_context(preview, scope_for(request)))
            form.add_service_issues(preview.issues)
    status = error_status(request, action in ("preview", "save") and form.has_errors())
    template = "projects/entry_form.html" + ("#dialog" if partial(request) else "")
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@cluster_page
def project_entry_delete(request, project: str, name: str):
    _project(request, project, edit=True)
    if request.method == "POST":
        try:
            job = iso.start_delete_entry(request.user, project, name)
        except iso.IntentError as exc:
            return issues_response(request, exc.issues)
        return job_response(request, job, reverse("project_detail", args=[project]))
    preview = iso.preview_entry_delete(project, name)
    context = {"project": project, "name": name, "dialog": in_dialog(request),
               **preview_context(preview, scope_for(request))}
    template = "projects/entry_delete.html" + ("#dialog" if partial(request) else "")
    return render(request, template, context, status=error_status(request, preview.issues, 404))


__all__ = ["project_list", "project_detail", "project_reachability_view",
           "project_isolation_preview", "project_isolation", "project_entry_new",
           "project_entry_edit", "project_entry_delete", "cluster_page", "error_status", "partial",
           "in_dialog", "job_response", "visible_job", "issues_response", "switch_preview",
           "start_switch"]
