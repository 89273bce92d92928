"""Shared fixtures: the API simulator and the personas of the access tests.

Personas (the demo cluster's tenants): alice is a platform admin; bob administers workspace
team-a; carol administers its project shop; dave views everything; erin views only shop;
frank administers the other workspace team-b (the foreign tenant).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import cache

WS_A, WS_B = "team-a", "team-b"


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language, whatever a page asked for before it (the
    locale middleware leaves the request's language active in the test's thread)."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def simulator():
    """A fresh built-in API server with the demo cluster as it was before the isolation engine
    first ran: its generated policies are removed, so the tests see the engine write them.
    (`make run` serves the demo in step; tests/kubesim/test_demo.py checks that state.)"""
    from cluster.config import ClusterConfig
    from cluster.gateway import Gateway
    from isolation.compiler.generate import MANAGED_BY_LABEL, MANAGED_BY_VALUE
    from kubesim import SimulatorServer

    server = SimulatorServer(seed="demo")
    server.start()
    gateway = Gateway(ClusterConfig(source="url", api_url=server.url))
    generated = gateway.list_objects("NetworkPolicy",
                                     label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}")
    for policy in generated:
        gateway.delete("NetworkPolicy", policy["metadata"]["name"],
                       namespace=policy["metadata"]["namespace"])
    gateway.close()
    yield server
    server.stop()


@pytest.fixture
def no_platform_guardrails(simulator):
    """The demo without its platform-wide connectivity expectations, for tests of how changes
    are applied rather than of what guardrails refuse (tests/console/guardrails covers those):
    a cluster that promises nothing platform-wide is a valid cluster too."""
    from cluster.config import ClusterConfig
    from cluster.gateway import Gateway

    gateway = Gateway(ClusterConfig(source="url", api_url=simulator.url))
    for obj in gateway.list_objects("ClusterConnectivityExpectation"):
        gateway.delete("ClusterConnectivityExpectation", obj["metadata"]["name"])
    gateway.close()
    return simulator


@pytest.fixture
def empty_simulator():
    from kubesim import SimulatorServer

    server = SimulatorServer(seed="empty")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def demo_cluster(settings, simulator):
    """Point the console at the demo simulator for this test."""
    settings.KUBE_API_URL = simulator.url
    settings.KUBECONFIG = ""
    cache.clear()
    yield simulator
    cache.clear()


@pytest.fixture
def no_cluster(settings, monkeypatch):
    settings.KUBE_API_URL = ""
    settings.KUBECONFIG = ""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    cache.clear()


PASSWORD = "pw-persona-1"


@pytest.fixture
def personas(db):
    """alice platform admin; bob admin of team-a; carol admin of project shop (team-a);
    dave global viewer; erin viewer of project shop; frank admin of team-b (the foreign tenant)."""
    from django.contrib.auth.models import User

    from console.core.models import Role, RoleBinding

    people = {}
    grants = {
        "alice": (Role.PLATFORM_ADMIN, "", ""),
        "bob": (Role.WORKSPACE_ADMIN, WS_A, ""),
        "carol": (Role.PROJECT_ADMIN, "", "shop"),
        "dave": (Role.VIEWER, "", ""),
        "erin": (Role.VIEWER, "", "shop"),
        "frank": (Role.WORKSPACE_ADMIN, WS_B, ""),
    }
    for name, (role, workspace, project) in grants.items():
        user = User.objects.create_user(name, password=PASSWORD)
        RoleBinding.objects.create(user=user, role=role, workspace=workspace, project=project)
        people[name] = user
    return people


@pytest.fixture
def login_as(client):
    def login(name: str):
        client.logout()
        assert client.login(username=name, password=PASSWORD)
        return client

    return login


@pytest.fixture
def api_writes(simulator):
    """Every write request (method, path) the simulator serves from now on, in order."""
    seen: list[tuple[str, str]] = []
    handle = simulator.api.handle

    def recording(request):
        if request.method not in ("GET", "HEAD"):
            seen.append((request.method, request.path))
        return handle(request)

    simulator.api.handle = recording
    yield seen
    simulator.api.handle = handle


# ---- a real kube-apiserver (tools/kube-testenv), shared by the session -----------------------

@pytest.fixture(scope="session")
def real_api():
    """The real API server, seeded with the demo cluster and the console's RBAC."""
    from cluster.gateway import Gateway
    from cluster.testenv import RealApiServer, TestenvError
    from console.core.realcluster import apply_rbac, seed
    from kubesim.demo import demo_objects

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
def real_gateway(real_api) -> Iterator:
    from cluster.crds import install_crds
    from cluster.gateway import Gateway

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


# The watched cluster model (tests/console/core/test_cluster_model.py, tests/integration/test_watch_cluster.py).
MODEL_REDIS_URL = os.environ.get("TEST_MODEL_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_cache(settings, demo_cluster):
    """The cache on a Redis database of these tests' own; this cluster's model keys (named
    after the simulator's URL, so concurrent tests never share them) are removed around it."""
    import redis

    from console.core import cluster

    client = redis.Redis.from_url(MODEL_REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"These tests need Redis at {MODEL_REDIS_URL} (make services): {exc}")
    prefix = cluster.model_prefix()   # an earlier simulator may have had this port
    cluster._decoded.pop(prefix, None)
    cluster._own_writes.pop(prefix, None)
    pattern = f"*{prefix}*"
    for key in client.scan_iter(pattern):
        client.delete(key)
    original = settings.CACHES
    settings.CACHES = {"default": {"BACKEND": "console.core.cache.DegradingRedisCache",
                                   "LOCATION": MODEL_REDIS_URL,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}}
    yield client
    settings.CACHES = original   # before demo_cluster's teardown clears the cache
    for key in client.scan_iter(pattern):
        client.delete(key)


@pytest.fixture
def api_reads(demo_cluster):
    """Every GET the simulator serves that is not a watch, from now on."""
    seen: list[str] = []
    handle = demo_cluster.api.handle

    def counting(request):
        if request.method == "GET" and request.param("watch") not in ("true", "1"):
            seen.append(request.path)
        return handle(request)

    demo_cluster.api.handle = counting
    yield seen
    demo_cluster.api.handle = handle
