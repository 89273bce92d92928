"""Celery tasks: thin wrappers that take ids and call console.jobs / services."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from cluster.errors import TransientClusterError
from console import cluster, jobs

RECONCILE_LOCK = "isolation-reconcile-running"
RECONCILE_LOCK_SECONDS = 15 * 60


@shared_task(bind=True, acks_late=True, max_retries=5)
def run_job(self, job_id: int) -> str:
    """Run one job; transient cluster errors retry with exponential backoff."""
    claimed = jobs.claim(job_id)
    if claimed == "finished":
        return "finished"
    if claimed == "busy":
        # Another delivery is (or was, until its worker died) running it: look again later.
        raise self.retry(countdown=int(jobs.stale_after().total_seconds()) + 1)
    try:
        return jobs.run(job_id)
    except TransientClusterError as exc:
        if self.request.retries >= self.max_retries:
            return jobs.finish(job_id, error=f"{exc.message} (gave up after {self.request.retries + 1} attempts)")
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 30)) from None


@shared_task(acks_late=True, autoretry_for=(TransientClusterError,), retry_backoff=True,
             retry_backoff_max=60, max_retries=3)
def reconcile_cluster() -> str:
    """The periodic drift repair (celery beat): reconcile every namespace and record each
    repair in the history. Runs one at a time; skipped when no cluster is configured."""
    from console.reconcile import repair_drift

    if not cluster.configured():
        return "no cluster configured"
    if not cache.add(RECONCILE_LOCK, "1", timeout=RECONCILE_LOCK_SECONDS):
        return "a reconcile is already running"
    try:
        return repair_drift().summary()
    finally:
        cache.delete(RECONCILE_LOCK)
