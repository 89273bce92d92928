"""How to reach the cluster, decided from environment-like values.

Precedence, most explicit first:

1. `KUBECONFIG` (one path, or several joined with `:` as kubectl accepts) with the optional
   `KUBE_CONTEXT`, else the kubeconfig's current context;
2. `KUBE_API_URL` — a plain API URL (the built-in simulator, `http://127.0.0.1:8001`);
3. the in-cluster service account (`KUBERNETES_SERVICE_HOST`/`_PORT` set by the kubelet).

A kubeconfig wins over the simulator URL, so setting KUBECONFIG is enough to point a console
that defaults to the simulator at a real cluster.

`~/.kube/config` is deliberately not read implicitly: the console must never act on whatever
cluster happens to be the operator's current one. `KUBE_REQUEST_TIMEOUT` (seconds, default 10) bounds
every API call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cluster.errors import ClusterConfigError

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_TIMEOUT = 10.0
HEALTH_TIMEOUT = 3.0

Source = Literal["url", "kubeconfig", "in-cluster"]


@dataclass(frozen=True)
class ClusterConfig:
    """Connection settings; `source` says which of the three ways is used."""

    source: Source
    api_url: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    service_host: str | None = None
    service_port: str | None = None
    service_account_dir: str = SERVICE_ACCOUNT_DIR
    timeout: float = DEFAULT_TIMEOUT
    health_timeout: float = HEALTH_TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ClusterConfig:
        """Settings from `env` (os.environ or a test dict), by the precedence above.

        Raises ClusterConfigError, naming the variable, when nothing is configured or a value
        is malformed.
        """
        timeout = _timeout(env.get("KUBE_REQUEST_TIMEOUT"))
        kubeconfig = (env.get("KUBECONFIG") or "").strip()
        if kubeconfig:
            context = (env.get("KUBE_CONTEXT") or "").strip() or None
            return cls(source="kubeconfig", kubeconfig=kubeconfig, context=context,
                       timeout=timeout)
        api_url = (env.get("KUBE_API_URL") or "").strip()
        if api_url:
            if not api_url.startswith(("http://", "https://")):
                raise ClusterConfigError(
                    f"KUBE_API_URL={api_url!r} is not an http:// or https:// URL."
                )
            return cls(source="url", api_url=api_url.rstrip("/"), timeout=timeout)
        host = env.get("KUBERNETES_SERVICE_HOST")
        port = env.get("KUBERNETES_SERVICE_PORT")
        if host and port:
            return cls(source="in-cluster", service_host=host, service_port=port,
                       timeout=timeout)
        raise ClusterConfigError(
            "No cluster is configured: set KUBECONFIG (and optionally KUBE_CONTEXT), "
            "set KUBE_API_URL to the built-in simulator, or run the console inside a cluster."
        )


def _timeout(value: str | None) -> float:
    if value is None or not value.strip():
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 600:
        raise ClusterConfigError(
            f"KUBE_REQUEST_TIMEOUT={value!r} must be a number of seconds between 0 and 600."
        )
    return seconds
