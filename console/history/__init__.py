"""History: every change with author, YAML diff and reachability delta; revert and export."""
