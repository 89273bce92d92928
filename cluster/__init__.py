"""Access to the Kubernetes API: the gateway (`cluster.gateway`) and its errors (`cluster.errors`).

This package module stays import-light on purpose: `cluster.errors` and `cluster.config` can be
imported by the web app and the tasks without loading the `kubernetes` client, which only
`cluster.gateway` imports.
"""
