"""Cluster › Network Policies: the list, the detail with rules as sentences, the YAML editor with review, dry-run, diff and impact, delete."""
