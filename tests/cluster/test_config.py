"""Choosing the cluster from environment values, without any network."""

import pytest

from cluster.config import DEFAULT_TIMEOUT, ClusterConfig
from cluster.errors import ClusterConfigError, PermanentClusterError


@pytest.mark.parametrize(("env", "source", "expected"), [
    ({"KUBE_API_URL": "http://127.0.0.1:8001/"}, "url", {"api_url": "http://127.0.0.1:8001"}),
    ({"KUBECONFIG": "/etc/kube/a.yaml", "KUBE_CONTEXT": "prod"}, "kubeconfig",
     {"kubeconfig": "/etc/kube/a.yaml", "context": "prod"}),
    ({"KUBECONFIG": "/a.yaml:/b.yaml"}, "kubeconfig",
     {"kubeconfig": "/a.yaml:/b.yaml", "context": None}),
    # a kubeconfig points a console that defaults to the simulator at a real cluster
    ({"KUBECONFIG": "/a.yaml", "KUBE_API_URL": "http://127.0.0.1:8001"}, "kubeconfig",
     {"kubeconfig": "/a.yaml", "api_url": None}),
    ({"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "in-cluster",
     {"service_host": "10.96.0.1", "service_port": "443"}),
    ({"KUBE_API_URL": "http://x:1", "KUBERNETES_SERVICE_HOST": "10.96.0.1",
      "KUBERNETES_SERVICE_PORT": "443"}, "url", {"api_url": "http://x:1"}),
])
def test_settings_follow_the_documented_precedence(env, source, expected):
    config = ClusterConfig.from_env(env)

    assert config.source == source
    for attr, value in expected.items():
        assert getattr(config, attr) == value
    assert config.timeout == DEFAULT_TIMEOUT


def test_request_timeout_comes_from_the_environment():
    config = ClusterConfig.from_env({"KUBE_API_URL": "http://x:1", "KUBE_REQUEST_TIMEOUT": "2.5"})

    assert config.timeout == 2.5


@pytest.mark.parametrize(("env", "names"), [
    ({}, "KUBECONFIG"),
    ({"KUBE_CONTEXT": "prod"}, "KUBECONFIG"),
    ({"KUBE_API_URL": "127.0.0.1:8001"}, "KUBE_API_URL"),
    ({"KUBE_API_URL": "http://x:1", "KUBE_REQUEST_TIMEOUT": "soon"}, "KUBE_REQUEST_TIMEOUT"),
    ({"KUBE_API_URL": "http://x:1", "KUBE_REQUEST_TIMEOUT": "0"}, "KUBE_REQUEST_TIMEOUT"),
])
def test_unusable_settings_name_the_variable_to_fix(env, names):
    with pytest.raises(ClusterConfigError) as caught:
        ClusterConfig.from_env(env)

    assert names in caught.value.message
    assert isinstance(caught.value, PermanentClusterError)
