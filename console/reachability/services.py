"""The "can A reach B on port P" check of the Reachability page, scoped to the user.

A source is a pod ("namespace/pod"), a project (every pod of it) or an IP address; a
destination is a pod, a Service ("service:namespace/name": its selected pods, on the
targetPort its port maps to, since policies see traffic after DNAT) or an IP address. Every
verdict is explained per direction down to the policy, rule, peer and port that decided it.
Only the namespaces involved are read from the cluster, so a check stays fast on large ones.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.urls import NoReverseMatch, reverse

from cluster.errors import ClusterError
from console.core import cluster
from console.core.access import access_of
from console.core.cache import tenant_directory
from console.core.scope import Scope
from isolation import text as sentences
from isolation.reachability.engine import Cluster, InvalidPolicyError, RuleRef, Verdict
from isolation.reachability.inventory import InventoryError
from isolation.snapshot import Snapshot
from isolation.text import Text, join, ngettext
from isolation.text import gettext as _

PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_VERDICTS = 50          # pods of a project source × pods behind a Service, shown in full
MAX_SUGGESTIONS = 2000     # datalist entries; the fields accept any name typed in full
PER_NAMESPACE_LISTS = 10   # beyond this many namespaces one cluster-wide list is cheaper
# How the engine's denying reasons end when a rule nearly matched (shown on a line of its own).
NEAREST_MISS = ". Nearest miss: {nearest}."


class CheckInputError(ValueError):
    """A check the user asked for that cannot be answered; `field` names the form field and
    `message` (a sentence, `isolation.text`) says why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def scope_for(request) -> Scope:
    """The signed-in user's scope over the cluster (raises ClusterError)."""
    directory = tenant_directory(cluster.model_version())
    return Scope.of(access_of(request), directory.namespaces, directory.workspace_of,
                    directory.workspaces)


def grid_is_current(grid: dict[str, Any], version: str) -> bool:
    """Whether a matrix grid was computed from a snapshot read after the cluster `version`
    was first seen (so it shows that state or a later one). Errs towards "no": a grid of
    unknown age, or one begun before that moment, is not current."""
    try:
        started = (datetime.fromisoformat(grid["computed_at"]).timestamp()
                   - float(grid.get("seconds") or 0))
    except (KeyError, TypeError, ValueError):
        return False
    return started >= cluster.version_seen_at(version)


def policy_url(key: str) -> str:
    """The policy detail page of "namespace/name"."""
    namespace, _sep, name = key.partition("/")
    try:
        return reverse("policy_detail", args=[namespace, name])
    except NoReverseMatch:
        return f"/policies/{namespace}/{name}/"


# -- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndRef:
    """One end as the user named it: kind pod / project / service / ip."""

    kind: str
    namespace: str = ""
    name: str = ""
    ip: str = ""

    @property
    def text(self) -> str:
        if self.kind == "ip":
            return self.ip
        if self.kind == "project":
            return _("project {name}", name=self.namespace)
        if self.kind == "service":
            return _("Service {service}", service=f"{self.namespace}/{self.name}")
        return f"{self.namespace}/{self.name}"


def parse_end(value: str, field_name: str, *, source: bool) -> EndRef:
    """Read a source or destination as typed (CheckInputError when it is neither)."""
    text = (value or "").strip()
    if not text:
        raise CheckInputError(field_name, _("Enter a pod (namespace/pod), a project or an IP "
                                            "address.") if source else
                              _("Enter a pod (namespace/pod), a Service "
                                "(service:namespace/name) or an IP address."))
    try:
        return EndRef("ip", ip=str(ipaddress.ip_address(text)))
    except ValueError:
        pass
    kind, _sep, rest = text.partition(":")
    if rest and kind.lower() in ("service", "svc") and not source:
        namespace, _sep, name = rest.strip().partition("/")
        if namespace and name and "/" not in name:
            return EndRef("service", namespace, name)
    elif rest and kind.lower() == "project" and source:
        return EndRef("project", rest.strip())
    elif not rest:
        namespace, slash, name = text.partition("/")
        if slash and namespace and name and "/" not in name:
            return EndRef("pod", namespace, name)
        if not slash and source:
            return EndRef("project", text)
    if source:
        raise CheckInputError(field_name, _("{value} is not namespace/pod, a project name or "
                                            "an IP address.", value=repr(text)))
    raise CheckInputError(field_name, _("{value} is not namespace/pod, service:namespace/name "
                                        "or an IP address.", value=repr(text)))


