"""Installing the console's CRDs."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from cluster.crds import CRDFileError, install_crds, load_crds
from tests.cluster.objects import workspace


def test_install_creates_the_crds_and_they_are_served_at_once(gateway):
    results = install_crds(gateway)

    assert sorted((r.name, r.action) for r in results) == [
        ("clusterconnectivityexpectations.isolation.tenant-console.io", "created"),
        ("connectivityexpectations.isolation.tenant-console.io", "created"),
        ("namespacenetworkpolicies.network.kubesphere.io", "created"),
        ("workspaces.tenant.kubesphere.io", "created"),
    ]
    assert gateway.missing_crds() == []
    assert gateway.create(workspace("team-a"))["metadata"]["name"] == "team-a"


def test_installing_again_changes_nothing(gateway):
    install_crds(gateway)

    results = install_crds(gateway)

    assert {r.action for r in results} == {"unchanged"}


def test_dry_run_install_says_what_would_happen_and_installs_nothing(gateway):
    results = install_crds(gateway, dry_run=True)

    assert {r.action for r in results} == {"created"}
    assert gateway.missing_crds() == ["Workspace", "NamespaceNetworkPolicy"]


def test_install_updates_a_crd_that_differs_from_the_shipped_one(gateway):
    install_crds(gateway)
    gateway.merge_patch("CustomResourceDefinition", "workspaces.tenant.kubesphere.io",
                        {"spec": {"names": {"singular": "wsx"}}})

    results = {r.name: r.action for r in install_crds(gateway)}

    assert results["workspaces.tenant.kubesphere.io"] == "updated"
    assert results["namespacenetworkpolicies.network.kubesphere.io"] == "unchanged"


def test_shipped_crd_files_define_the_four_kinds():
    kinds = sorted(crd["spec"]["names"]["kind"] for crd in load_crds())

    assert kinds == ["ClusterConnectivityExpectation", "ConnectivityExpectation",
                     "NamespaceNetworkPolicy", "Workspace"]


@pytest.mark.parametrize(("content", "expected"), [
    ("kind: [unclosed", "bad.yaml"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "expected a CustomResourceDefinition"),
])
def test_a_broken_crd_file_is_named_in_the_error(tmp_path, content, expected):
    (tmp_path / "bad.yaml").write_text(content)

    with pytest.raises(CRDFileError, match=expected):
        load_crds(tmp_path)


def test_a_directory_without_crds_is_an_error(tmp_path):
    with pytest.raises(CRDFileError, match="no CustomResourceDefinition"):
        load_crds(tmp_path)


def test_install_crds_command_reports_each_crd(settings, empty_simulator):
    settings.KUBE_API_URL, settings.KUBECONFIG = empty_simulator.url, ""
    out = io.StringIO()

    call_command("install_crds", stdout=out)

    assert out.getvalue().splitlines() == [
        "clusterconnectivityexpectations.isolation.tenant-console.io: created",
        "connectivityexpectations.isolation.tenant-console.io: created",
        "namespacenetworkpolicies.network.kubesphere.io: created",
        "workspaces.tenant.kubesphere.io: created",
        "The console's CRDs are installed and served.",
    ]


def test_install_crds_command_fails_with_the_gateways_message(settings, empty_simulator):
    settings.KUBE_API_URL, settings.KUBECONFIG = empty_simulator.url, ""
    empty_simulator.stop()

    with pytest.raises(CommandError, match="refused the connection"):
        call_command("install_crds", "--dry-run", stdout=io.StringIO())
