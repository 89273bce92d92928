"""Reachability: the matrix with drill-down, the single check, and what-if for a drafted change."""