def parse_port(value: str) -> int | str:
    """A port number (1-65535) or a port name (CheckInputError otherwise)."""
    text = (value or "").strip()
    if not text:
        raise CheckInputError("port", _("Enter a port number or name."))
    if text.isdigit():
        number = int(text)
        if not 1 <= number <= 65535:
            raise CheckInputError("port", _("Port {port} is not between 1 and 65535.",
                                            port=number))
        return number
    if len(text) > 15 or not all(c.isalnum() or c == "-" for c in text):
        raise CheckInputError("port", _("{value} is neither a port number nor a port name.",
                                        value=repr(text)))
    return text.lower()


def parse_protocol(value: str) -> str:
    protocol = (value or "TCP").strip().upper()
    if protocol not in PROTOCOLS:
        raise CheckInputError("protocol", _("Protocol must be one of {protocols}.",
                                            protocols=", ".join(PROTOCOLS)))
    return protocol


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decider:
    """One rule that allowed the traffic, as a row with a link to its policy."""

    policy: str
    url: str
    where: str   # e.g. spec.ingress[0] · from[1] · ports[0]

    @classmethod
    def of(cls, ref: RuleRef) -> Decider:
        peers = "from" if ref.direction == "ingress" else "to"
        parts: list[str] = [f"spec.{ref.direction}[{ref.rule_index}]"]
        if ref.peer_index is not None:
            parts.append(f"{peers}[{ref.peer_index}]")
        else:
            parts.append(_("any source") if peers == "from" else _("any destination"))
        parts.append(f"ports[{ref.port_index}]" if ref.port_index is not None
                     else _("any port"))
        return cls(ref.policy, policy_url(ref.policy), join(parts, " · "))


@dataclass(frozen=True)
class Side:
    """One direction of a verdict, ready for the page."""

    title: str
    applies: bool
    isolated: bool
    allowed: bool
    reason: str
    selecting: list[tuple[str, str]]   # (policy, url)
    deciders: list[Decider]
    nearest_miss: str | None


@dataclass(frozen=True)
class Explained:
    """One verdict: src pod/IP → dst pod/IP on a port, with both sides explained."""

    allowed: bool
    src: str
    dst: str
    port: int
    protocol: str
    sentence: str
    egress: Side
    ingress: Side

    @property
    def sides(self) -> list[Side]:
        return [self.egress, self.ingress]


@dataclass
class CheckResult:
    """The answer to one check: a verdict per (source pod, destination pod) pair."""

    source: EndRef
    destination: EndRef
    port: int | str
    protocol: str
    verdicts: list[Explained] = field(default_factory=list)
    total: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def allowed_count(self) -> int:
        return sum(1 for v in self.verdicts if v.allowed)

    @property
    def outcome(self) -> str:
        """allowed (every pair), denied (none) or partly."""
        if self.verdicts and all(v.allowed for v in self.verdicts):
            return "allowed"
        if not any(v.allowed for v in self.verdicts):
            return "denied"
        return "partly"


def _side(verdict_side, title: str, scope: Scope) -> Side:
    # The nearest miss is shown on its own line, so the reason stops before it.
    reason = _before_nearest_miss(verdict_side.reason)
    return Side(
        title=title, applies=verdict_side.applies, isolated=verdict_side.isolated,
        allowed=verdict_side.allowed, reason=scope.redact(reason),
        selecting=[(key, policy_url(key)) for key in verdict_side.selecting],
        deciders=[Decider.of(ref) for ref in verdict_side.matched],
        nearest_miss=scope.redact(verdict_side.nearest_miss) if verdict_side.nearest_miss
        else None,
    )


def _before_nearest_miss(reason: str) -> str:
    """`reason` without its "Nearest miss: …"; a sentence of the engine stays one (said in the
    reader's language), the one it says when no rule nearly matched."""
    if isinstance(reason, Text):
        return sentences.load(_without_nearest_miss(sentences.dump(reason)))
    return reason.split(" Nearest miss: ")[0]


def _without_nearest_miss(said: Any) -> Any:
    """A kept sentence (`isolation.text.dump`) without its nearest miss, looked for in the
    sentences said one after another (`isolation.text.join`) too."""
    if not sentences.is_dumped(said):
        return said
    if "plural" not in said and said["msgid"].endswith(NEAREST_MISS):
        said = {**said, "msgid": said["msgid"][:-len(NEAREST_MISS)] + "."}
    if said.get("joined") and said.get("fields"):
        said = {**said, "fields": {name: _without_nearest_miss(part)
                                   for name, part in said["fields"].items()}}
    return said


