"""Traffic paths: how external traffic reaches a pod through NodePort, LoadBalancer or Ingress, what its policy sees, and the diagrams."""
