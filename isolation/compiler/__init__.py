"""Tenancy and isolation intent, compiled into the NetworkPolicies that enforce it, and the reconcile plan."""