def _summary(verdict: Verdict) -> Text:
    """One sentence: the outcome and which side decided it (each side explains itself)."""
    fields = {"connection": _("{source} → {destination} on {port}/{protocol}",
                              source=verdict.src.name, destination=verdict.dst.name,
                              port=verdict.port, protocol=verdict.protocol)}
    egress, ingress = verdict.egress, verdict.ingress
    if not verdict.allowed:
        if not egress.allowed and not ingress.allowed:
            return _("{connection} is denied by egress at the source and ingress at the "
                     "destination.", **fields)
        if not egress.allowed:
            return _("{connection} is denied by egress at the source.", **fields)
        return _("{connection} is denied by ingress at the destination.", **fields)
    if egress.applies and ingress.applies:
        return _("{connection} is allowed: egress at the source and ingress at the destination "
                 "both allow it.", **fields)
    if egress.applies:
        return _("{connection} is allowed: egress at the source allows it, and the other end "
                 "is not a pod, so no policy applies there.", **fields)
    if ingress.applies:
        return _("{connection} is allowed: ingress at the destination allows it, and the "
                 "other end is not a pod, so no policy applies there.", **fields)
    return _("{connection} is allowed.", **fields)


def explained(verdict: Verdict, scope: Scope) -> Explained:
    """A Verdict as the page shows it (text outside `scope` redacted)."""
    return Explained(
        allowed=verdict.allowed, src=verdict.src.name, dst=verdict.dst.name,
        port=verdict.port, protocol=verdict.protocol, sentence=_summary(verdict),
        egress=_side(verdict.egress, _("Egress at the source"), scope),
        ingress=_side(verdict.ingress, _("Ingress at the destination"), scope),
    )


# -- the check ----------------------------------------------------------------------------


def check(scope: Scope, source: str, destination: str, port: str, protocol: str = "TCP"
          ) -> CheckResult:
    """Answer "can `source` reach `destination` on `port`/`protocol`" within `scope`.

    Raises CheckInputError (with the field to mark) for input that names nothing the user
    may see, and ClusterError when the cluster cannot be read. Guarantees: every pod named in
    the result is inside `scope`; a Service destination is checked on each selected pod at
    the targetPort its port maps to.
    """
    src = parse_end(source, "source", source=True)
    dst = parse_end(destination, "destination", source=False)
    wanted_port = parse_port(port)
    proto = parse_protocol(protocol)
    for end, name in ((src, "source"), (dst, "destination")):
        if end.kind != "ip" and not scope.sees(end.namespace):
            raise CheckInputError(name, _unknown(end))
    gw = cluster.gateway()
    namespaces = {end.namespace for end in (src, dst) if end.kind != "ip"}
    for end, name in ((src, "source"), (dst, "destination")):
        if end.kind == "ip":
            owner = _pod_namespace_of_ip(gw, end.ip)
            if owner and not scope.sees(owner):
                raise CheckInputError(name, _("{address} is the address of a pod outside "
                                              "your projects; name a pod of yours or an "
                                              "address outside the pod network.",
                                              address=end.ip))
            if owner:
                namespaces.add(owner)
    snapshot = gw.snapshot(namespaces=sorted(namespaces))
    engine = engine_of(snapshot)
    sources = _source_refs(engine, src)
    targets, number, notes = _destination_refs(engine, snapshot, dst, wanted_port, proto)
    result = CheckResult(src, dst, wanted_port if number is None else number, proto, notes=notes)
    result.total = len(sources) * len(targets)
    for s in sources:
        for t in targets:
            if s == t:
                continue
            if len(result.verdicts) >= MAX_VERDICTS:
                break
            try:
                verdict = engine.check(s, t, number if number is not None else wanted_port,
                                       proto)
            except ValueError as exc:
                raise CheckInputError("port", exc.args[0] if exc.args else str(exc)) from exc
            result.verdicts.append(explained(verdict, scope))
    if result.total > MAX_VERDICTS:
        result.notes.append(_("Showing the first {shown} of {total} connections.",
                              shown=MAX_VERDICTS, total=result.total))
    return result


def _unknown(end: EndRef) -> Text:
    if end.kind == "project":
        return _("There is no project {project} among yours.", project=end.namespace)
    ref = f"{end.namespace}/{end.name}"
    if end.kind == "service":
        return _("There is no Service {service} in your projects.", service=ref)
    return _("There is no pod {pod} in your projects.", pod=ref)


def _pod_namespace_of_ip(gw, ip: str) -> str | None:
    pods = gw.list_objects("Pod", field_selector=f"status.podIP={ip}")
    live = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and not (p.get("spec") or {}).get("hostNetwork")]
    return (live[0].get("metadata") or {}).get("namespace") if live else None


def engine_of(snapshot: Snapshot) -> Cluster:
    """The reachability engine over `snapshot`; an object it cannot read is a ClusterError."""
    try:
        return Cluster.from_snapshot(snapshot)
    except InvalidPolicyError as exc:
        raise ClusterError(_("The cluster holds a NetworkPolicy the engine cannot evaluate: "
                             "{error}", error=_error(exc))) from exc
    except InventoryError as exc:
        raise ClusterError(_("The cluster holds an object the engine cannot read: {error}",
                             error=_error(exc))) from exc


