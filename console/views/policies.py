from django.shortcuts import render
from django.views.decorators.http import require_GET

from cluster.errors import ClusterError
from console import cluster, tenants
from console.access import access_of
from console.views.common import render_cluster_error

MANAGED_BY = ("app.kubernetes.io/managed-by", "tenant-isolation-console")


@require_GET
def policy_list(request):
    try:
        directory = tenants.directory()
        policies = cluster.gateway().list_objects("NetworkPolicy")
    except ClusterError as exc:
        return render_cluster_error(request, exc, title="Network Policies")
    workspace_of = directory.workspace_of
    access = access_of(request)
    rows = []
    for policy in policies:
        meta, spec = policy["metadata"], policy.get("spec") or {}
        if not access.view_all and not access.can_view_project(meta["namespace"], workspace_of):
            continue
        rows.append({
            "name": meta["name"], "namespace": meta["namespace"],
            "workspace": workspace_of.get(meta["namespace"], ""),
            "directions": spec.get("policyTypes") or ["Ingress"],
            "generated": (meta.get("labels") or {}).get(MANAGED_BY[0]) == MANAGED_BY[1],
            "created": meta.get("creationTimestamp", ""),
        })
    rows.sort(key=lambda r: (r["namespace"], r["name"]))
    return render(request, "console/policy_list.html", {"rows": rows})
