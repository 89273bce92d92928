"""Fixtures: a simulator on a free port, and clients of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from kubesim import SimulatorServer


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    server = SimulatorServer(seed="empty").start()
    yield server
    server.stop()


@pytest.fixture
def api(sim: SimulatorServer) -> Iterator[client.ApiClient]:
    cfg = client.Configuration()
    cfg.host = sim.url
    with client.ApiClient(cfg) as api_client:
        yield api_client


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def net(api: client.ApiClient) -> client.NetworkingV1Api:
    return client.NetworkingV1Api(api)
