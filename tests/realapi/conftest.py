"""A real kube-apiserver (with etcd) for the whole session, built from the Kubernetes Go
modules by tools/kube-testenv (see cluster/testenv.py), beside the simulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from cluster.crds import install_crds
from cluster.gateway import Gateway
from cluster.testenv import RealApiServer, TestenvError
from console.core.realcluster import apply_rbac, seed
from kubesim.demo import demo_objects


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/realapi/" in str(item.fspath):
            item.add_marker(pytest.mark.realapi)


@pytest.fixture(scope="session")
def real_api() -> Iterator[RealApiServer]:
    """The real API server, seeded with the demo cluster and the console's RBAC."""
    try:
        server = RealApiServer().start()
    except TestenvError as exc:
        pytest.fail(f"the real API server is needed for this test: {exc}")
    try:
        gateway = Gateway.from_env({"KUBECONFIG": str(server.admin_kubeconfig)})
        seed(gateway, demo_objects())
        apply_rbac(gateway)
        gateway.close()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def real_gateway(real_api) -> Iterator[Gateway]:
    gateway = Gateway.from_env({"KUBECONFIG": str(real_api.admin_kubeconfig)})
    install_crds(gateway)
    yield gateway
    gateway.close()


@pytest.fixture
def fresh_namespace() -> str:
    """A namespace name no other test uses (a real server never forgets a namespace at once:
    without a namespace controller a deleted one stays Terminating)."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def real_cluster(settings, real_api):
    """Point the console at the real API server (admin credentials) for this test."""
    settings.KUBECONFIG = str(real_api.admin_kubeconfig)
    settings.KUBE_API_URL = ""
    settings.KUBE_CONTEXT = ""
    cache.clear()
    yield real_api
    cache.clear()
