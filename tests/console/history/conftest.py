"""What the History tests share: a recorded change that created a policy, and that policy
changed in the cluster since."""

import copy

import pytest

from console.core import cluster
from console.core.audit import record_change
from console.core.models import Change

NEW_POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "deny-all", "namespace": "shop"},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


@pytest.fixture
def created(demo_cluster, personas) -> Change:
    written = cluster.gateway().create(copy.deepcopy(NEW_POLICY))
    return record_change(kind="policy-apply", target="shop/deny-all", summary="Created deny-all",
                         author=personas["carol"], workspace="team-a", project="shop",
                         before=[], after=[written])


@pytest.fixture
def changed_since(created) -> Change:
    """`created`, its policy changed in the cluster since (so a revert of it conflicts)."""
    gw = cluster.gateway()
    live = gw.get_object("NetworkPolicy", "deny-all", "shop")
    live["spec"]["policyTypes"] = ["Ingress", "Egress"]
    gw.replace(live)
    return created
