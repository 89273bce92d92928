"""Guardrails: connectivity expectations (`ConnectivityExpectation`, cluster-scoped
`ClusterConnectivityExpectation`) that every change is checked against.

`model` parses and validates the documents (field errors shaped like kube-apiserver's);
`evaluate` checks them against a Snapshot with the reachability engine's class-based matrix.
"""
