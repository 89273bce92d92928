"""Connecting by URL, kubeconfig or service account, and describing the connection."""

from __future__ import annotations

import pytest
import yaml

from cluster.config import ClusterConfig
from cluster.errors import ClusterConfigError, PermanentClusterError
from cluster.gateway import Gateway


def write_kubeconfig(path, url, contexts=("sim",), current="sim"):
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": "sim-cluster", "cluster": {"server": url}}],
        "users": [{"name": "alice", "user": {"token": "alice-token"}}],
        "contexts": [{"name": name, "context": {"cluster": "sim-cluster", "user": "alice"}}
                     for name in contexts],
    }
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_describe_names_the_simulator_and_labels_it(gateway, empty_simulator):
    info = gateway.describe()

    assert info["name"] == empty_simulator.url
    assert info["url"] == empty_simulator.url
    assert info["source"] == "url"
    assert info["reachable"] is True
    assert info["version"].endswith("+kubesim")
    assert info["is_simulator"] is True


def test_health_reports_the_server_version(gateway):
    ok, message = gateway.health()

    assert ok is True
    assert message.startswith(f"Connected to {gateway.name} (Kubernetes v")


def test_health_of_a_stopped_server_says_why_without_raising(make_gateway, empty_simulator):
    gw = make_gateway()
    empty_simulator.stop()

    ok, message = gw.health()
    info = gw.describe()

    assert ok is False
    assert "refused the connection" in message
    assert info["reachable"] is False and info["is_simulator"] is False


def test_kubeconfig_current_context_reaches_its_cluster(tmp_path, empty_simulator):
    path = write_kubeconfig(tmp_path / "config", empty_simulator.url, contexts=("sim", "other"))

    with Gateway.from_env({"KUBECONFIG": path}) as gw:
        info = gw.describe()

    assert info["name"] == "sim"
    assert info["source"] == "kubeconfig"
    assert info["url"] == empty_simulator.url
    assert info["is_simulator"] is True


def test_kube_context_selects_a_context_of_the_kubeconfig(tmp_path, empty_simulator):
    path = write_kubeconfig(tmp_path / "config", empty_simulator.url, contexts=("sim", "other"))

    with Gateway.from_env({"KUBECONFIG": path, "KUBE_CONTEXT": "other"}) as gw:
        ok, _message = gw.health()

    assert ok is True
    assert gw.name == "other"


@pytest.mark.parametrize(("context", "expected"), [
    ("missing", "missing"),
    (None, "KUBECONFIG="),
])
def test_an_unusable_kubeconfig_is_a_configuration_error(tmp_path, empty_simulator, context,
                                                          expected):
    path = (write_kubeconfig(tmp_path / "config", empty_simulator.url) if context
            else str(tmp_path / "absent"))
    env = {"KUBECONFIG": path, **({"KUBE_CONTEXT": context} if context else {})}

    with pytest.raises(ClusterConfigError) as caught:
        Gateway.from_env(env)

    assert expected in caught.value.message


def service_account(tmp_path, token="sa-token"):
    (tmp_path / "token").write_text(token)
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    return str(tmp_path)


def test_in_cluster_gateway_speaks_tls_to_the_service_address(tmp_path, empty_simulator):
    port = empty_simulator.url.rsplit(":", 1)[1]
    config = ClusterConfig(source="in-cluster", service_host="127.0.0.1", service_port=port,
                           service_account_dir=service_account(tmp_path), timeout=2)

    with Gateway(config) as gw:
        ok, message = gw.health()

    assert gw.name == "in-cluster"
    assert gw.url == f"https://127.0.0.1:{port}"
    # the simulator speaks plain HTTP, so the TLS handshake is what fails
    assert ok is False
    assert "TLS" in message


def test_in_cluster_without_a_token_is_a_configuration_error(tmp_path):
    config = ClusterConfig(source="in-cluster", service_host="10.96.0.1", service_port="443",
                           service_account_dir=str(tmp_path))

    with pytest.raises(ClusterConfigError) as caught:
        Gateway(config)

    assert "service account" in caught.value.message
    assert isinstance(caught.value, PermanentClusterError)


def test_a_write_over_tls_to_a_plain_http_server_says_tls_failed(tmp_path, empty_simulator):
    port = empty_simulator.url.rsplit(":", 1)[1]
    config = ClusterConfig(source="in-cluster", service_host="127.0.0.1", service_port=port,
                           service_account_dir=service_account(tmp_path), timeout=2)

    with Gateway(config) as gw, pytest.raises(PermanentClusterError) as caught:
        gw.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
                  dry_run=True)

    assert caught.value.reason == "TLSError"
    assert "TLS connection" in caught.value.message
