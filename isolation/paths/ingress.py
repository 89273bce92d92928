"""Resolving an Ingress to its controller's Service and its backend Services.

Snapshots carry no IngressClass or controller configuration, so the controller is recognised
from what a cluster does show: the Ingress status address equal to a LoadBalancer IP, the
controller pods' `--ingress-class` / `--watch-namespace` arguments, and the labels and images
ingress-nginx and KubeSphere's project gateways (`kubesphere-router-<ns>`) use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from isolation.paths.topology import (
    INGRESS_CLASS_ANNOTATION,
    ClusterView,
    PathInputError,
    lb_ips,
    service_type,
)
from isolation.text import gettext as _

EXPOSED_TYPES = ("NodePort", "LoadBalancer")


@dataclass(frozen=True)
class IngressBackend:
    """One Service an Ingress routes to, with the Service port it names."""

    namespace: str
    service: str
    port: int | str | None


def ingress_class(ingress: dict[str, Any]) -> str | None:
    spec = ingress.get("spec") or {}
    return spec.get("ingressClassName") or (
        (ingress.get("metadata") or {}).get("annotations") or {}).get(INGRESS_CLASS_ANNOTATION)


def ingress_backends(ingress: dict[str, Any]) -> list[IngressBackend]:
    """Every distinct backend Service of the Ingress (default backend first), in rule order."""
    namespace = (ingress.get("metadata") or {}).get("namespace", "default")
    spec = ingress.get("spec") or {}
    raw = []
    if spec.get("defaultBackend"):
        raw.append(spec["defaultBackend"])
    for rule in spec.get("rules") or []:
        for path in ((rule or {}).get("http") or {}).get("paths") or []:
            raw.append((path or {}).get("backend") or {})
    seen: list[IngressBackend] = []
    for backend in raw:
        service = backend.get("service") or {}
        if not service.get("name"):
            # networking/v1beta1 spelling, still found in older exports
            if backend.get("serviceName"):
                service = {"name": backend["serviceName"], "port": {"number": backend.get("servicePort")}}
            else:
                continue
        port_spec = service.get("port") or {}
        port = port_spec.get("number") if port_spec.get("number") is not None else port_spec.get("name")
        entry = IngressBackend(namespace, service["name"], port)
        if entry not in seen:
            seen.append(entry)
    return seen


def _pod_text(pod: dict[str, Any]) -> str:
    """Labels, images and arguments of a pod, lower-cased, for recognising controllers."""
    parts = [f"{k}={v}" for k, v in sorted(((pod.get("metadata") or {}).get("labels") or {}).items())]
    for container in (pod.get("spec") or {}).get("containers") or []:
        parts.append(str(container.get("image", "")))
        parts.extend(str(a) for a in container.get("args") or [])
        parts.extend(str(a) for a in container.get("command") or [])
    return " ".join(parts).lower()


def _selected_pods(view: ClusterView, service: dict[str, Any]) -> list[dict[str, Any]]:
    namespace = (service.get("metadata") or {}).get("namespace", "default")
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return []
    return [pod for (ns, _), pod in sorted(view.pods.items())
            if ns == namespace and all(((pod.get("metadata") or {}).get("labels") or {}).get(k) == v
                                       for k, v in selector.items())]


def _score(view: ClusterView, service: dict[str, Any], ingress: dict[str, Any]) -> int:
    """How strongly the Service looks like the one carrying this Ingress (0 = not at all)."""
    status_ips = {i.get("ip") for i in (((ingress.get("status") or {}).get("loadBalancer") or {})
                                        .get("ingress") or []) if isinstance(i, dict)}
    score = 0
    if status_ips & set(lb_ips(service)):
        score += 100
    name = (service.get("metadata") or {}).get("name", "").lower()
    ingress_ns = (ingress.get("metadata") or {}).get("namespace", "default")
    cls = (ingress_class(ingress) or "").lower()
    texts = [_pod_text(pod) for pod in _selected_pods(view, service)]
    # "ingress" in a controller's image or labels is a strong sign; "router" (KubeSphere's
    # gateway) and "gateway" also name ordinary application Services, so they weigh less.
    if any("ingress" in text for text in texts):
        score += 6
    if any(word in text for text in texts for word in ("router", "gateway")):
        score += 1
    if "ingress" in name or "router" in name:
        score += 2
    elif "gateway" in name:
        score += 1
    if not score:
        return 0
    if cls and any(f"--ingress-class={cls}" in text or f"--controller-class=k8s.io/{cls}" in text
                   or f"ingress-class={cls}" in text for text in texts):
        score += 8
    if any(f"--watch-namespace={ingress_ns}" in text for text in texts) or name.endswith(f"-{ingress_ns}"):
        score += 16
    elif any("--watch-namespace=" in text for text in texts):
        score -= 16  # a project gateway that serves another project
    return max(score, 0)


def find_controller(view: ClusterView, ingress: dict[str, Any],
                    override: tuple[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The NodePort/LoadBalancer Service in front of the controller serving `ingress`.

    Returns the Service and warnings (e.g. when several candidates scored alike). Raises
    PathInputError when nothing in the snapshot looks like a controller Service.
    """
    if override is not None:
        service = view.service(*override)
        if service_type(service) not in EXPOSED_TYPES:
            raise PathInputError(_("the controller Service {namespace}/{name} is neither "
                                   "NodePort nor LoadBalancer", namespace=override[0],
                                   name=override[1]))
        return service, []
    ranked = sorted(
        ((_score(view, s, ingress), key) for key, s in view.services.items()
         if service_type(s) in EXPOSED_TYPES),
        key=lambda item: (-item[0], item[1]),
    )
    ranked = [item for item in ranked if item[0] > 0]
    meta = ingress.get("metadata") or {}
    if not ranked:
        raise PathInputError(_(
            "no ingress controller Service (NodePort or LoadBalancer) found for Ingress "
            "{namespace}/{name}; name it explicitly", namespace=meta.get("namespace", "default"),
            name=meta.get("name")))
    warnings = []
    ties = [key for score, key in ranked if score == ranked[0][0]]
    if len(ties) > 1:
        warnings.append(_("several Services could carry this Ingress ({candidates}); traced "
                          "through {chosen}", candidates=", ".join(f"{ns}/{name}" for ns, name in ties),
                          chosen=f"{ties[0][0]}/{ties[0][1]}"))
    return view.services[ranked[0][1]], warnings


def ingress_object(view: ClusterView, namespace: str, name: str) -> dict[str, Any]:
    try:
        return view.ingresses[(namespace, name)]
    except KeyError:
        raise PathInputError(_("Ingress {namespace}/{name} is not in the snapshot",
                               namespace=namespace, name=name)) from None
