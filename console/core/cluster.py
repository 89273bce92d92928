"""The console's connection to its cluster: one gateway per configuration, status for the header.

Which cluster: KUBECONFIG (+ KUBE_CONTEXT), else KUBE_API_URL (the built-in simulator), else the
in-cluster service account. With none of them the console runs with "no cluster connected".
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache

from cluster.errors import ClusterError
from cluster.gateway import Gateway
from isolation.snapshot import Snapshot

_lock = threading.Lock()
_gateways: dict[tuple[str, str, str], Gateway] = {}

STATUS_CACHE_SECONDS = 15


class NoClusterError(ClusterError):
    """No cluster is configured."""

    def __init__(self) -> None:
        super().__init__(
            "No cluster connected: set KUBECONFIG (or KUBE_API_URL), or run `make run` to "
            "start the built-in simulator with the demo cluster."
        )


def _config_key() -> tuple[str, str, str]:
    return (settings.KUBECONFIG, settings.KUBE_CONTEXT, settings.KUBE_API_URL)


def configured() -> bool:
    return bool(settings.KUBECONFIG or settings.KUBE_API_URL
                or os.environ.get("KUBERNETES_SERVICE_HOST"))


def gateway() -> Gateway:
    """The shared gateway for the configured cluster (raises NoClusterError when none is)."""
    if not configured():
        raise NoClusterError()
    key = _config_key()
    with _lock:
        gw = _gateways.get(key)
        if gw is None:
            # Settings changed (tests point at a new simulator): drop the old connections.
            for stale in _gateways.values():
                stale.close()
            _gateways.clear()
            env = dict(os.environ)
            env.update({"KUBECONFIG": settings.KUBECONFIG, "KUBE_CONTEXT": settings.KUBE_CONTEXT,
                        "KUBE_API_URL": settings.KUBE_API_URL,
                        "KUBE_REQUEST_TIMEOUT": str(settings.KUBE_REQUEST_TIMEOUT)})
            gw = _gateways[key] = Gateway.from_env(env)
        return gw


@dataclass(frozen=True)
class ClusterStatus:
    connected: bool
    name: str = ""
    url: str = ""
    is_simulator: bool = False
    healthy: bool = False
    message: str = ""


def status(*, fresh: bool = False) -> ClusterStatus:
    """What the header shows: which cluster, simulator or not, healthy or not (cached briefly)."""
    if not configured():
        return ClusterStatus(connected=False, message=str(NoClusterError()))
    key = "cluster-status:" + "|".join(_config_key())
    cached = None if fresh else cache.get(key)
    if cached:
        return ClusterStatus(**cached)
    try:
        gw = gateway()
        ok, message = gw.health()
        info = gw.describe() if ok else {"name": settings.KUBE_API_URL or settings.KUBE_CONTEXT,
                                         "url": settings.KUBE_API_URL, "is_simulator": False}
        result = ClusterStatus(connected=True, name=info.get("name", ""), url=info.get("url", ""),
                               is_simulator=bool(info.get("is_simulator")), healthy=ok,
                               message=message)
    except ClusterError as exc:
        result = ClusterStatus(connected=True, name=settings.KUBE_API_URL or settings.KUBECONFIG,
                               healthy=False, message=exc.message)
    cache.set(key, asdict(result), STATUS_CACHE_SECONDS)
    return result


def snapshot(namespaces: list[str] | None = None) -> Snapshot:
    """The cluster's objects now, read through the gateway (raises ClusterError)."""
    return gateway().snapshot(namespaces=namespaces)
