"""Small helpers shared by the views."""

from __future__ import annotations

from django.shortcuts import render

from cluster.errors import ClusterError


def render_cluster_error(request, exc: ClusterError, *, title: str, status: int = 503):
    """A page that explains why the cluster could not be read, instead of a 500."""
    return render(request, "console/cluster_error.html",
                  {"title": title, "error": exc.message}, status=status)
