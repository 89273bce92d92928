"""Header and navigation data every page shows.

Error pages (a bad Host header, an expired CSRF token, 404, 500) render with whatever the
request has: possibly no `request.user` at all (the authentication middleware never ran), and
no database. So nothing here is read up front: every value is lazy and computed only when a
template uses it, and a request without a user gets nothing.
"""

from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from cluster.errors import ClusterError
from console.core import cluster, tenants
from console.core.access import access_of
from console.core.models import ExpectationState, ExpectationStatus

NAV = [
    (_("Cluster"), [("policy_list", _("Network Policies"), "policies")]),
    (_("Tenants"), [("workspace_list", _("Workspaces"), "workspaces"),
                 ("project_list", _("Projects"), "projects")]),
    (_("Analysis"), [("traffic_list", _("Traffic Paths"), "traffic"),
                  ("reachability", _("Reachability"), "reachability"),
                  ("guardrail_list", _("Guardrails"), "guardrails")]),
    (_("Audit"), [("history", _("History"), "history")]),
]


# The icon of each section (Bootstrap Icons, vendored under static/vendor/bootstrap-icons).
ICONS = {"policies": "shield-lock", "workspaces": "building", "projects": "folder2",
         "traffic": "signpost-split", "reachability": "grid-3x3", "guardrails": "clipboard-check",
         "history": "clock-history", "members": "people", "platform": "sliders"}

SECTIONS = {"policy": "policies", "workspace": "workspaces", "project": "projects",
            "traffic": "traffic", "reachability": "reachability", "history": "history",
            "member": "members", "platform": "platform", "guardrail": "guardrails"}


def console(request):
    """Header and navigation data: lazy, and empty when the request carries no user."""
    if getattr(request, "user", None) is None:
        return {}

    def signed_in() -> bool:
        return request.user.is_authenticated

    def nav() -> list:
        if not signed_in():
            return []
        access = access_of(request)
        groups = [(group, list(items)) for group, items in NAV]
        access_items = []
        if access.can_manage_members:
            access_items.append(("member_list", _("Members"), "members"))
        if access.platform_admin:
            access_items.append(("platform_settings", _("Platform settings"), "platform"))
        if access_items:
            groups.append((_("Access"), access_items))
        return [(group, [(*item, ICONS.get(item[2], "circle")) for item in items])
                for group, items in groups]

    def violated_guardrails() -> int:
        if not signed_in():
            return 0
        access = access_of(request)
        states = ExpectationState.objects.filter(status=ExpectationStatus.VIOLATED)
        if access.view_all:
            return states.count()
        try:
            workspace_of = tenants.directory().workspace_of
        except ClusterError:
            return 0
        return sum(s.visible_to(access, workspace_of)
                   for s in states.only("namespace", "namespaces"))

    match = getattr(request, "resolver_match", None)
    prefix = match.url_name.split("_")[0] if match and match.url_name else ""
    return {"cluster_status": SimpleLazyObject(lambda: cluster.status() if signed_in() else None),
            "access": SimpleLazyObject(lambda: access_of(request)),
            "nav": SimpleLazyObject(nav),
            "violated_guardrails": SimpleLazyObject(violated_guardrails),
            "active_section": SECTIONS.get(prefix, "")}
