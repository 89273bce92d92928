"""Shared fixtures: the API simulator and the personas of the access tests.

Personas (the demo cluster's tenants): alice is a platform admin; bob administers workspace
`WS_A`; carol administers project `PROJECT_A`; dave views everything; erin views only
`PROJECT_A`; frank administers the other workspace `WS_B` (the foreign tenant).
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

WS_A, WS_B = "team-a", "team-b"


@pytest.fixture
def simulator():
    """A fresh built-in API server seeded with the demo cluster, on a free port."""
    from kubesim import SimulatorServer

    server = SimulatorServer(seed="demo")
    server.start()
    yield server
    server.stop()


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
