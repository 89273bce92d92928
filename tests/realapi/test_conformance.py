"""The shared conformance checker against the real kube-apiserver, and our copy of the one check
the checker gets wrong for a server with TLS and tokens."""

from __future__ import annotations

import subprocess
import sys

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.kubesim.test_conformance import CHECKER

# The checker's keep-alive check builds its own client from the URL alone, without the
# kubeconfig's certificate authority and token, so against a TLS server it fails before sending
# anything (CERTIFICATE_VERIFY_FAILED). `test_keep_alive_survives_an_error_with_a_body` below is
# that check with the kubeconfig's credentials.
KEEP_ALIVE_CHECK = "HTTP keep-alive connection stays usable after an error answer"


def test_the_real_server_passes_the_conformance_checker(real_api):
    run = subprocess.run([sys.executable, str(CHECKER), "--kubeconfig", str(real_api.admin_kubeconfig),
                          "--timeout", "100"], capture_output=True, text=True, timeout=300)
    failures = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    unexplained = [f for f in failures
                   if not (KEEP_ALIVE_CHECK in f and "CERTIFICATE_VERIFY_FAILED" in f)]

    assert "passed" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]
    assert unexplained == [], "\n".join(unexplained)


def _api_client(kubeconfig: str | None = None, url: str | None = None) -> client.ApiClient:
    configuration = client.Configuration()
    if kubeconfig:
        config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    else:
        configuration.host = url
    configuration.connection_pool_maxsize = 1  # the next request reuses the same connection
    return client.ApiClient(configuration)


@pytest.fixture(params=["real", "simulator"])
def api(request, real_api, simulator):
    if request.param == "real":
        api = _api_client(kubeconfig=str(real_api.admin_kubeconfig))
    else:
        api = _api_client(url=simulator.url)
    yield api
    api.close()


def test_keep_alive_survives_an_error_with_a_body(api):
    with pytest.raises(ApiException) as refused:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            "network.kubesphere.io", "v1alpha1", "default", "nosuchthings",
            {"apiVersion": "network.kubesphere.io/v1alpha1", "kind": "NoSuchThing",
             "metadata": {"name": "x"}, "data": "x" * 4096})
    assert refused.value.status == 404

    for _ in range(2):
        assert client.VersionApi(api).get_code().git_version
