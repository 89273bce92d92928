"""Every page × every role × a foreign tenant: 200 in scope, 404 out of scope, 403 read-only.

On the demo cluster, team-a holds shop, catalog and billing; team-b holds web and reporting.
"""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

OK, HIDDEN, FORBIDDEN = 200, 404, 403

# (url name, args) -> expected status per persona
MATRIX = {
    ("workspace_list", ()): dict(alice=OK, bob=OK, carol=OK, dave=OK, erin=OK, frank=OK),
    ("workspace_detail", ("team-a",)): dict(alice=OK, bob=OK, carol=OK, dave=OK, erin=OK, frank=HIDDEN),
    ("workspace_detail", ("team-b",)): dict(alice=OK, bob=HIDDEN, carol=HIDDEN, dave=OK, erin=HIDDEN, frank=OK),
    ("workspace_detail", ("no-such-ws",)): dict(alice=HIDDEN, bob=HIDDEN, carol=HIDDEN, dave=HIDDEN, erin=HIDDEN, frank=HIDDEN),
    ("project_list", ()): dict(alice=OK, bob=OK, carol=OK, dave=OK, erin=OK, frank=OK),
    ("project_detail", ("shop",)): dict(alice=OK, bob=OK, carol=OK, dave=OK, erin=OK, frank=HIDDEN),
    ("project_detail", ("billing",)): dict(alice=OK, bob=OK, carol=HIDDEN, dave=OK, erin=HIDDEN, frank=HIDDEN),
    ("project_detail", ("web",)): dict(alice=OK, bob=HIDDEN, carol=HIDDEN, dave=OK, erin=HIDDEN, frank=OK),
    ("project_detail", ("kube-system",)): dict(alice=HIDDEN, bob=HIDDEN, carol=HIDDEN, dave=HIDDEN, erin=HIDDEN, frank=HIDDEN),
    ("workspace_isolation_preview", ("team-a",)): dict(alice=OK, bob=OK, carol=FORBIDDEN, dave=FORBIDDEN, erin=FORBIDDEN, frank=HIDDEN),
    ("workspace_isolation_preview", ("team-b",)): dict(alice=OK, bob=HIDDEN, carol=HIDDEN, dave=FORBIDDEN, erin=HIDDEN, frank=OK),
    ("workspace_create", ()): dict(alice=OK, bob=FORBIDDEN, carol=FORBIDDEN, dave=FORBIDDEN, erin=FORBIDDEN, frank=FORBIDDEN),
    ("workspace_assign", ()): dict(alice=OK, bob=FORBIDDEN, carol=FORBIDDEN, dave=FORBIDDEN, erin=FORBIDDEN, frank=FORBIDDEN),
    ("project_reachability", ("shop",)): dict(alice=OK, bob=OK, carol=OK, dave=OK, erin=OK, frank=HIDDEN),
    ("project_isolation_preview", ("shop",)): dict(alice=OK, bob=OK, carol=OK, dave=FORBIDDEN, erin=FORBIDDEN, frank=HIDDEN),
    ("project_isolation_preview", ("billing",)): dict(alice=OK, bob=OK, carol=HIDDEN, dave=FORBIDDEN, erin=HIDDEN, frank=HIDDEN),
    ("project_entry_new", ("shop", "internal")): dict(alice=OK, bob=OK, carol=OK, dave=FORBIDDEN, erin=FORBIDDEN, frank=HIDDEN),
    ("project_entry_new", ("shop", "external")): dict(alice=OK, bob=OK, carol=OK, dave=FORBIDDEN, erin=FORBIDDEN, frank=HIDDEN),
    ("project_entry_edit", ("billing", "policy-from-shop")): dict(alice=OK, bob=OK, carol=HIDDEN, dave=FORBIDDEN, erin=HIDDEN, frank=HIDDEN),
    ("project_entry_delete", ("billing", "policy-from-shop")): dict(alice=OK, bob=OK, carol=HIDDEN, dave=FORBIDDEN, erin=HIDDEN, frank=HIDDEN),
    ("policy_list", ()): dict(alice=OK, bob=OK, carol=OK, dave=OK, erin=OK, frank=OK),
    ("policy_detail", ("reporting", "default-deny")): dict(alice=OK, bob=HIDDEN, carol=HIDDEN, dave=OK, erin=HIDDEN, frank=OK),
    ("policy_reach", ("reporting", "default-deny")): dict(alice=OK, bob=HIDDEN, carol=HIDDEN, dave=OK, erin=HIDDEN, frank=OK),
    ("policy_yaml", ("reporting", "default-deny")): dict(alice=OK, bob=HIDDEN, carol=HIDDEN, dave=OK, erin=HIDDEN, frank=OK),
    ("policy_edit", ("reporting", "default-deny")): dict(alice=OK, bob=HIDDEN, carol=HIDDEN, dave=FORBIDDEN, erin=HIDDEN, frank=OK),
    ("policy_delete", ("reporting", "default-deny")): dict(alice=OK, bob=HIDDEN, carol=HIDDEN, dave=FORBIDDEN, erin=HIDDEN, frank=OK),
    ("policy_detail", ("reporting", "no-such-policy")): dict(alice=HIDDEN, bob=HIDDEN, carol=HIDDEN, dave=HIDDEN, erin=HIDDEN, frank=HIDDEN),
    ("policy_edit", ("kube-system", "no-such-policy")): dict(alice=HIDDEN, bob=HIDDEN, carol=HIDDEN, dave=HIDDEN, erin=HIDDEN, frank=HIDDEN),
    ("policy_create", ()): dict(alice=OK, bob=OK, carol=OK, dave=FORBIDDEN, erin=FORBIDDEN, frank=OK),
    ("traffic_list", ()): dict(alice=OK, bob=OK, carol=OK, dave=OK, erin=OK, frank=OK),
    ("reachability", ()): dict(alice=OK, bob=OK, carol=OK, dave=OK, erin=OK, frank=OK),
    ("history", ()): dict(alice=OK, bob=OK, carol=OK, dave=OK, erin=OK, frank=OK),
    ("member_list", ()): dict(alice=OK, bob=OK, carol=FORBIDDEN, dave=FORBIDDEN, erin=FORBIDDEN, frank=OK),
    ("platform_settings", ()): dict(alice=OK, bob=FORBIDDEN, carol=FORBIDDEN, dave=FORBIDDEN, erin=FORBIDDEN, frank=FORBIDDEN),
}

