"""Traffic Paths: every NodePort, LoadBalancer and Ingress exposure, its path per entry node, diagrams, and the allowlist fix."""
