from django.shortcuts import render
from django.views.decorators.http import require_GET

from cluster.errors import ClusterError
from console import tenants
from console.access import access_of, require_project
from console.views.common import render_cluster_error


def _mode(directory: tenants.Directory, project: str) -> str:
    if directory.project_isolated(project):
        return "project"
    workspace = directory.workspace_of.get(project)
    return "workspace" if workspace and directory.workspace_isolated(workspace) else "off"


@require_GET
def project_list(request):
    try:
        directory = tenants.directory()
    except ClusterError as exc:
        return render_cluster_error(request, exc, title="Projects")
    workspace_of = directory.workspace_of
    names = access_of(request).visible_projects(sorted(workspace_of), workspace_of)
    rows = [{"name": p, "workspace": workspace_of[p], "mode": _mode(directory, p)} for p in names]
    return render(request, "console/project_list.html", {"rows": rows})


@require_GET
def project_detail(request, project: str):
    try:
        directory = tenants.directory()
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=project)
    workspace_of = directory.workspace_of
    access = require_project(request, project, workspace_of, known=project in workspace_of)
    return render(request, "console/project_detail.html", {
        "project": project, "workspace": workspace_of[project], "mode": _mode(directory, project),
        "can_edit": access.can_edit_project(project, workspace_of),
    })