CASES = [(name, args, person, status) for (name, args), row in MATRIX.items()
         for person, status in row.items()]


@pytest.mark.parametrize(("name", "args", "person", "status"), CASES,
                         ids=[f"{n}{list(a)}-{p}" for n, a, p, _ in CASES])
def test_each_role_gets_exactly_its_scope(demo_cluster, personas, login_as, name, args, person, status):
    response = login_as(person).get(reverse(name, args=args))
    assert response.status_code == status


@pytest.mark.parametrize(("person", "visible", "invisible"), [
    ("bob", {"shop", "catalog", "billing"}, {"web", "reporting"}),
    ("carol", {"shop"}, {"web", "reporting", "billing", "catalog"}),
    ("frank", {"web", "reporting"}, {"shop", "catalog", "billing"}),
    ("erin", {"shop"}, {"web", "reporting", "billing"}),
])
def test_lists_never_show_another_tenants_projects(demo_cluster, personas, login_as, person,
                                                   visible, invisible):
    client = login_as(person)
    body = client.get(reverse("project_list")).content.decode()
    for project in visible:
        assert f'href="/projects/{project}/"' in body
    for project in invisible:
        assert f"/projects/{project}/" not in body


def test_policy_list_of_a_project_admin_holds_only_their_project(demo_cluster, personas, login_as):
    body = login_as("carol").get(reverse("policy_list")).content.decode()
    # team-b's hand-written policies live in reporting
    assert "reporting" not in body
    assert "allow-prometheus-scrape" not in body


def test_a_global_viewer_sees_every_policy_but_cannot_manage_members(demo_cluster, personas, login_as):
    client = login_as("dave")
    assert "allow-prometheus-scrape" in client.get(reverse("policy_list")).content.decode()
    assert client.post(reverse("member_list"), {"username": "dave", "role": "platform-admin"}).status_code == 403


def test_a_workspace_admin_grants_roles_only_inside_their_workspace(demo_cluster, personas, login_as):
    from console.core.models import RoleBinding

    client = login_as("bob")
    inside = client.post(reverse("member_list"), {"username": "erin", "role": "project-admin", "project": "catalog"})
    assert inside.status_code == 302
    assert RoleBinding.objects.filter(user__username="erin", role="project-admin", project="catalog").exists()
    outside = client.post(reverse("member_list"), {"username": "erin", "role": "project-admin", "project": "web"})
    assert outside.status_code == 400
    assert "cannot grant" in outside.content.decode()
    escalate = client.post(reverse("member_list"), {"username": "bob", "role": "platform-admin"})
    assert escalate.status_code == 400
    assert not RoleBinding.objects.filter(user__username="bob", role="platform-admin").exists()


def test_a_workspace_admin_cannot_remove_a_foreign_binding(demo_cluster, personas, login_as):
    from console.core.models import RoleBinding

    franks = RoleBinding.objects.get(user__username="frank")
    response = login_as("bob").post(reverse("member_delete", args=[franks.pk]))
    assert response.status_code == 403
    assert RoleBinding.objects.filter(pk=franks.pk).exists()
    members_page = login_as("bob").get(reverse("member_list")).content.decode()
    assert "frank" not in members_page
