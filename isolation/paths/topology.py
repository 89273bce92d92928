"""What the traffic-path model reads from a cluster snapshot.

Nodes with their InternalIP and Calico tunnel addresses, the CNI's encapsulation mode, the
pods behind a Service (from EndpointSlices, Endpoints or, failing both, the selector) with their
resolved target ports, OpenELB's announcement mode, and the ingress controller Service that
carries an Ingress. Everything here is read-only over plain API-object dicts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from isolation.snapshot import Snapshot
from isolation.text import gettext as _

CNI_MODES = ("routed", "ipip", "vxlan")

IPIP_TUNNEL_ANNOTATION = "projectcalico.org/IPv4IPIPTunnelAddr"
VXLAN_TUNNEL_ANNOTATION = "projectcalico.org/IPv4VXLANTunnelAddr"
WIREGUARD_ANNOTATION = "projectcalico.org/IPv4WireguardInterfaceAddr"
NODE_ADDRESS_ANNOTATION = "projectcalico.org/IPv4Address"
OPENELB_ANNOTATION = "lb.kubesphere.io/v1alpha1"
OPENELB_PROTOCOL_ANNOTATION = "protocol.openelb.kubesphere.io/v1alpha1"
OPENELB_MODES = ("bgp", "layer2", "vip")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"

# How each encapsulation names the interface whose address SNAT writes on a cross-node hop.
TUNNEL_INTERFACE = {"ipip": "tunl0", "vxlan": "vxlan.calico"}


class PathInputError(ValueError):
    """The snapshot lacks what a trace needs (unknown Service, no controller, bad address)."""


@dataclass(frozen=True)
class NodeInfo:
    """A node as the data path sees it."""

    name: str
    internal_ip: str | None
    ipip_address: str | None
    vxlan_address: str | None
    subnet: ipaddress.IPv4Network | ipaddress.IPv6Network | None

    def tunnel_address(self, mode: str) -> str | None:
        """The address SNAT writes when a packet leaves this node through `mode`'s tunnel."""
        if mode == "ipip":
            return self.ipip_address
        if mode == "vxlan":
            return self.vxlan_address
        return self.internal_ip


@dataclass(frozen=True)
class CniMode:
    """The encapsulation of cross-node pod traffic and where that was read."""

    mode: str
    cross_subnet: bool
    source: str


@dataclass(frozen=True)
class Backend:
    """One ready endpoint pod of a Service port, with the port its policy is matched on."""

    namespace: str
    name: str
    ip: str
    node: str | None
    host_network: bool
    port: int
    protocol: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ServicePort:
    """One port of a Service as clients and kube-proxy see it."""

    name: str
    port: int
    node_port: int | None
    target_port: int | str
    protocol: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "port": self.port, "node_port": self.node_port,
                "target_port": self.target_port, "protocol": self.protocol}


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _annotations(obj: dict[str, Any]) -> dict[str, str]:
    return _meta(obj).get("annotations") or {}


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return _meta(obj).get("labels") or {}


def _host(address: str | None) -> str | None:
    """The address part of an annotation that may carry a prefix ("10.233.64.0/32")."""
    if not address:
        return None
    text = str(address).split("/")[0].strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def node_info(node: dict[str, Any]) -> NodeInfo:
    """Addresses of one Node object; unparsable annotations count as absent."""
    addresses = (node.get("status") or {}).get("addresses") or []
    internal = next((_host(a.get("address")) for a in addresses if a.get("type") == "InternalIP"), None)
    annotations = _annotations(node)
    subnet = None
    calico_address = annotations.get(NODE_ADDRESS_ANNOTATION)
    if calico_address and "/" in calico_address:
        try:
            subnet = ipaddress.ip_interface(calico_address).network
        except ValueError:
            subnet = None
    if internal is None:
        internal = _host(calico_address)
    return NodeInfo(
        name=_meta(node)["name"],
        internal_ip=internal,
        ipip_address=_host(annotations.get(IPIP_TUNNEL_ANNOTATION)),
        vxlan_address=_host(annotations.get(VXLAN_TUNNEL_ANNOTATION)),
        subnet=subnet,
    )


