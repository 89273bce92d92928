"""The demo cluster as a kubectl snapshot file (`kubesim/demo.yaml`), exactly as served."""

from __future__ import annotations

import yaml

from kubesim.demo import DEMO_YAML
from kubesim.server import SimulatorServer


def demo_snapshot_yaml() -> str:
    """The demo cluster as `kubectl get ... -A -o yaml` would print it (a v1 List, managedFields
    omitted as kubectl omits them), the objects exactly as the simulator serves them."""
    server = SimulatorServer(seed="demo")
    order = ["namespaces", "nodes", "pods", "services", "endpoints", "endpointslices.discovery.k8s.io",
             "ingresses.networking.k8s.io", "networkpolicies.networking.k8s.io", "workspaces.tenant.kubesphere.io",
             "namespacenetworkpolicies.network.kubesphere.io", "ippools.crd.projectcalico.org",
             "connectivityexpectations.isolation.tenant-console.io",
             "clusterconnectivityexpectations.isolation.tenant-console.io",
             "adminnetworkpolicies.policy.networking.k8s.io",
             "baselineadminnetworkpolicies.policy.networking.k8s.io",
             "tiers.crd.projectcalico.org", "globalnetworkpolicies.crd.projectcalico.org",
             "networkpolicies.crd.projectcalico.org", "hostendpoints.crd.projectcalico.org"]
    items = []
    for resource in order:
        for obj in server.store.scan(resource):
            items.append({**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"}})
    listing = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
    header = ("# The simulator's demo cluster as a kubectl snapshot (python -m kubesim.demo_snapshot writes it).\n"
              "# Use it with --snapshot kubesim/demo.yaml, or load it with manage.py import_snapshot.\n")
    return header + yaml.safe_dump(listing, sort_keys=False, default_flow_style=False, width=120)


if __name__ == "__main__":
    DEMO_YAML.write_text(demo_snapshot_yaml(), encoding="utf-8")
    print(f"wrote {DEMO_YAML}")
