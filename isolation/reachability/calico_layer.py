"""Calico tiers as policy layers (see `layers`): one layer per tier, in Calico's order.

Semantics are `isolation.calico.evaluate`'s (Calico's tiered policy: tiers by `order`, ties by
name; within a tier policies by `order`, then name; the first matching Allow or Deny rule is
final, Pass leaves the tier, Log goes on; an endpoint some policy of the tier selects for the
direction gets the end-of-tier deny for what no rule matched, unless the tier's
`defaultAction` is Pass; what leaves the last tier meets the namespace profile: allowed).

Under Calico a Kubernetes NetworkPolicy is a default-tier policy of order 1000
(`isolation.calico.kubernetes`), so the default tier's layer replaces the NetworkPolicy layer:
a Calico policy of lower order decides before the Kubernetes policies, one of higher order
after them, and the end-of-tier deny is the Kubernetes "isolated, nothing matched" deny. The
AdminNetworkPolicy layer sits where Calico puts its `kube-admin` tier (order 1,000) and the
BaselineAdminNetworkPolicy where it puts `kube-baseline` (order 10,000,000)
(https://docs.tigera.io/calico/latest/reference/resources/tier).

In the matrix a tier is decided by label class: which policies select a class, and which
classes a rule's `source` / `destination` match, are computed once per class
(`calico_classes`: selectors over the classes' label values, `nets` through
`ClassSpace.in_block`), and the first-match walk (`calico_walk`) runs over groups of rows the
tier's policies cannot tell apart. One connection is decided and explained by
`calico_decide`. A pod's service account (its name
and the ServiceAccount's labels) splits classes only when a policy of the tier reads it
(`reads_service_accounts`): `serviceAccountSelector`, a rule's `serviceAccounts`, or a selector
over `projectcalico.org/serviceaccount` or the `pcsa.` labels.
"""

from __future__ import annotations

from isolation.calico import model as cm
from isolation.calico.evaluate import CalicoPolicySet, TierPolicies
from isolation.netpol.model import NamedPorts
from isolation.reachability.calico_classes import class_inputs, reads_service_accounts
from isolation.reachability.calico_decide import (
    CALICO_NETWORK_POLICY_KIND,
    CALICO_TIER_KIND,
    KIND_NAMES,
    calico_endpoint,
    decide_in_tier,
    kubernetes_key,
    policy_ref,
)
from isolation.reachability.calico_walk import evaluate_tier
from isolation.reachability.inventory import Endpoint, PodInfo
from isolation.reachability.layers import (
    ClassBlock,
    ClassInputs,
    ClassSpace,
    LayerDecision,
    LayerView,
    PolicyLayer,
)
from isolation.reachability.netpol_layer import NetworkPolicyLayer

__all__ = ["CALICO_NETWORK_POLICY_KIND", "CALICO_TIER_KIND", "KIND_NAMES", "CalicoTierLayer",
           "calico_endpoint", "calico_layers", "kubernetes_key", "policy_ref"]


def calico_layers(calico: CalicoPolicySet, network_policy_layer: NetworkPolicyLayer,
                  admin: PolicyLayer | None = None,
                  baseline: PolicyLayer | None = None) -> list[PolicyLayer]:
    """The layer order under Calico: its tiers by order (the default tier, holding the
    Kubernetes NetworkPolicies, always), the AdminNetworkPolicy layer as the `kube-admin` tier
    and the BaselineAdminNetworkPolicy layer as `kube-baseline`."""
    placed: list[tuple[tuple[float, str], PolicyLayer]] = []
    for tier in calico.tiers:
        if tier.tier.name == cm.DEFAULT_TIER:
            placed.append((tier.tier.sort_key, CalicoTierLayer(calico, tier, network_policy_layer)))
        elif tier.policies and tier.tier.name not in cm.BUILT_IN_TIERS:
            placed.append((tier.tier.sort_key, CalicoTierLayer(calico, tier)))
    if admin is not None:
        placed.append(((cm.ADMIN_TIER_ORDER, "kube-admin"), admin))
    if baseline is not None:
        placed.append(((cm.BASELINE_TIER_ORDER, "kube-baseline"), baseline))
    placed.sort(key=lambda pair: pair[0])
    return [layer for _, layer in placed]


class CalicoTierLayer:
    """One Calico tier: over classes (`calico_walk`), for one connection (`calico_decide`).
    The default tier (given the NetworkPolicy layer) also holds the Kubernetes
    NetworkPolicies, and explains their decisions as the NetworkPolicy layer does."""

    kind = CALICO_TIER_KIND

    def __init__(self, calico: CalicoPolicySet, tier: TierPolicies,
                 network_policy_layer: NetworkPolicyLayer | None = None) -> None:
        self.calico = calico
        self.tier_policies = tier
        self.tier = tier.tier
        self.policies = tier.policies
        self.network_policy_layer = network_policy_layer
        self.carries_network_policies = network_policy_layer is not None
        self.reads_service_accounts = any(map(reads_service_accounts, self.policies))
        self._inputs: ClassInputs | None = None

    @property
    def name(self) -> str:
        return self.tier.name

    def class_inputs(self) -> ClassInputs:
        """What this layer's selectors read (its policies do not change: read once)."""
        if self._inputs is None:
            self._inputs = class_inputs(list(self.policies))
        return self._inputs

    def evaluate(self, direction: str, space: ClassSpace) -> list[ClassBlock]:
        return evaluate_tier(self.tier_policies, self.carries_network_policies, direction,
                             space)

    def decide(self, direction: str, view: LayerView, pod: PodInfo, other: Endpoint,
               port: int, protocol: str, named: NamedPorts | None) -> LayerDecision:
        return decide_in_tier(self.calico, self.tier_policies, self.network_policy_layer,
                              direction, view, pod, other, port, protocol, named)
