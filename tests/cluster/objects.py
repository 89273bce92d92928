"""Small builders of API objects for the gateway tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels}}


def pod(ns: str, name: str, ip: str = "10.0.0.1", **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                                     "ports": [{"containerPort": 80, "name": "http"}]}]},
            "status": {"podIP": ip}}


def network_policy(ns: str, name: str, port: int = 80) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                     "ingress": [{"ports": [{"port": port, "protocol": "TCP"}]}]}}


def workspace(name: str, isolated: bool = False) -> dict[str, Any]:
    return {"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
            "metadata": {"name": name}, "spec": {"networkIsolation": isolated}}


def nsnp(ns: str, name: str, cidr: str = "10.1.0.0/16") -> dict[str, Any]:
    return {"apiVersion": "network.kubesphere.io/v1alpha1", "kind": "NamespaceNetworkPolicy",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"ingress": [{"from": [{"ipBlock": {"cidr": cidr}}]}]}}


def record_requests(gateway, after_each: Callable[[int], None] | None = None) -> list[str]:
    """Record the URL of every request the gateway sends from now on.

    `after_each(n)` runs once the n-th request (1-based) has been answered, to change the server
    between two requests of one gateway call (e.g. expire a list between its pages).
    """
    urls: list[str] = []
    call_api = gateway._api.call_api

    def recording_call_api(method, url, *args, **kwargs):
        urls.append(url)
        response = call_api(method, url, *args, **kwargs)
        if after_each is not None:
            after_each(len(urls))
        return response

    gateway._api.call_api = recording_call_api
    return urls
