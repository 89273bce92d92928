"""Lint warnings for a NetworkPolicy draft: the mistakes that pass validation but hurt.

Each finding concerns the draft in the cluster as it is (a Snapshot): it selects no pods; a named
port no pod declares; it leaves the selected pods without DNS; it cuts the ingress controller off
from pods an Ingress routes to; it makes a generated isolation policy redundant; or it edits a
policy the isolation engine generates (and will put back). Findings are warnings: they never
block an apply, they make sure it is deliberate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from isolation.compiler.reconcile import is_ours
from isolation.compiler.tenancy import INGRESS_CONTROLLER_POD_PATTERNS, detect_ingress_namespaces
from isolation.netpol.describe import and_list
from isolation.netpol.model import EGRESS, INGRESS, Policy, PortSpec, parse_policy
from isolation.netpol.selectors import Selector, selector_text
from isolation.netpol.validation import default_network_policy
from isolation.reachability.engine import Cluster
from isolation.reachability.inventory import PodInfo, read_pods
from isolation.review.clusters import ChangeClusters, Side
from isolation.review.impact import with_policies
from isolation.snapshot import Snapshot
from isolation.text import gettext as _
from isolation.text import gettext_noop

DNS_POD_LABELS = {"k8s-app": "kube-dns"}
NODE_LOCAL_DNS_LABELS = {"k8s-app": "nodelocaldns"}
NODE_LOCAL_DNS_ADDRESS = "169.254.25.10"
# Pods checked one by one against DNS; selectors rarely tell more pods apart than this.
MAX_PODS_CHECKED = 50
_CONTROLLER_COMPONENT_KEYS = ("app.kubernetes.io/component", "component")


@dataclass(frozen=True)
class Finding:
    """One lint warning; `field` is the API field path it concerns ("" for the whole policy)."""

    code: str
    message: str
    field: str = ""
    severity: str = "warning"


def selected_pods(policy: Mapping[str, Any], snapshot: Snapshot) -> list[PodInfo]:
    """The running pods of the policy's namespace its podSelector selects (host-network pods
    are never selected), in snapshot order. `policy` must be valid."""
    return pods_selected_by(parse_policy(default_network_policy(dict(policy))),
                            read_pods(snapshot))


def pods_selected_by(policy: Policy, pods: Iterable[PodInfo]) -> list[PodInfo]:
    """`selected_pods` for a policy already parsed, over pods already read."""
    return [pod for pod in pods if pod.namespace == policy.namespace and not pod.host_network
            and policy.pod_selector.matches(pod.labels)]


def lint_policy(draft: Mapping[str, Any], snapshot: Snapshot, *,
                live: Mapping[str, Any] | None = None,
                clusters: ChangeClusters | None = None) -> list[Finding]:
    """Every lint finding for `draft` (a valid NetworkPolicy) replacing `live` in `snapshot`.

    Guarantees: findings come in a fixed order (generated, selects no pods, named ports, DNS,
    ingress controller, redundant isolation); never raises for a valid draft: when the cluster
    cannot be evaluated, one "info" finding says why and the reachability checks are skipped.
    `clusters` is `snapshot` before and with `draft` after, already read (a review reads them
    once for impact and lint); without it they are read here.
    """
    findings = _generated(draft, live)
    unread = None
    if clusters is None:
        try:
            clusters = ChangeClusters.of(snapshot, with_policies(snapshot, upsert=[dict(draft)]))
        except ValueError as exc:
            unread = exc
    meta = draft.get("metadata") or {}
    policy = clusters.after_policy(meta.get("namespace") or "default", meta.get("name") or "") \
        if clusters else None
    if policy is None:
        policy = parse_policy(default_network_policy(dict(draft)))
    pods = pods_selected_by(policy, clusters.after_side.pods) if clusters else \
        selected_pods(draft, snapshot)
    if not pods:
        findings.append(Finding(
            "selects-no-pods",
            _("Selects no pods: no running pod in {namespace} matches {selector}, so this policy "
              "has no effect until one does.", namespace=policy.namespace,
              selector=_selector_words(policy.pod_selector)), "spec.podSelector"))
    if clusters is None:
        reason = unread.args[0] if unread and len(unread.args) == 1 else str(unread)
        return [*findings, Finding("not-evaluated",
                                   _("Reachability checks skipped: {reason}", reason=reason),
                                   severity="info")]
    after, everyone = clusters.after, clusters.after_side.pods
    findings += _named_ports(policy, pods, after)
    if pods and policy.affects(EGRESS):
        findings += _dns(policy, pods, everyone, after)
    if pods and policy.affects(INGRESS):
        findings += _ingress_controller(pods, clusters.after_side.snapshot, everyone, after,
                                        clusters.after_declared)
    findings += _redundant_isolation(policy, clusters)
    return findings


def _selector_words(selector: Selector) -> str:
    if selector.is_empty:
        return _("the empty podSelector")
    return _("podSelector {selector}", selector=selector_text(selector))


def _generated(draft: Mapping[str, Any], live: Mapping[str, Any] | None) -> list[Finding]:
    name = (draft.get("metadata") or {}).get("name", "")
    namespace = (draft.get("metadata") or {}).get("namespace", "")
    if live is not None and is_ours(dict(live)):
        return [Finding(
            "generated-policy",
            _("{name} is generated by the isolation engine from the isolation settings of "
              "{namespace}: the engine will put it back as it was when it next reconciles. "
              "Change the project's isolation or its allowlist instead.", name=name,
              namespace=namespace), "metadata.name")]
    if live is None and is_ours(dict(draft)):
        return [Finding(
            "generated-labels",
            _("This policy carries the isolation engine's managed-by label and source "
              "annotation: the engine will take it for its own and delete or rewrite it. Remove "
              "them from a hand-written policy."), "metadata.labels")]
    return []


def _named_ports(policy: Policy, pods: list[PodInfo], cluster: Cluster) -> list[Finding]:
    findings = []
    for direction in (INGRESS, EGRESS):
        if not policy.affects(direction):
            continue
        for rule in policy.rules(direction):
            named = [p for p in rule.ports if isinstance(p.port, str)]
            if not named:
                continue
            if direction == INGRESS and not pods:
                continue  # "selects no pods" already says it
            targets = pods if direction == INGRESS else \
                _rule_destinations(policy, rule.peers, cluster)
            for port in named:
                if not any(_declares(pod, port) for pod in targets):
                    findings.append(Finding(
                        "unknown-named-port", _unknown_port_message(direction, port),
                        f"spec.{direction}[{rule.index}].ports[{port.index}].port"))
    return findings


def _unknown_port_message(direction: str, port: PortSpec) -> str:
    fields = {"protocol": port.protocol, "name": repr(port.port)}
    if direction == INGRESS:
        return _("No selected pod declares a {protocol} container port named {name}, so this "
                 "entry matches no traffic.", **fields)
    return _("No pod this rule lets them reach declares a {protocol} container port named "
             "{name}, so this entry matches no traffic.", **fields)


def _rule_destinations(policy: Policy, peers, cluster: Cluster) -> list[PodInfo]:
    if not peers:
        return list(cluster.pods)
    result = []
    for pod in cluster.pods:
        endpoint = cluster.endpoint(pod.key)
        if any(peer.ip_block is None and cluster.peer_matches(policy, peer, endpoint)
               for peer in peers):
            result.append(pod)
    return result


def _declares(pod: PodInfo, port: PortSpec) -> bool:
    return any(number for number, protocol in pod.named_ports().get(str(port.port), ())
               if protocol == port.protocol)


def _labelled(pods: Iterable[PodInfo], wanted: Mapping[str, str]) -> list[PodInfo]:
    return [pod for pod in pods if all(pod.labels.get(k) == v for k, v in wanted.items())]


def _dns(policy: Policy, pods: list[PodInfo], everyone: list[PodInfo],
         cluster: Cluster) -> list[Finding]:
    servers = [p.key for p in _labelled(cluster.pods, DNS_POD_LABELS)]
    # Node-local DNS runs on the host network: pods query its link-local address instead.
    if _labelled(everyone, NODE_LOCAL_DNS_LABELS):
        servers.append(NODE_LOCAL_DNS_ADDRESS)
    if not servers:
        if _allows_udp_53(policy):
            return []
        return [Finding(
            "blocks-dns",
            _("Blocks DNS egress: no egress rule allows UDP port 53, so the selected pods cannot "
              "resolve names (no DNS pods were found in the cluster to check against)."),
            "spec.egress" if policy.egress else "spec.policyTypes")]
    for pod in pods[:MAX_PODS_CHECKED]:
        if not any(cluster.check(pod.key, server, 53, "UDP").allowed for server in servers):
            shown = ", ".join(servers[:2]) + (" ..." if len(servers) > 2 else "")
            return [Finding(
                "blocks-dns",
                _("Blocks DNS egress: {pod} can no longer reach the cluster DNS ({servers}) on "
                  "UDP 53, so its name lookups will fail. Add an egress rule to pods labelled "
                  "k8s-app=kube-dns in project kube-system (and the node-local DNS address "
                  "{address} where it runs) on UDP and TCP 53.", pod=pod.key, servers=shown,
                  address=NODE_LOCAL_DNS_ADDRESS),
                "spec.egress" if policy.egress else "spec.policyTypes")]
    return []


def _allows_udp_53(policy: Policy) -> bool:
    for rule in policy.egress:
        if not rule.ports:
            return True
        for port in rule.ports:
            if port.protocol == "UDP" and (
                    port.port is None or port.port == 53
                    or (isinstance(port.port, int) and port.end_port is not None
                        and port.port <= 53 <= port.end_port)):
                return True
    return False


def _is_controller(labels: Mapping[str, str]) -> bool:
    for pattern in INGRESS_CONTROLLER_POD_PATTERNS:
        ok = True
        for key, wanted in pattern.items():
            if wanted is None:
                ok = ok and labels.get(key, "controller") == "controller"
            else:
                ok = ok and labels.get(key) == wanted
        if ok:
            return True
    return False


def _ingress_controller(pods: list[PodInfo], snapshot: Snapshot, everyone: list[PodInfo],
                        cluster: Cluster, declared: Cluster) -> list[Finding]:
    """`declared` answers as `cluster` for a port the backend declares (see ChangeClusters)."""
    namespaces = set(detect_ingress_namespaces(snapshot))
    in_namespaces = [p for p in everyone if p.namespace in namespaces]
    controllers = [p.key for p in in_namespaces if _is_controller(p.labels)] \
        or [p.key for p in in_namespaces]
    if not controllers:
        return []
    selected = {pod.key: pod for pod in pods}
    findings = []
    for ingress, backend, port in _ingress_backends(snapshot, everyone):
        if backend.key not in selected:
            continue
        try:
            engine = declared if _declares_target(backend, port) else cluster
            reachable = any(engine.check(c, backend.key, port, "TCP").allowed
                            for c in controllers)
        except ValueError:  # the backend pod lacks the named target port: nothing to cut
            continue
        if not reachable:
            findings.append(Finding(
                "blocks-ingress-controller",
                _("Blocks the ingress controller: Ingress {ingress} routes to {pod} on port "
                  "{port}, and no ingress controller pod ({namespaces}) can reach it any more. "
                  "Allow ingress from project {project} on that port.", ingress=ingress,
                  pod=backend.key, port=port, namespaces=", ".join(sorted(namespaces)),
                  project=sorted(namespaces)[0]), "spec.ingress"))
            break  # one example is enough to act on
    return findings


def _declares_target(pod: PodInfo, port: int | str) -> bool:
    """Whether `port` (a number or a name) is a TCP port `pod` declares."""
    if isinstance(port, str):
        return any(protocol == "TCP" for _, protocol in pod.named_ports().get(port, ()))
    return (port, "TCP") in pod.declared_ports()


def _ingress_backends(snapshot: Snapshot, pods: list[PodInfo]
                      ) -> Iterable[tuple[str, PodInfo, int | str]]:
    """(ingress, backend pod, target port) for every Service backend of every Ingress."""
    services = {(s.get("metadata", {}).get("namespace"), s.get("metadata", {}).get("name")): s
                for s in snapshot.services}
    for ingress in snapshot.ingresses:
        meta, spec = ingress.get("metadata") or {}, ingress.get("spec") or {}
        namespace = meta.get("namespace") or "default"
        backends = [spec.get("defaultBackend") or {}]
        for rule in spec.get("rules") or []:
            backends += [path.get("backend") or {}
                         for path in ((rule or {}).get("http") or {}).get("paths") or []]
        for backend in backends:
            ref = backend.get("service") or {}
            service = services.get((namespace, ref.get("name")))
            if not service:
                continue
            target = _target_port(service, ref.get("port") or {})
            selector = (service.get("spec") or {}).get("selector") or {}
            if target is None or not selector:
                continue
            for pod in pods:
                if pod.namespace == namespace and all(
                        pod.labels.get(k) == v for k, v in selector.items()):
                    yield f"{namespace}/{meta.get('name')}", pod, target


def _target_port(service: Mapping[str, Any], port: Mapping[str, Any]) -> int | str | None:
    for entry in (service.get("spec") or {}).get("ports") or []:
        if (port.get("number") is not None and entry.get("port") == port.get("number")) or \
                (port.get("name") and entry.get("name") == port.get("name")):
            return entry.get("targetPort") or entry.get("port")
    return None


def _redundant_isolation(policy: Policy, clusters: ChangeClusters) -> list[Finding]:
    own_key = (policy.namespace, policy.name)
    generated = [p for p in clusters.after_side.snapshot.network_policies if is_ours(p)
                 and (p.get("metadata") or {}).get("namespace") == policy.namespace
                 and (p["metadata"].get("namespace"), p["metadata"].get("name")) != own_key]
    findings = []
    verdicts: dict[tuple[int, str | None], list[list[bool]]] = {}
    for other in generated:
        key = (policy.namespace, other["metadata"]["name"])
        if _adds_nothing(clusters.after_side, key, verdicts) and \
                not _adds_nothing(clusters.before_side, key, verdicts):
            findings.append(Finding(
                "makes-isolation-redundant",
                _("Makes the generated isolation policy {name} redundant: with this policy every "
                  "connection it restricts in {namespace} is allowed anyway, so the project's "
                  "network isolation no longer keeps anything out.", name=key[1],
                  namespace=policy.namespace), "spec"))
    return findings


def _adds_nothing(side: Side, key: tuple[str, str],
                  verdicts: dict[tuple[int, str | None], list[list[bool]]]) -> bool:
    """Whether removing policy `key` from `side` changes no verdict to or from pods of its
    namespace (over declared ports); `verdicts` keeps those with every policy, per side."""
    namespace = key[0]
    local = [pod.key for pod in side.pods if pod.namespace == namespace and not pod.host_network]
    if not local:
        return False
    try:
        with_it = verdicts.get((id(side), None))
        if with_it is None:
            with_it = verdicts[(id(side), None)] = _local_verdicts(side.effective_cluster(), local)
        return with_it == _local_verdicts(side.effective_cluster(without=key), local)
    except ValueError:
        return False


def _local_verdicts(cluster: Cluster, local: list[str]) -> list[list[bool]]:
    """Every verdict to pods `local` (from every pod), then from them (to every pod)."""
    return [[c.allowed for c in cluster.matrix(sources=sources, destinations=destinations)
             .connections()] for sources, destinations in ((None, local), (local, None))]


# -- text that reads differently from what it is -----------------------------------------------

BIDI_CONTROLS: dict[str, str] = {
    "\u202a": gettext_noop("left-to-right embedding"),
    "\u202b": gettext_noop("right-to-left embedding"),
    "\u202c": gettext_noop("pop directional formatting"),
    "\u202d": gettext_noop("left-to-right override"),
    "\u202e": gettext_noop("right-to-left override"),
    "\u2066": gettext_noop("left-to-right isolate"),
    "\u2067": gettext_noop("right-to-left isolate"),
    "\u2068": gettext_noop("first strong isolate"),
    "\u2069": gettext_noop("pop directional isolate"),
    "\u200e": gettext_noop("left-to-right mark"),
    "\u200f": gettext_noop("right-to-left mark"),
}


@dataclass(frozen=True)
class BidiLine:
    """A line of a text holding bidirectional control characters (1-based line and column
    of the first one, and every distinct one in order of appearance)."""

    line: int
    column: int
    characters: tuple[str, ...]

    @property
    def message(self) -> str:
        return _("line {line} contains {characters} that can make text read differently from "
                 "what it is", line=self.line, characters=self._characters())

    @property
    def sentence(self) -> str:
        """`message` as a sentence of its own (capital letter, full stop)."""
        return _("Line {line} contains {characters} that can make text read differently from "
                 "what it is.", line=self.line, characters=self._characters())

    def _characters(self) -> str:
        return and_list([_("a {name} character ({code})", name=_(BIDI_CONTROLS[c]),
                           code=f"U+{ord(c):04X}") for c in self.characters])


def bidi_lines(text: str) -> list[BidiLine]:
    """The lines of `text` that hold bidirectional control characters (Trojan Source)."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        columns = [i for i, c in enumerate(line) if c in BIDI_CONTROLS]
        if columns:
            seen = tuple(dict.fromkeys(line[i] for i in columns))
            found.append(BidiLine(number, columns[0] + 1, seen))
    return found
