"""Gateways connected over HTTP to a fresh in-process API simulator (see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from cluster.config import ClusterConfig
from cluster.crds import install_crds
from cluster.gateway import Gateway


@pytest.fixture
def make_gateway(empty_simulator) -> Iterator[Callable[..., Gateway]]:
    """Build gateways to the empty simulator, e.g. with a short timeout for hang tests."""
    made: list[Gateway] = []

    def make(timeout: float = 5.0) -> Gateway:
        gw = Gateway(ClusterConfig(source="url", api_url=empty_simulator.url, timeout=timeout,
                                   health_timeout=timeout))
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.close()


@pytest.fixture
def gateway(make_gateway) -> Gateway:
    return make_gateway()


@pytest.fixture
def gateway_with_crds(gateway) -> Gateway:
    """A gateway to a simulator that serves the console's two CRDs."""
    install_crds(gateway)
    return gateway
