from console.core import cluster
from console.core.access import access_of

NAV = [
    ("Cluster", [("policy_list", "Network Policies", "policies")]),
    ("Tenants", [("workspace_list", "Workspaces", "workspaces"),
                 ("project_list", "Projects", "projects")]),
    ("Analysis", [("traffic_list", "Traffic Paths", "traffic"),
                  ("reachability", "Reachability", "reachability")]),
    ("Audit", [("history", "History", "history")]),
]


SECTIONS = {"policy": "policies", "workspace": "workspaces", "project": "projects",
            "traffic": "traffic", "reachability": "reachability", "history": "history",
            "member": "members", "platform": "platform"}


def console(request):
    """Header and navigation data every page shows."""
    if not request.user.is_authenticated:
        return {}
    access = access_of(request)
    nav = [(group, list(items)) for group, items in NAV]
    access_items = []
    if access.can_manage_members:
        access_items.append(("member_list", "Members", "members"))
    if access.platform_admin:
        access_items.append(("platform_settings", "Platform settings", "platform"))
    if access_items:
        nav.append(("Access", access_items))
    match = request.resolver_match
    prefix = match.url_name.split("_")[0] if match and match.url_name else ""
    return {"cluster_status": cluster.status(), "access": access, "nav": nav,
            "active_section": SECTIONS.get(prefix, "")}
