"""Projects and their Network Isolation page: the switch, the allowlists, the effective result.

Every change is previewed first (the reachability it would change, generated policies before
and after), then started as a job whose card updates live; the page's state sections reload
when a job finishes (`isolation-changed`, see templates/projects/_live.html).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cluster.errors import ClusterError
from console.core import cluster, tenants
from console.core.access import access_of, require_project
from console.core.audit import to_yaml
from console.core.cache import render_kept, roles_key, tenant_directory
from console.core.responses import (
    cluster_page,
    error_status,
    in_dialog,
    issues_response,
    job_response,
    partial,
    render_cluster_error,
    visible_job,
)
from console.reachability.services import scope_for
from console.tenancy import services as iso
from console.tenancy.previews import (
    entry_form_for,
    entry_kind,
    entry_override_warnings,
    overridden_count_text,
    overridden_entries,
    preview_context,
    project_page,
    project_reachability,
    project_rows,
)
from console.tenancy.views.switch import start_switch, switch_preview

PARTS = ("head", "state", "generated")
PAGE_SIZE = 50


def _project(request, project: str, *, edit: bool = False):
    directory = tenants.directory()
    workspace_of = directory.workspace_of
    access = require_project(request, project, workspace_of, known=project in workspace_of,
                             edit=edit)
    return directory, access


@require_GET
def project_list(request):
    """The list; its table (for htmx) or its whole content is rendered once per cluster
    version, roles, language and query, and kept (console.core.cache.cached_fragment)."""
    access = access_of(request)
    table = partial(request) and request.GET.get("part") == "table"
    version = cluster.model_version()
    try:
        return render_kept(request, "projects/list.html", "table" if table else "content",
                           version, ("projects", roles_key(access)),
                           lambda: _list_context(request, access, version), alone=table)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Projects"))


def _list_context(request, access, version: str | None) -> dict:
    directory = tenant_directory(version)
    workspace_of = directory.workspace_of
    names = access.visible_projects(sorted(workspace_of), workspace_of)
    query, workspace = request.GET.get("q", "").strip(), request.GET.get("workspace", "")
    rows = Paginator(project_rows(directory, names, query, workspace,
                                  iso.modes_in_effect(version)),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    # The switch's preview and POST require the same right (`_project(..., edit=True)`).
    rows.object_list = [{**row, "can_edit": access.can_edit_project(row["name"], workspace_of)}
                        for row in rows.object_list]
    return {"rows": rows, "visible": len(names), "q": query, "workspace": workspace,
            "workspaces": sorted({workspace_of[p] for p in names}),
            "can_switch": any(access.can_edit_project(p, workspace_of) for p in names)}


@require_GET
@cluster_page
def project_detail(request, project: str):
    directory, access = _project(request, project)
    state = iso.project_state(project)
    part = request.GET.get("part") if partial(request) else None
    # Only the state part lists the entries (and says which a platform policy overrides).
    overridden = [] if part in ("head", "generated") else overridden_entries(
        cluster.snapshot(), project, scope_for(request),
        [(entry.name, entry.spec) for entry in state.entries])
    context = {"project": project, "state": state, "settings": iso.isolation_settings(),
               "can_edit": access.can_edit_project(project, directory.workspace_of),
               "job": visible_job(request), "overridden": overridden,
               "overridden_text": overridden_count_text(overridden), **project_page(state)}
    if part in PARTS:
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
    overridden = overridden_entries(cluster.snapshot(), project, scope_for(request)) \
        if request.GET.get("enabled") == "1" else []
    return switch_preview(request, lambda enabled: iso.preview_project_isolation(project, enabled),
                          context={"project": project, "overridden": overridden},
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
    directory, access = _project(request, project, edit=True)
    if kind not in ("internal", "external"):
        raise Http404("No such kind of allowlist entry.")
    form = entry_form_for(kind, project, directory, data=request.POST or None, access=access)
    return _entry_dialog(request, project, kind, form, name=None,
                         workspace=directory.workspace_of[project])


@require_http_methods(["GET", "POST"])
@cluster_page
def project_entry_edit(request, project: str, name: str):
    directory, access = _project(request, project, edit=True)
    entry = cluster.gateway().get_object("NamespaceNetworkPolicy", name, project)
    kind = entry_kind(entry)
    form = entry_form_for(kind, project, directory, data=request.POST or None, entry=entry,
                          access=access)
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
            scope = scope_for(request)
            context.update(preview_context(preview, scope))
            context["overrides"] = entry_override_warnings(cluster.snapshot(), project,
                                                           form.spec(), scope)
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
           "project_entry_edit", "project_entry_delete"]