def _error(exc: Exception) -> str:
    """What `exc` says (a sentence stays one)."""
    return exc.args[0] if exc.args else str(exc)


def _source_refs(engine: Cluster, src: EndRef) -> list[str]:
    if src.kind == "ip":
        return [src.ip]
    if src.kind == "project":
        pods = sorted(p.key for p in engine.pods if p.namespace == src.namespace)
        if not pods:
            raise CheckInputError("source", _("Project {project} has no running pods.",
                                              project=src.namespace))
        return pods
    key = f"{src.namespace}/{src.name}"
    try:
        engine.pod(key)
    except KeyError:
        raise CheckInputError("source", _unknown(src)) from None
    return [key]


def _destination_refs(engine: Cluster, snapshot: Snapshot, dst: EndRef, port: int | str,
                      protocol: str) -> tuple[list[str], int | str | None, list[str]]:
    """Destination endpoints, and the port to check when a Service maps it (else None)."""
    if dst.kind == "ip":
        return [dst.ip], None, []
    if dst.kind == "pod":
        key = f"{dst.namespace}/{dst.name}"
        try:
            engine.pod(key)
        except KeyError:
            raise CheckInputError("destination", _unknown(dst)) from None
        return [key], None, []
    service = next((s for s in snapshot.services
                    if (s.get("metadata") or {}).get("namespace") == dst.namespace
                    and (s.get("metadata") or {}).get("name") == dst.name), None)
    if service is None:
        raise CheckInputError("destination", _unknown(dst))
    spec = service.get("spec") or {}
    selector = spec.get("selector") or {}
    service_ref = f"{dst.namespace}/{dst.name}"
    if not selector:
        raise CheckInputError("destination", _("Service {service} has no selector: its "
                                               "endpoints are not pods the console can check.",
                                               service=service_ref))
    target = _target_port(spec.get("ports") or [], port, protocol, dst)
    pods = sorted(p.key for p in engine.pods if p.namespace == dst.namespace
                  and all(p.labels.get(k) == v for k, v in selector.items()))
    if not pods:
        raise CheckInputError("destination", _("Service {service} selects no running pods.",
                                               service=service_ref))
    notes = [ngettext("Service {service} port {port}/{protocol} forwards to targetPort "
                      "{target} on {count} pod; policies see the traffic after this "
                      "translation.",
                      "Service {service} port {port}/{protocol} forwards to targetPort "
                      "{target} on {count} pods; policies see the traffic after this "
                      "translation.", len(pods), service=service_ref, port=port,
                      protocol=protocol, target=target, count=len(pods))]
    return pods, target, notes


def _target_port(ports: list[dict[str, Any]], port: int | str, protocol: str,
                 dst: EndRef) -> int | str:
    for entry in ports:
        if (entry.get("protocol") or "TCP") != protocol:
            continue
        if port in (entry.get("port"), entry.get("name")):
            target = entry.get("targetPort", entry.get("port"))
            return int(target) if isinstance(target, int) or str(target).isdigit() else target
    offered = ", ".join(f"{p.get('port')}/{p.get('protocol') or 'TCP'}"
                        + (f" ({p['name']})" if p.get("name") else "") for p in ports)
    raise CheckInputError("port", _("Service {service} has no {protocol} port {port}; its "
                                    "ports are {ports}.", service=f"{dst.namespace}/{dst.name}",
                                    protocol=protocol, port=port,
                                    ports=offered or _("none")))


# -- suggestions --------------------------------------------------------------------------


def suggestions(scope: Scope) -> dict[str, list[str]]:
    """Values for the From/To fields' lists: projects, pods and Services in scope."""
    gw = cluster.gateway()
    namespaces = sorted(n for n in scope.known if scope.sees(n))
    if scope.everything or len(namespaces) > PER_NAMESPACE_LISTS:
        pods, services = gw.list_objects("Pod"), gw.list_objects("Service")
    else:
        pods = [o for n in namespaces for o in gw.list_objects("Pod", n)]
        services = [o for n in namespaces for o in gw.list_objects("Service", n)]
    pod_refs = sorted(_ref(p) for p in pods if scope.sees(_ref(p).split("/", 1)[0])
                      and not (p.get("spec") or {}).get("hostNetwork"))
    service_refs = sorted("service:" + _ref(s) for s in services
                          if scope.sees(_ref(s).split("/", 1)[0]))
    projects = sorted({ref.split("/", 1)[0] for ref in pod_refs})
    return {"sources": (projects + pod_refs)[:MAX_SUGGESTIONS],
            "destinations": (service_refs + pod_refs)[:MAX_SUGGESTIONS]}


def _ref(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return f"{metadata.get('namespace')}/{metadata.get('name')}"
