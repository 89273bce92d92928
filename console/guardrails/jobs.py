"""The periodic evaluation of the guardrails (celery beat): whenever the cluster changed."""

from __future__ import annotations

from celery import shared_task
from django.utils.translation import gettext_noop

from cluster.errors import TransientClusterError
from console.core import cluster
from console.guardrails import services


@shared_task(name="console.tasks.evaluate_guardrails", acks_late=True,
             autoretry_for=(TransientClusterError,), retry_backoff=True, retry_backoff_max=60,
             max_retries=3)
def evaluate_guardrails() -> str:
    """Evaluate every expectation when the cluster's objects changed since the last time."""
    if not cluster.configured():
        return gettext_noop("no cluster configured")
    changed = services.refresh(force=False)
    return gettext_noop("evaluated") if changed else gettext_noop("the cluster did not change")
