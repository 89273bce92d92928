"""Workspaces and projects: isolation switches, allowlists, platform settings, and the isolation engine's reconcile of generated policies."""
