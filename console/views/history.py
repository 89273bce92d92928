from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cluster.errors import ClusterError
from console import tenants
from console.access import scoped_to_user
from console.models import Change, Job
from console.views.common import render_cluster_error


@require_GET
def history(request):
    try:
        workspace_of = tenants.directory().workspace_of
    except ClusterError as exc:
        return render_cluster_error(request, exc, title="History")
    changes = scoped_to_user(Change.objects.select_related("author"), request, workspace_of)
    jobs = scoped_to_user(Job.objects.select_related("requested_by"), request, workspace_of)
    return render(request, "console/history.html", {
        "changes": Paginator(changes, 50).get_page(request.GET.get("page")),
        "jobs": jobs[:20],
    })
