"""The policy kinds the Network Policies pages show: Kubernetes NetworkPolicies, Calico's
NetworkPolicy, GlobalNetworkPolicy and Tier, and the AdminNetworkPolicy and the
BaselineAdminNetworkPolicy.

Each kind is named on the pages by a short label and in URLs by its API group and plural
(`projectcalico.org/globalnetworkpolicies`), never by its kind alone: a Calico NetworkPolicy is
not a networking.k8s.io one. This module reads objects into what the pages show of them (the
evaluation position, the actions, the pods selected, the sentences) and checks drafts with the
kinds' own validation; it holds no Django views.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from cluster.errors import MissingCRDError
from isolation.adminnetpol import describe as anp_describe
from isolation.adminnetpol.model import parse_admin_policy
from isolation.adminnetpol.validation import (
    default_admin_policy,
    unknown_fields,
    validate_admin_policy,
)
from isolation.calico import describe as calico_describe
from isolation.calico.endpoint import Endpoint
from isolation.calico.model import (
    BUILT_IN_TIERS,
    DEFAULT_TIER,
    DEFAULT_TIER_ORDER,
    parse_policy,
    parse_tier,
)
from isolation.calico.validation import default_calico_policy, validate_object
from isolation.fielderrors import UNKNOWN_FIELD, FieldIssue
from isolation.snapshot import KIND_FIELDS, NAME_LABEL, Snapshot

NETPOL, CALICO_NP, CALICO_GNP, ANP, BANP, TIER = (
    "netpol", "calico-np", "calico-gnp", "anp", "banp", "tier")
CALICO_GROUP = "projectcalico.org"
CALICO_WRITE_VERSION = "crd.projectcalico.org/v1"


@dataclass(frozen=True)
class PolicyKind:
    """One kind the pages handle: `slug` is its filter value, `group`/`plural` its URL."""

    slug: str
    kind: str               # the object's `kind`
    key: str                # its name in cluster.kinds (and the Snapshot)
    group: str              # the API group the URL names
    plural: str
    label: Any              # the badge's short, translated label
    namespaced: bool
    api_versions: tuple[str, ...]   # accepted in drafts; the first is the one written

    @property
    def write_version(self) -> str:
        return self.api_versions[0]

    @property
    def is_calico(self) -> bool:
        return self.group == CALICO_GROUP

    @property
    def is_admin(self) -> bool:
        return self.slug in (ANP, BANP)

    @property
    def policy(self) -> bool:
        """Whether objects of the kind select pods (a Tier does not)."""
        return self.slug != TIER


KINDS: dict[str, PolicyKind] = {k.slug: k for k in (
    PolicyKind(NETPOL, "NetworkPolicy", "NetworkPolicy", "networking.k8s.io", "networkpolicies",
               _("NetworkPolicy"), True, ("networking.k8s.io/v1",)),
    PolicyKind(CALICO_NP, "NetworkPolicy", "CalicoNetworkPolicy", CALICO_GROUP,
               "networkpolicies", _("Calico NP"), True, (CALICO_WRITE_VERSION,)),
    PolicyKind(CALICO_GNP, "GlobalNetworkPolicy", "GlobalNetworkPolicy", CALICO_GROUP,
               "globalnetworkpolicies", _("Calico GNP"), False, (CALICO_WRITE_VERSION,)),
    PolicyKind(ANP, "AdminNetworkPolicy", "AdminNetworkPolicy", "policy.networking.k8s.io",
               "adminnetworkpolicies", _("ANP"), False, ("policy.networking.k8s.io/v1alpha1",)),
    PolicyKind(BANP, "BaselineAdminNetworkPolicy", "BaselineAdminNetworkPolicy",
               "policy.networking.k8s.io", "baselineadminnetworkpolicies", _("BANP"), False,
               ("policy.networking.k8s.io/v1alpha1",)),
    PolicyKind(TIER, "Tier", "Tier", CALICO_GROUP, "tiers", _("Tier"), False,
               (CALICO_WRITE_VERSION,)),
)}
OTHER_KINDS = tuple(k for k in KINDS.values() if k.slug != NETPOL)
BY_URL: dict[tuple[str, str], PolicyKind] = {(k.group, k.plural): k for k in KINDS.values()}


def supported_text() -> str:
    """The kinds a draft may be, as the editor's messages name them."""
    return ("NetworkPolicy (networking.k8s.io/v1); NetworkPolicy, GlobalNetworkPolicy and Tier "
            f"(Calico, {CALICO_WRITE_VERSION}); AdminNetworkPolicy and "
            "BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1)")