def _pool_in_use(pool: dict[str, Any]) -> bool:
    spec = pool.get("spec") or {}
    uses = spec.get("allowedUses") or ["Workload", "Tunnel"]
    return not spec.get("disabled") and "Workload" in uses


def cni_mode(snapshot: Snapshot) -> CniMode:
    """The encapsulation in force, read from IPPools first, then from Node annotations.

    Guarantees: an enabled workload IPPool with vxlanMode Always/CrossSubnet gives "vxlan", else one
    with ipipMode Always/CrossSubnet gives "ipip", else pools present give "routed"; with no pool,
    the tunnel annotation most nodes carry decides (IPIP on a tie), and none gives "routed".
    """
    pools = sorted((p for p in snapshot.ip_pools if _pool_in_use(p)), key=lambda p: _meta(p)["name"])
    for field, mode in (("vxlanMode", "vxlan"), ("ipipMode", "ipip")):
        for pool in pools:
            value = (pool.get("spec") or {}).get(field) or "Never"
            if value in ("Always", "CrossSubnet"):
                return CniMode(mode, value == "CrossSubnet",
                               f"IPPool {_meta(pool)['name']}: {field} {value}")
    if pools:
        return CniMode("routed", False, _("IPPool {pool}: no encapsulation",
                                          pool=_meta(pools[0])["name"]))
    ipip = sum(1 for n in snapshot.nodes if _annotations(n).get(IPIP_TUNNEL_ANNOTATION))
    vxlan = sum(1 for n in snapshot.nodes if _annotations(n).get(VXLAN_TUNNEL_ANNOTATION))
    if ipip and ipip >= vxlan:
        return CniMode("ipip", False, _("{count} node(s) annotated {annotation}", count=ipip,
                                        annotation=IPIP_TUNNEL_ANNOTATION))
    if vxlan:
        return CniMode("vxlan", False, _("{count} node(s) annotated {annotation}", count=vxlan,
                                         annotation=VXLAN_TUNNEL_ANNOTATION))
    return CniMode("routed", False, _("no IPPool and no tunnel annotation on any node"))


def lb_implementation(service: dict[str, Any]) -> str | None:
    """OpenELB's announcement mode (bgp, layer2, vip) for an OpenELB Service, else None.

    OpenELB's own default, when only the openelb annotation is present, is BGP.
    """
    annotations = _annotations(service)
    protocol = str(annotations.get(OPENELB_PROTOCOL_ANNOTATION, "")).strip().lower()
    if protocol in OPENELB_MODES:
        return protocol
    if str(annotations.get(OPENELB_ANNOTATION, "")).strip().lower() == "openelb":
        return "bgp"
    return None


def lb_ips(service: dict[str, Any]) -> list[str]:
    """Addresses the LoadBalancer answers on: status ingress IPs, else spec.loadBalancerIP."""
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ips = [i["ip"] for i in ingress if isinstance(i, dict) and i.get("ip")]
    if not ips and (service.get("spec") or {}).get("loadBalancerIP"):
        ips = [service["spec"]["loadBalancerIP"]]
    return ips


def service_ports(service: dict[str, Any]) -> list[ServicePort]:
    ports = []
    for index, raw in enumerate((service.get("spec") or {}).get("ports") or []):
        port = int(raw.get("port"))
        ports.append(ServicePort(
            name=str(raw.get("name") or (f"port-{index}" if index else "")),
            port=port,
            node_port=int(raw["nodePort"]) if raw.get("nodePort") else None,
            target_port=raw.get("targetPort", port),
            protocol=str(raw.get("protocol") or "TCP").upper(),
        ))
    return ports


def traffic_policy(service: dict[str, Any]) -> str:
    value = str((service.get("spec") or {}).get("externalTrafficPolicy") or "Cluster")
    return "Local" if value.lower() == "local" else "Cluster"


def service_type(service: dict[str, Any]) -> str:
    return str((service.get("spec") or {}).get("type") or "ClusterIP")


