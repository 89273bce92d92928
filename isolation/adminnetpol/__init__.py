"""AdminNetworkPolicy and BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`).

Same inner shape as `isolation.netpol`: `schema` (field types, unknown fields), `validation`
(defaulting and the CRD's checks with kube-apiserver field paths), `model` (what the
reachability engine evaluates) and `describe` (rules as sentences).
"""