def kind_of_draft(obj: Mapping[str, Any]) -> PolicyKind | None:
    """The kind a draft is, by apiVersion and kind (None when the pages do not take it)."""
    version, kind = obj.get("apiVersion"), obj.get("kind")
    return next((k for k in KINDS.values() if k.kind == kind and version in k.api_versions),
                None)


def kind_by_url(group: str, plural: str) -> PolicyKind | None:
    return BY_URL.get((group, plural))


# -- reading objects -----------------------------------------------------------------------------


def list_kind(gw, kind: PolicyKind) -> list[dict[str, Any]]:
    """Every object of `kind`; none when its CRD is not installed."""
    try:
        return gw.list_objects(kind.key)
    except MissingCRDError:
        return []


def object_issues(kind: PolicyKind, obj: Any, known_tiers: Iterable[str] = ()
                  ) -> tuple[list[FieldIssue], list[FieldIssue]]:
    """(schema issues: unknown fields and wrong types, validation issues) of a draft of
    `kind` (not a NetworkPolicy: those go through isolation.netpol.problems)."""
    if kind.is_admin:
        schema = unknown_fields(obj) if isinstance(obj, dict) else []
        if schema:
            return schema, []
        return [], validate_admin_policy(obj)
    issues = validate_object(obj, known_tiers)
    schema = [i for i in issues if i.reason == UNKNOWN_FIELD or i.reason == "FieldValueTypeInvalid"]
    return schema, [i for i in issues if i not in schema]


@dataclass(frozen=True)
class Facts:
    """What the list and the detail page show of one object of a kind other than a
    Kubernetes NetworkPolicy."""

    tier: str = ""
    order: str = ""          # the Calico order or the ANP priority, as written ("" when none)
    actions: tuple[str, ...] = ()    # ("Deny egress", "Pass egress")
    directions: tuple[str, ...] = ()
    position: str = ""       # where it runs relative to the project policies
    subject: str = ""
    sentences: tuple[tuple[str, str], ...] = ()   # (field path, sentence)
    host_only: bool = False
    error: str = ""


def facts(kind: PolicyKind, obj: Mapping[str, Any],
          tiers: Mapping[str, Mapping[str, Any]] | None = None) -> Facts:
    """The facts of an object; an object its kind's validation refuses gets `error` instead
    of sentences (the API server stores only valid objects; stay safe all the same)."""
    try:
        if kind.slug == TIER:
            return _tier_facts(obj)
        if kind.is_admin:
            return _admin_facts(obj)
        return _calico_facts(obj, tiers or {})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return Facts(error=f"{exc.__class__.__name__}: {exc}")


# The actions a policy's badges show, kept in English (the list's index is shared by every
# user) and translated where the pages show them.
ACTION_LABELS = (
    gettext_noop("Allow ingress"), gettext_noop("Allow egress"), gettext_noop("Deny ingress"),
    gettext_noop("Deny egress"), gettext_noop("Pass ingress"), gettext_noop("Pass egress"),
    gettext_noop("Log ingress"), gettext_noop("Log egress"), gettext_noop("Deny at end of tier"),
    gettext_noop("Pass at end of tier"))


