"""Kubernetes NetworkPolicy (networking.k8s.io/v1): schema, validation as kube-apiserver does it, the evaluated model, label selectors, rules in plain language."""
