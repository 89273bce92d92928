"""The isolation engine and the console's jobs against a real kube-apiserver: switches,
allowlist entries, reconcile and drift repair, revert, and the least-privilege ServiceAccount.

The server is shared by the session, so each test leaves the demo's intent as it found it.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from console.core import cluster
from console.core.models import Change, Job, JobStatus
from console.tenancy import reconcile
from console.tenancy import services as iso

pytestmark = pytest.mark.django_db(transaction=True)

TO_BANK = {"egress": [{"to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}],
                       "ports": [{"protocol": "TCP", "port": 443}]}]}


def succeeded(job: Job) -> Job:
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def policy_names(namespace: str) -> set[str]:
    return {p["metadata"]["name"] for p in cluster.gateway().list_objects("NetworkPolicy", namespace)}


@pytest.fixture
def in_step(real_cluster, personas):
    reconcile.repair_drift()
    Change.objects.all().delete()
    return real_cluster


def test_the_demo_on_the_real_server_is_in_step_with_its_intent(real_cluster, personas):
    report = reconcile.repair_drift(dry_run=True)
    assert report.in_step, report.summary()
    assert report.desired


def test_a_workspace_switch_writes_and_removes_its_policies(in_step, personas):
    succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", True))
    assert "nsnp-network-isolate" in policy_names("web")
    assert "nsnp-network-isolate" in policy_names("reporting")
    change = Change.objects.get()
    assert change.reachability_delta["blocked"] > 0

    succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", False))
    assert "nsnp-network-isolate" not in policy_names("web")
    workspace = cluster.gateway().get_object("Workspace", "team-b")
    assert workspace["spec"].get("networkIsolation") is not True


def test_an_allowlist_entry_is_written_with_its_generated_policy_and_deleted(in_step, personas):
    job = succeeded(iso.start_save_entry(personas["carol"], "billing", None, TO_BANK))
    name = job.params["name"]
    assert cluster.gateway().get_object("NamespaceNetworkPolicy", name, "billing")
    assert f"nsnp-{name}" in policy_names("billing")

    succeeded(iso.start_delete_entry(personas["carol"], "billing", name))
    assert f"nsnp-{name}" not in policy_names("billing")


def test_drift_on_the_real_server_is_repaired_and_recorded(in_step, personas):
    gateway = cluster.gateway()
    gateway.delete("NetworkPolicy", "nsnp-network-isolate", namespace="billing")

    report = reconcile.repair_drift()

    assert "nsnp-network-isolate" in policy_names("billing")
    assert report.write_count == 1
    assert reconcile.repair_drift(dry_run=True).in_step
    assert Change.objects.filter(project="billing").exists()


def test_a_change_is_reverted_on_the_real_server(in_step, personas, django_capture_on_commit_callbacks):
    from console.history.revert import start_revert

    succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", True))
    change = Change.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        job = start_revert(personas["alice"], change)
    succeeded(job)

    assert "nsnp-network-isolate" not in policy_names("web")
    assert Change.objects.filter(reverts=change).exists()


def test_the_console_works_with_its_least_privilege_service_account(real_api, settings, personas):
    settings.KUBECONFIG = str(real_api.limited_kubeconfig)
    settings.KUBE_API_URL = ""
    cache.clear()
    try:
        assert cluster.status(fresh=True).healthy
        snapshot = cluster.snapshot()
        assert snapshot.network_policies and snapshot.workspaces
        succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", True))
        assert "nsnp-network-isolate" in policy_names("web")
        succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", False))
    finally:
        cache.clear()


def test_the_least_privilege_account_cannot_write_what_it_should_not(real_api):
    api = config.new_client_from_config(config_file=str(real_api.limited_kubeconfig))
    secret = client.V1Secret(metadata=client.V1ObjectMeta(name="stolen"), string_data={"a": "b"})
    try:
        with pytest.raises(ApiException) as refused:
            client.CoreV1Api(api).create_namespaced_secret("billing", secret)
        assert refused.value.status == 403
        with pytest.raises(ApiException) as listing:
            client.CoreV1Api(api).list_namespaced_secret("billing")
        assert listing.value.status == 403
        with pytest.raises(ApiException) as deleting:
            client.CoreV1Api(api).delete_namespace("billing")
        assert deleting.value.status == 403
    finally:
        api.close()
