"""What can reach what, and why: inventory, matrix build, verdicts, explanations.

Policies are evaluated as ordered layers (`layers`), per direction (egress at the source pod,
ingress at the destination pod). Each layer answers ALLOW or DENY (final), PASS (on to the
next layer) or nothing (no match, next layer); what no layer decides is allowed. The default
order is AdminNetworkPolicies (`admin`, priority order), NetworkPolicies (`netpol_layer`,
decisive for the pods they isolate), the BaselineAdminNetworkPolicy. A snapshot with Calico
policies gets Calico's order (`calico_layer`): one layer per tier by `order`, the default tier
(the Kubernetes NetworkPolicies among its Calico policies, at order 1000) in place of the
NetworkPolicy layer, the ANP and BANP layers as the `kube-admin` and `kube-baseline` tiers;
`engine.Cluster(..., layers=[...])` takes any other order. A layer implements
`layers.PolicyLayer`:

    kind: str
    class_inputs() -> ClassInputs            # label keys, node label keys, address blocks
    evaluate(direction, space: ClassSpace) -> list[ClassBlock]       # the matrix, by class
    decide(direction, view, pod, other, port, protocol, named) -> LayerDecision  # one check
"""
