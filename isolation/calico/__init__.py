"""Calico policies (projectcalico.org/v3 and crd.projectcalico.org/v1): NetworkPolicy,
GlobalNetworkPolicy, Tier and HostEndpoint, with the Calico selector language."""
