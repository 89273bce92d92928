"""Workspaces: the list, creating one, assigning projects, and Workspace › Network Isolation."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cluster.errors import ClusterError
from console.core import cluster, tenants
from console.core.access import access_of, require_workspace
from console.core.cache import render_kept, roles_key, tenant_directory
from console.core.responses import (
    cluster_page,
    error_status,
    in_dialog,
    job_response,
    partial,
    render_cluster_error,
    visible_job,
)
from console.reachability.services import scope_for
from console.tenancy import services as iso
from console.tenancy.forms import AssignProjectForm, WorkspaceCreateForm
from console.tenancy.previews import (
    overridden_per_project,
    preview_context,
    workspace_rows,
    yaml_by_namespace,
)
from console.tenancy.views.switch import start_switch, switch_preview

PARTS = ("head", "state")
PAGE_SIZE = 50


def _workspace(request, workspace: str, *, edit: bool = False):
    directory = tenants.directory()
    access = require_workspace(request, workspace, directory.workspace_of,
                               known=workspace in directory.workspaces, edit=edit)
    return directory, access


def _require_platform_admin(request):
    access = access_of(request)
    if not access.platform_admin:
        raise PermissionDenied(gettext("Only platform admins create workspaces and move projects."))
    return access


@require_GET
def workspace_list(request):
    """The list; its table is rendered once per cluster version, roles, language and query,
    and kept (console.core.cache.cached_fragment); the job card around it is the reader's."""
    access = access_of(request)
    query = request.GET.get("q", "").strip()
    alone = partial(request) and request.GET.get("part") == "table"
    version = cluster.model_version()
    try:
        return render_kept(request, "workspaces/list.html", "table", version,
                           ("workspaces", roles_key(access)),
                           lambda: _table_context(request, access, query, version), alone=alone,
                           page={"q": query, "can_create": access.platform_admin,
                                 "job": None if alone else visible_job(request)})
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Workspaces"))


def _table_context(request, access, query: str, version: str | None) -> dict:
    directory = tenant_directory(version)
    names = access.visible_workspaces(sorted(directory.workspaces), directory.workspace_of)
    rows = workspace_rows(directory, names, query, iso.modes_in_effect(version))
    return {"rows": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "visible": len(names), "q": query, "can_create": access.platform_admin}


@require_http_methods(["GET", "POST"])
@cluster_page
def workspace_create(request):
    _require_platform_admin(request)
    directory = tenants.directory()
    form = WorkspaceCreateForm(request.POST or None, existing=directory.workspaces)
    if request.method == "POST" and form.is_valid():
        try:
            job = iso.start_create_workspace(request.user, form.cleaned_data["name"])
        except iso.IntentError as exc:
            for field, message in exc.issues:
                form.add_error("name" if field == "name" else None, message)
        else:
            tenants.forget()
            return job_response(request, job, reverse("workspace_list"))
    template = "workspaces/create.html" + ("#dialog" if partial(request) else "")
    return render(request, template, {"form": form, "dialog": in_dialog(request)},
                  status=error_status(request, form.errors))


@require_GET
@cluster_page
def workspace_detail(request, workspace: str):
    directory, access = _workspace(request, workspace)
    state = iso.workspace_state(workspace)
    visible = set(access.visible_projects([p.name for p in state.projects],
                                          directory.workspace_of))
    generated = [p for p in state.generated if p["metadata"]["namespace"] in visible]
    projects = [p for p in state.projects if p.name in visible]
    context = {"workspace": workspace, "state": state, "job": visible_job(request),
               "projects": projects,
               "overridden": overridden_per_project(cluster.snapshot(),
                                                    [p.name for p in projects]),
               "generated": yaml_by_namespace(generated), "settings": iso.isolation_settings(),
               "can_edit": access.can_edit_workspace(workspace),
               "can_assign": access.platform_admin}
    part = request.GET.get("part")
    if partial(request) and part in PARTS:
        return render(request, f"workspaces/detail.html#{part}", context)
    return render(request, "workspaces/detail.html", context)


@require_GET
@cluster_page
def workspace_isolation_preview(request, workspace: str):
    _workspace(request, workspace, edit=True)
    return switch_preview(request,
                          lambda enabled: iso.preview_workspace_isolation(workspace, enabled),
                          context={"workspace": workspace},
                          confirm_url=reverse("workspace_isolation", args=[workspace]))


@require_POST
@cluster_page
def workspace_isolation(request, workspace: str):
    _workspace(request, workspace, edit=True)
    return start_switch(
        request, lambda enabled: iso.start_workspace_isolation(request.user, workspace, enabled),
        reverse("workspace_detail", args=[workspace]))


@require_http_methods(["GET", "POST"])
@cluster_page
def workspace_assign(request):
    """Put a namespace into a workspace, or move a project to another one (platform admins)."""
    _require_platform_admin(request)
    directory = tenants.directory()
    form = AssignProjectForm(request.POST or None, initial=request.GET.dict(),
                             projects=_assignable(directory), workspaces=sorted(directory.workspaces))
    action = request.POST.get("action", "")
    context = {"form": form, "dialog": in_dialog(request)}
    if action in ("preview", "confirm") and form.is_valid():
        project, workspace = form.cleaned_data["project"], form.cleaned_data["workspace"]
        if action == "confirm":
            try:
                job = iso.start_move_project(request.user, project, workspace)
            except iso.IntentError as exc:
                form.add_error(None, "; ".join(m for _, m in exc.issues))
            else:
                tenants.forget()
                return job_response(request, job, reverse("workspace_detail", args=[workspace]))
        else:
            preview = iso.preview_move(project, workspace)
            context.update(preview_context(preview, scope_for(request)))
            for _, message in preview.issues:
                form.add_error(None, message)
    template = "workspaces/assign.html" + ("#dialog" if partial(request) else "")
    return render(request, template, context, status=error_status(request, form.errors))


def _assignable(directory: tenants.Directory) -> list[tuple[str, str]]:
    """Every namespace with the workspace it belongs to ("" for none)."""
    workspace_of = directory.workspace_of
    return [(name, workspace_of.get(name, "")) for name in sorted(directory.namespaces)]