class ClusterView:
    """Indexes over one snapshot. `ClusterView.of(snapshot)` shares one view between every
    trace and digest of the same snapshot (a list page traces hundreds of exposures)."""

    _recent: list[ClusterView] = []  # the last few views, most recent last
    RECENT = 4

    @classmethod
    def of(cls, snapshot: Snapshot) -> ClusterView:
        """The view of `snapshot`, built once while the snapshot's lists stay the same objects
        of the same lengths (what the console and the commands do: a snapshot read is never
        changed in place; a what-if copy gets lists of its own, hence a view of its own)."""
        fingerprint = _fingerprint(snapshot)
        for view in cls._recent:
            if view.snapshot is snapshot and view.fingerprint == fingerprint:
                return view
        view = cls(snapshot)
        cls._recent = [*cls._recent[-(cls.RECENT - 1):], view]
        return view

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.fingerprint = _fingerprint(snapshot)
        self._by_namespace: dict[str, dict[str, list[tuple[int, dict[str, Any]]]]] = {}
        self.nodes: dict[str, NodeInfo] = {}
        for node in snapshot.nodes:
            info = node_info(node)
            self.nodes[info.name] = info
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods_by_ip: dict[str, dict[str, Any]] = {}
        for pod in snapshot.pods:
            meta = _meta(pod)
            self.pods[(meta.get("namespace", "default"), meta["name"])] = pod
            ip = (pod.get("status") or {}).get("podIP")
            if ip and not (pod.get("spec") or {}).get("hostNetwork"):
                self.pods_by_ip[ip] = pod
        self.services: dict[tuple[str, str], dict[str, Any]] = {
            (_meta(s).get("namespace", "default"), _meta(s)["name"]): s for s in snapshot.services
        }
        self.ingresses: dict[tuple[str, str], dict[str, Any]] = {
            (_meta(i).get("namespace", "default"), _meta(i)["name"]): i for i in snapshot.ingresses
        }
        self.endpoints = {(_meta(e).get("namespace", "default"), _meta(e)["name"]): e
                          for e in snapshot.endpoints}
        self.slices: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for eps in snapshot.endpoint_slices:
            owner = _labels(eps).get(SERVICE_NAME_LABEL)
            if owner:
                self.slices.setdefault((_meta(eps).get("namespace", "default"), owner), []).append(eps)

    def node_names(self) -> list[str]:
        return sorted(self.nodes)

    def in_namespaces(self, kind: str, namespaces: set[str] | frozenset[str]) -> list[dict[str, Any]]:
        """The snapshot's objects of `kind` ("pods", "network_policies", "endpoints",
        "endpoint_slices") in `namespaces`, in snapshot order, from an index built once."""
        index = self._by_namespace.get(kind)
        if index is None:
            index = {}
            for position, obj in enumerate(getattr(self.snapshot, kind)):
                index.setdefault(_meta(obj).get("namespace", "default"), []).append((position, obj))
            self._by_namespace[kind] = index
        found = [entry for ns in namespaces for entry in index.get(ns, ())]
        if len(namespaces) > 1:
            found.sort(key=lambda entry: entry[0])
        return [obj for _, obj in found]

    def service(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            return self.services[(namespace, name)]
        except KeyError:
            raise PathInputError(_("Service {namespace}/{name} is not in the snapshot",
                                   namespace=namespace, name=name)) from None

    def backends(self, service: dict[str, Any], port: ServicePort) -> list[Backend]:
        """Ready endpoint pods of `port`, sorted by namespace/name, each with its target port.

        Guarantees: EndpointSlices win over Endpoints, which win over the selector (used only
        when the snapshot has neither for this Service); only ready addresses and Running pods
        count; a named targetPort resolves on each pod's containers.
        """
        namespace = _meta(service).get("namespace", "default")
        name = _meta(service)["name"]
        found: dict[str, tuple[str | None, str | None, str | None, int | None]] = {}
        if (namespace, name) in self.slices:
            for eps in self.slices[(namespace, name)]:
                resolved = _endpoint_port(eps.get("ports") or [], port)
                for endpoint in eps.get("endpoints") or []:
                    if (endpoint.get("conditions") or {}).get("ready") is False:
                        continue
                    ref = endpoint.get("targetRef") or {}
                    for ip in endpoint.get("addresses") or []:
                        found[ip] = (ref.get("name"), ref.get("namespace"),
                                     endpoint.get("nodeName"), resolved)
        elif (namespace, name) in self.endpoints:
            for subset in self.endpoints[(namespace, name)].get("subsets") or []:
                resolved = _endpoint_port(subset.get("ports") or [], port)
                for address in subset.get("addresses") or []:
                    ref = address.get("targetRef") or {}
                    found[address.get("ip")] = (ref.get("name"), ref.get("namespace"),
                                                address.get("nodeName"), resolved)
        else:
            selector = (service.get("spec") or {}).get("selector") or {}
            if selector:
                for pod in self.in_namespaces("pods", {namespace}):
                    labels = _labels(pod)
                    pod_ns, pod_name = namespace, _meta(pod)["name"]
                    if all(labels.get(k) == v for k, v in selector.items()):
                        if (pod.get("status") or {}).get("phase", "Running") != "Running":
                            continue
                        ip = (pod.get("status") or {}).get("podIP")
                        if ip:
                            found[ip] = (pod_name, pod_ns, None, None)
        backends = []
        for ip, (ref_name, ref_ns, node_name, resolved) in found.items():
            if not ip:
                continue
            pod = self.pods.get((ref_ns or namespace, ref_name)) if ref_name else None
            if pod is None:
                pod = self.pods_by_ip.get(ip)
            spec = (pod or {}).get("spec") or {}
            node = node_name or spec.get("nodeName")
            target = _pod_target_port(pod, port) if pod else None
            if target is None:
                target = resolved if resolved is not None else (
                    port.target_port if isinstance(port.target_port, int) else None)
            if target is None:
                continue
            pod_name = _meta(pod)["name"] if pod else (ref_name or ip)
            pod_ns = _meta(pod).get("namespace", namespace) if pod else (ref_ns or namespace)
            backends.append(Backend(pod_ns, pod_name, ip, node, bool(spec.get("hostNetwork")),
                                    int(target), port.protocol))
        return sorted(backends, key=lambda b: (b.namespace, b.name, b.ip))


def _fingerprint(snapshot: Snapshot) -> tuple[tuple[int, int], ...]:
    lists = (snapshot.namespaces, snapshot.nodes, snapshot.pods, snapshot.services,
             snapshot.endpoints, snapshot.endpoint_slices, snapshot.ingresses,
             snapshot.network_policies, snapshot.ip_pools)
    return tuple((id(items), len(items)) for items in lists)


def _endpoint_port(ports: list[dict[str, Any]], port: ServicePort) -> int | None:
    for entry in ports:
        if (entry.get("name") or "") == port.name and str(entry.get("protocol") or "TCP") == port.protocol:
            return int(entry["port"]) if entry.get("port") is not None else None
    if len(ports) == 1 and ports[0].get("port") is not None:
        return int(ports[0]["port"])
    return None


def _pod_target_port(pod: dict[str, Any], port: ServicePort) -> int | None:
    """The container port a Service port's targetPort means on this pod."""
    target = port.target_port
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for declared in container.get("ports") or []:
            if declared.get("name") == target and str(declared.get("protocol") or "TCP") == port.protocol:
                return int(declared["containerPort"])
    return None


def pick_port(service: dict[str, Any], wanted: int | str | None) -> ServicePort:
    """The Service port a trace follows: `wanted` by number or name, else the first one."""
    ports = service_ports(service)
    name = f"{_meta(service).get('namespace', 'default')}/{_meta(service)['name']}"
    if not ports:
        raise PathInputError(_("Service {name} has no ports", name=name))
    if wanted is None:
        return ports[0]
    for port in ports:
        if str(port.port) == str(wanted) or port.name == str(wanted):
            return port
    known = ", ".join(f"{p.port}" + (f" ({p.name})" if p.name else "") for p in ports)
    raise PathInputError(_("Service {name} has no port {port} (ports: {known})", name=name,
                           port=wanted, known=known))
