"""The connection check: verdicts explained per direction, Services resolved, scope enforced."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

STOREFRONT = "shop/storefront-cf1fcd5cf-m4q9w"
CART = "shop/cart-be171b259-x7k2p"
DASHBOARD = "reporting/dashboard-f0f02792e-x7k2p"
BLOG = "web/blog-dd31d0bdc-x7k2p"
ROUTER = "kubesphere-controls-system/kubesphere-router-ff2eaad60-m4q9w"


def check(client, **params):
    return client.get(reverse("reachability_check"), params)


def test_a_denied_connection_names_the_isolating_policy_and_links_to_it(demo_cluster, personas,
                                                                        login_as):
    response = check(login_as("alice"), source=STOREFRONT, destination=DASHBOARD, port="3000")
    body = response.content.decode()
    assert response.status_code == 200
    assert "✕ Denied" in body
    assert f"{STOREFRONT} → {DASHBOARD} on 3000/TCP is denied by ingress at the destination." in body
    assert "is isolated by reporting/allow-from-ingress-controller" in body
    assert 'href="/policies/reporting/default-deny/"' in body
    assert body.count("Nearest miss") == 1


def test_an_allowed_connection_shows_the_rule_peer_and_port_that_allow_it(demo_cluster, personas,
                                                                         login_as):
    body = check(login_as("alice"), source=ROUTER, destination=DASHBOARD, port="http"
                 ).content.decode()
    assert "✓ Allowed" in body
    assert "reporting/allow-from-ingress-controller" in body
    assert "spec.ingress[0] · from[0] · ports[0]" in body
    assert "egress at the source and ingress at the destination both allow it" in body


def test_a_service_destination_is_checked_on_its_pods_at_the_target_port(demo_cluster, personas,
                                                                       login_as):
    body = check(login_as("alice"), source=CART, destination="service:shop/storefront",
                 port="80").content.decode()
    assert "forwards to targetPort http on 2 pods" in body
    assert "2 of 2 pod connections are allowed" in body
    assert "on 8080/TCP" in body


def test_a_project_source_checks_each_of_its_pods(demo_cluster, personas, login_as):
    body = check(login_as("alice"), source="shop", destination=DASHBOARD, port="3000"
                 ).content.decode()
    assert "0 of 3 pod connections are allowed" in body
    assert body.count("<details") == 3


def test_an_address_of_a_node_reaches_the_pods_on_that_node(demo_cluster, personas, login_as):
    body = check(login_as("alice"), source="192.168.0.11", destination=DASHBOARD, port="3000"
                 ).content.decode()
    assert "✓ Allowed" in body
    assert "traffic from the pod&#x27;s own node (node-1) is always allowed" in body


@pytest.mark.parametrize(("params", "field", "message"), [
    (dict(source="", destination=DASHBOARD, port="80"), "source", "Enter a pod"),
    (dict(source=CART, destination="shop/no-such-pod", port="80"), "destination",
     "There is no pod shop/no-such-pod"),
    (dict(source=CART, destination="service:shop/cart", port="81"), "port",
     "has no TCP port 81; its ports are 9000/TCP (grpc)"),
    (dict(source=CART, destination=DASHBOARD, port="70000"), "port", "not between 1 and 65535"),
    (dict(source=CART, destination=DASHBOARD, port="web"), "port", "has no TCP port named"),
    (dict(source=CART, destination=DASHBOARD, port="80", protocol="ICMP"), "protocol",
     "Protocol must be one of"),
    (dict(source="a/b/c", destination=DASHBOARD, port="80"), "source", "is not namespace/pod"),
    (dict(source=CART, destination="service:default/kubernetes", port="443"), "destination",
     "has no selector"),
])
def test_bad_input_is_marked_at_its_field_and_changes_nothing(demo_cluster, personas, login_as,
                                                             params, field, message):
    response = check(login_as("alice"), **params)
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    assert re.search(rf'class="[^"]*is-invalid[^"]*" id="c-{field}"', body)
    assert len(re.findall("is-invalid", body)) == 1


def test_the_answer_comes_as_a_fragment_for_htmx(demo_cluster, personas, login_as):
    response = login_as("alice").get(reverse("reachability_check"),
                                     {"source": CART, "destination": DASHBOARD, "port": "3000"},
                                     HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="check-area">')
    assert "<html" not in body


@pytest.mark.parametrize("person", ["carol", "erin"])
def test_a_project_user_cannot_name_another_tenants_pod(demo_cluster, personas, login_as, person):
    client = login_as(person)
    as_source = check(client, source=BLOG, destination=CART, port="9000")
    assert as_source.status_code == 400
    assert "There is no pod web/blog" in as_source.content.decode()
    as_destination = check(client, source=CART, destination="service:web/blog", port="80")
    assert as_destination.status_code == 400
    as_project = check(client, source="web", destination=CART, port="9000")
    assert "There is no project web among yours" in as_project.content.decode()


def test_a_project_user_cannot_name_a_foreign_pod_by_its_address(demo_cluster, personas, login_as):
    response = check(login_as("carol"), source="10.233.66.24", destination=CART, port="9000")
    body = response.content.decode()
    assert response.status_code == 400
    assert "address of a pod outside your projects" in body
    assert "blog" not in body


def test_a_project_users_suggestions_hold_only_their_project(demo_cluster, personas, login_as):
    body = check(login_as("carol")).content.decode()
    assert f'<option value="{CART}">' in body
    assert '<option value="service:shop/storefront">' in body
    for foreign in ("web/", "reporting/", "billing/", "kube-system/"):
        assert f'<option value="{foreign}' not in body


def test_an_external_address_is_checked_only_at_the_destination(demo_cluster, personas, login_as):
    body = check(login_as("carol"), source="203.0.113.9", destination=CART, port="9000"
                 ).content.decode()
    assert "✓ Allowed" in body
    assert "ingress at the destination allows it, and the other end is not a pod" in body
    assert "203.0.113.9 is not a pod, so no egress policy applies" in body
