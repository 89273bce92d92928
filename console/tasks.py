"""Celery tasks: thin wrappers that take ids and call console.jobs / services."""

from __future__ import annotations

from celery import shared_task

from cluster.errors import TransientClusterError
from console import jobs


@shared_task(bind=True, acks_late=True, max_retries=5)
def run_job(self, job_id: int) -> str:
    """Run one job; transient cluster errors retry with exponential backoff."""
    claimed = jobs.claim(job_id)
    if claimed == "finished":
        return "finished"
    if claimed == "busy":
        # Another delivery is (or was, until its worker died) running it: look again later.
        raise self.retry(countdown=int(jobs.STALE_AFTER.total_seconds()) + 1)
    try:
        return jobs.run(job_id)
    except TransientClusterError as exc:
        if self.request.retries >= self.max_retries:
            return jobs.finish(job_id, error=f"{exc.message} (gave up after {self.request.retries + 1} attempts)")
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 30)) from None