def _actions(rules: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    seen: list[str] = []
    for action, direction in rules:
        text = f"{action} {direction.lower()}"
        if text not in seen:
            seen.append(text)
    return tuple(seen)


def _admin_facts(obj: Mapping[str, Any]) -> Facts:
    if validate_admin_policy(dict(obj)):
        return Facts(error=str(validate_admin_policy(dict(obj))[0]))
    model = parse_admin_policy(default_admin_policy(dict(obj)))
    text = anp_describe.describe_admin_policy(model)
    rules = (*text.ingress, *text.egress)
    position = (str(_("before every project policy, in priority order (lower first)"))
                if model.priority is not None else
                str(_("after every project policy: only for pods no project policy selects")))
    return Facts(
        order="" if model.priority is None else str(model.priority),
        actions=_actions((r.action, r.direction) for r in rules),
        directions=tuple(d for d, rs in (("Ingress", text.ingress), ("Egress", text.egress))
                         if rs),
        position=position, subject=text.subject,
        sentences=tuple((r.field, r.sentence) for r in rules))


def _calico_facts(obj: Mapping[str, Any], tiers: Mapping[str, Mapping[str, Any]]) -> Facts:
    model = parse_policy(default_calico_policy(obj))
    tier_obj = tiers.get(model.tier)
    tier = parse_tier(tier_obj) if tier_obj else BUILT_IN_TIERS.get(model.tier)
    text = calico_describe.describe_policy(model, tier)
    order = (obj.get("spec") or {}).get("order")
    return Facts(
        tier=model.tier, order="" if order is None else _number(order),
        actions=_actions((r.action, r.direction) for r in text.rules),
        directions=tuple(d.capitalize() for d in text.directions), position=text.position,
        subject=text.subject,
        sentences=tuple((r.field, r.whole_sentence) for r in text.rules),
        host_only=text.host_only)


def _tier_facts(obj: Mapping[str, Any]) -> Facts:
    tier = parse_tier(obj)
    order = "" if tier.order is None else _number(tier.order)
    if tier.order is not None and tier.order < DEFAULT_TIER_ORDER:
        position = str(_("before the project policies (the default tier)"))
    elif tier.name == DEFAULT_TIER:
        position = str(_("the project policies' own tier"))
    else:
        position = str(_("after the project policies (the default tier)"))
    return Facts(order=order, actions=(f"{tier.default_action} at end of tier",),
                 position=position)


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


# -- what a policy selects -----------------------------------------------------------------------


def namespace_labels_of(namespaces: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Each namespace's labels, with its name label (as the engines see them)."""
    result = {}
    for ns in namespaces:
        meta = ns.get("metadata") or {}
        labels = dict(meta.get("labels") or {})
        labels.setdefault(NAME_LABEL, meta.get("name", ""))
        result[meta.get("name", "")] = labels
    return result


class Selection:
    """Which namespaces and pods a cluster-scoped policy (or a Calico NetworkPolicy) applies
    to: a predicate over (namespace, its labels, pod labels)."""

    def __init__(self, kind: PolicyKind, obj: Mapping[str, Any]) -> None:
        self.kind = kind
        if kind.is_admin:
            self._admin = parse_admin_policy(default_admin_policy(dict(obj))).subject
            self._calico = None
        else:
            self._admin = None
            self._calico = parse_policy(default_calico_policy(obj))

    def namespace_matches(self, namespace: str, labels: Mapping[str, str]) -> bool:
        if self._admin is not None:
            return self._admin.namespace_selector.matches(labels)
        policy = self._calico
        if policy.namespace is not None:
            return policy.namespace == namespace
        endpoint = Endpoint.pod(namespace, {}, namespace_labels=labels)
        return policy.namespace_selector is None or policy.namespace_selector.matches(
            dict(endpoint.namespace_labels_full()))

    def pod_matches(self, namespace: str, ns_labels: Mapping[str, str],
                    pod_labels: Mapping[str, str]) -> bool:
        if self._admin is not None:
            return self._admin.matches(ns_labels, pod_labels)
        return self._calico.selects(Endpoint.pod(namespace, pod_labels,
                                                 namespace_labels=ns_labels))


def selection(kind: PolicyKind, obj: Mapping[str, Any]) -> Selection | None:
    """The Selection of a policy object (None for a Tier or an object that cannot be read)."""
    if not kind.policy or kind.slug == NETPOL:
        return None
    try:
        return Selection(kind, obj)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def selected(sel: Selection | None, labels_of: Mapping[str, Mapping[str, str]], pods
             ) -> tuple[frozenset[str], list]:
    """(the namespaces `sel` applies to, the running pods it selects) over `labels_of` and
    `pods` (PodInfo; pods on the host network are never selected)."""
    if sel is None:
        return frozenset(), []
    namespaces = frozenset(ns for ns, labels in labels_of.items()
                           if sel.namespace_matches(ns, labels))
    chosen = [pod for pod in pods if not pod.host_network and pod.namespace in namespaces
              and sel.pod_matches(pod.namespace, labels_of.get(pod.namespace, {}), pod.labels)]
    return namespaces, chosen


# -- snapshots with a change applied -------------------------------------------------------------


def _key_of(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


def with_object(snapshot, kind: PolicyKind, *, upsert: Mapping[str, Any] | None = None,
                remove: tuple[str, str] | None = None):
    """A copy of `snapshot` with one object of `kind` created or replaced (`upsert`) or
    deleted (`remove`: namespace, "" when cluster-wide, and name); the rest shared."""
    attr = KIND_FIELDS[kind.key]
    copy = Snapshot(**{a: list(getattr(snapshot, a)) for a in KIND_FIELDS.values()})
    copy.ignored = list(snapshot.ignored)
    gone = _key_of(upsert) if upsert is not None else remove
    if not kind.namespaced and gone is not None:
        gone = ("", gone[1])
    kept = [o for o in getattr(copy, attr)
            if (_key_of(o) if kind.namespaced else ("", _key_of(o)[1])) != gone]
    setattr(copy, attr, kept + ([dict(upsert)] if upsert is not None else []))
    return copy


