from django.shortcuts import render
from django.views.decorators.http import require_GET

from cluster.errors import ClusterError
from console import tenants
from console.access import access_of, require_workspace
from console.views.common import render_cluster_error


@require_GET
def workspace_list(request):
    try:
        directory = tenants.directory()
    except ClusterError as exc:
        return render_cluster_error(request, exc, title="Workspaces")
    workspace_of = directory.workspace_of
    names = access_of(request).visible_workspaces(sorted(directory.workspaces), workspace_of)
    rows = [{"name": ws, "isolated": directory.workspace_isolated(ws),
             "projects": len(directory.projects_of(ws))} for ws in names]
    return render(request, "console/workspace_list.html", {"rows": rows})


@require_GET
def workspace_detail(request, workspace: str):
    try:
        directory = tenants.directory()
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=workspace)
    workspace_of = directory.workspace_of
    access = require_workspace(request, workspace, workspace_of,
                               known=workspace in directory.workspaces)
    projects = [{"name": p, "isolated": directory.project_isolated(p)}
                for p in access.visible_projects(directory.projects_of(workspace), workspace_of)]
    return render(request, "console/workspace_detail.html", {
        "workspace": workspace, "isolated": directory.workspace_isolated(workspace),
        "projects": projects, "can_edit": access.can_edit_workspace(workspace),
    })
