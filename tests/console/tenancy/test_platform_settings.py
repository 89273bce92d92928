"""Platform settings: only platform admins, previewed, saved, and applied by a reconcile."""

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import Change, Job, PlatformSettings

pytestmark = pytest.mark.django_db

MONITORING = "kubesphere-monitoring-system"


def _form(**overrides):
    data = {"always_allowed_namespaces": "", "detect_ingress_namespaces": "on", "snat_cidrs": "",
            "cni_mode": "", "engine_mode": "console"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("person", ["bob", "carol", "dave", "erin", "frank"])
def test_only_platform_admins_see_or_change_the_settings(demo_cluster, personas, login_as, person):
    client = login_as(person)
    assert client.get(reverse("platform_settings")).status_code == 403
    response = client.post(reverse("platform_settings"), _form(always_allowed_namespaces=MONITORING,
                                                                action="save"))
    assert response.status_code == 403
    assert PlatformSettings.load().always_allowed_namespaces == []


def test_the_preview_shows_monitoring_scrapes_coming_back(demo_cluster, personas, login_as):
    response = login_as("alice").post(reverse("platform_settings"),
                                      _form(always_allowed_namespaces=MONITORING, action="preview"))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-pair="{MONITORING}→shop"' in body
    assert "newly allowed" in body
    assert PlatformSettings.load().always_allowed_namespaces == []  # a preview saves nothing


def test_saving_applies_the_settings_to_the_generated_policies(
        demo_cluster, personas, login_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login_as("alice").post(
            reverse("platform_settings"),
            _form(always_allowed_namespaces=f"{MONITORING}\n", action="save"))
    assert response.status_code == 302
    assert PlatformSettings.load().always_allowed_namespaces == [MONITORING]
    job = Job.objects.get(kind="isolation-reconcile")
    assert job.status == "succeeded", job.error
    policy = cluster.gateway().get_object("NetworkPolicy", "nsnp-network-isolate", "shop")
    peers = policy["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING}}} in peers
    change = Change.objects.get(kind="platform-settings")
    assert change.author == personas["alice"]
    assert MONITORING in change.after_yaml and MONITORING not in change.before_yaml


@pytest.mark.parametrize(("field", "value", "message"), [
    ("always_allowed_namespaces", "Kube_System", "Not a namespace name"),
    ("snat_cidrs", "10.0.0.0/33", "10.0.0.0/33"),
    ("engine_mode", "something", "Select a valid choice"),
])
def test_bad_values_are_refused_next_to_their_field_and_nothing_is_saved(
        demo_cluster, personas, login_as, field, value, message):
    response = login_as("alice").post(reverse("platform_settings"), _form(**{field: value},
                                                                          action="save"))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert PlatformSettings.load().always_allowed_namespaces == []
    assert not Job.objects.exists()


def test_the_navigation_offers_the_settings_to_platform_admins_only(demo_cluster, personas, login_as):
    assert "Platform settings" in login_as("alice").get(reverse("history")).content.decode()
    assert "Platform settings" not in login_as("bob").get(reverse("history")).content.decode()


def test_node_and_tunnel_addresses_are_offered_from_the_nodes(demo_cluster, personas, login_as):
    body = login_as("alice").get(reverse("platform_settings")).content.decode()
    assert "192.168.0.11/32" in body  # node-1's InternalIP
    assert "10.233.64.1/32" in body   # node-1's IPIP tunnel address




def test_settings_that_break_a_platform_guardrail_are_saved_only_with_a_reason(
        monitoring_kept_out_of_shop, personas, login_as, django_capture_on_commit_callbacks):
    client = login_as("alice")
    preview = client.post(reverse("platform_settings"),
                          _form(always_allowed_namespaces=MONITORING, action="preview"))
    assert 'data-broken-guardrail="monitoring-stays-out-of-shop"' in preview.content.decode()
    refused = client.post(reverse("platform_settings"),
                          _form(always_allowed_namespaces=MONITORING, action="save"))
    assert refused.status_code == 409
    assert "Not saved" in refused.content.decode()
    assert PlatformSettings.load().always_allowed_namespaces == []

    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(reverse("platform_settings"), _form(
            always_allowed_namespaces=MONITORING, action="save",
            override_reason="Prometheus scrapes shop from now on"))
    assert saved.status_code == 302
    assert PlatformSettings.load().always_allowed_namespaces == [MONITORING]
    override = Change.objects.get(kind="guardrail-override")
    assert "Prometheus scrapes shop from now on" in override.summary
    assert override.target == "platform settings"
