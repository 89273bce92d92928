"""Service defaulting, validation and the clusterIP / nodePort allocators."""

from __future__ import annotations

import ipaddress
import threading
from typing import Any

from kubesim.errors import cause

SERVICE_CIDR = ipaddress.ip_network("10.233.0.0/18")
NODE_PORTS = range(30000, 32768)
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
PROTOCOLS = ("TCP", "UDP", "SCTP")


class Allocator:
    """Which clusterIPs and nodePorts are taken; kept in step with every Service write."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ips: set[str] = set()
        self.ports: set[int] = set()
        self._next_ip = 10
        self._next_port = NODE_PORTS.start

    def reset(self, services: list[dict[str, Any]]) -> None:
        with self.lock:
            self.ips.clear()
            self.ports.clear()
            for svc in services:
                self._claim(svc)

    def _claim(self, svc: dict[str, Any]) -> None:
        ips, ports = _taken(svc)
        self.ips |= ips
        self.ports |= ports

    def changed(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """Record a committed write: `old` releases what it held, `new` claims what it holds."""
        with self.lock:
            if old is not None:
                ips, ports = _taken(old)
                self.ips -= ips
                self.ports -= ports
            if new is not None:
                self._claim(new)

    def free_ip(self, exclude: set[str]) -> str:
        with self.lock:
            hosts = SERVICE_CIDR.num_addresses - 2
            for step in range(hosts):
                index = (self._next_ip - 1 + step) % hosts + 1
                candidate = str(SERVICE_CIDR.network_address + index)
                if candidate not in self.ips and candidate not in exclude:
                    self._next_ip = index + 1
                    return candidate
        raise RuntimeError("the service IP range is exhausted")

    def free_port(self, exclude: set[int]) -> int:
        with self.lock:
            size = len(NODE_PORTS)
            for step in range(size):
                candidate = NODE_PORTS.start + (self._next_port - NODE_PORTS.start + step) % size
                if candidate not in self.ports and candidate not in exclude:
                    self._next_port = candidate + 1
                    return candidate
        raise RuntimeError("the nodePort range is exhausted")


def _taken(svc: dict[str, Any]) -> tuple[set[str], set[int]]:
    spec = svc.get("spec") or {}
    ips = {ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None"}
    ports = {p["nodePort"] for p in spec.get("ports") or [] if isinstance(p.get("nodePort"), int)}
    if isinstance(spec.get("healthCheckNodePort"), int):
        ports.add(spec["healthCheckNodePort"])
    return ips, ports


def _external(service_type: str) -> bool:
    return service_type in ("NodePort", "LoadBalancer")


def prepare_service(obj: dict[str, Any], old: dict[str, Any] | None, allocator: Allocator, *,
                    any_range: bool = False) -> list[dict[str, str]]:
    """Default and validate a Service in place (allocating addresses); returns 422 causes."""
    spec = obj.setdefault("spec", {})
    old_spec = (old or {}).get("spec") or {}
    causes: list[dict[str, str]] = []
    stype = spec.setdefault("type", "ClusterIP")
    if stype not in SERVICE_TYPES:
        return [cause("spec.type", f'Unsupported value: "{stype}": supported values: '
                      + ", ".join(f'"{t}"' for t in SERVICE_TYPES), "FieldValueNotSupported")]
    if stype == "ExternalName":
        if not spec.get("externalName"):
            causes.append(cause("spec.externalName", "Required value", "FieldValueRequired"))
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
        return causes
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    claimed: set[int] = set()
    causes += _ports(spec, old_spec, allocator, claimed, any_range)
    causes += _cluster_ip(spec, old_spec, allocator, any_range)
    if _external(stype):
        spec.setdefault("externalTrafficPolicy", "Cluster")
        if spec["externalTrafficPolicy"] not in ("Cluster", "Local"):
            causes.append(cause("spec.externalTrafficPolicy",
                                f'Unsupported value: "{spec["externalTrafficPolicy"]}": supported values: '
                                '"Cluster", "Local"', "FieldValueNotSupported"))
    elif spec.get("externalTrafficPolicy"):
        causes.append(cause("spec.externalTrafficPolicy", f'Invalid value: "{spec["externalTrafficPolicy"]}": '
                            "may only be set for externally-accessible services"))
    if stype == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
        if spec.get("externalTrafficPolicy") == "Local" and not spec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = old_spec.get("healthCheckNodePort") or allocator.free_port(claimed)
    else:
        spec.pop("healthCheckNodePort", None)
        spec.pop("allocateLoadBalancerNodePorts", None)
    obj.setdefault("status", {}).setdefault("loadBalancer", {})
    return causes


def _ports(spec: dict[str, Any], old_spec: dict[str, Any], allocator: Allocator,
           claimed: set[int], any_range: bool) -> list[dict[str, str]]:
    causes: list[dict[str, str]] = []
    ports = spec.get("ports")
    if not ports:
        return [cause("spec.ports", "Required value", "FieldValueRequired")]
    external = _external(spec["type"])
    old_node_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                      for p in old_spec.get("ports") or []}
    names: set[str] = set()
    for i, port in enumerate(ports):
        at = f"spec.ports[{i}]"
        port.setdefault("protocol", "TCP")
        if port["protocol"] not in PROTOCOLS:
            causes.append(cause(f"{at}.protocol", f'Unsupported value: "{port["protocol"]}": supported values: '
                                '"SCTP", "TCP", "UDP"', "FieldValueNotSupported"))
        number = port.get("port")
        if not isinstance(number, int) or not 1 <= number <= 65535:
            causes.append(cause(f"{at}.port", f"Invalid value: {number}: must be between 1 and 65535, inclusive"))
        port.setdefault("targetPort", number)
        name = port.get("name")
        if len(ports) > 1 and not name:
            causes.append(cause(f"{at}.name", "Required value", "FieldValueRequired"))
        elif name in names:
            causes.append(cause(f"{at}.name", f'Duplicate value: "{name}"', "FieldValueDuplicate"))
        names.add(name)
        if not external:
            port.pop("nodePort", None)
            continue
        wanted = port.get("nodePort")
        if not wanted:
            kept = old_node_ports.get((number, port["protocol"]))
            port["nodePort"] = kept or allocator.free_port(claimed)
        elif not isinstance(wanted, int) or not (wanted in NODE_PORTS or (any_range and 0 < wanted < 65536)):
            causes.append(cause(f"{at}.nodePort", f"Invalid value: {wanted}: provided port is not in the "
                                "valid range. The range of valid ports is 30000-32767"))
        elif (wanted in allocator.ports and wanted not in old_node_ports.values()) or wanted in claimed:
            causes.append(cause(f"{at}.nodePort", f"Invalid value: {wanted}: provided port is already allocated"))
        claimed.add(port.get("nodePort"))
    return causes


def _cluster_ip(spec: dict[str, Any], old_spec: dict[str, Any], allocator: Allocator,
                any_range: bool) -> list[dict[str, str]]:
    old_ip = old_spec.get("clusterIP")
    wanted = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
    if old_ip:
        if wanted and wanted != old_ip:
            return [cause("spec.clusterIPs[0]", f'Invalid value: ["{wanted}"]: may not change once set')]
        wanted = old_ip
    elif wanted and wanted != "None":
        try:
            address = ipaddress.ip_address(wanted)
        except ValueError:
            return [cause("spec.clusterIPs[0]", f'Invalid value: "{wanted}": must be a valid IP address')]
        if address not in SERVICE_CIDR and not any_range:
            return [cause("spec.clusterIPs[0]", f'Invalid value: "{wanted}": provided IP is not in the valid range. '
                          f"The range of valid IPs is {SERVICE_CIDR}")]
        if wanted in allocator.ips:
            return [cause("spec.clusterIPs[0]", f'Invalid value: "{wanted}": provided IP is already allocated')]
    if not wanted:
        wanted = allocator.free_ip(set())
    spec["clusterIP"] = wanted
    spec["clusterIPs"] = [wanted]
    if wanted != "None":
        spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    return []
