"""Jobs: a database row per unit of background work, and the runner a Celery task calls.

A job is started with `start()` (row + task, enqueued after the transaction commits), claimed
with a conditional update so a redelivered message never runs finished work twice, and ends
succeeded or failed with a message the user reads. A message or error with names and numbers in
it is written with `isolation.text` (`_("Reconciled {namespace}", namespace=...)`): the row
keeps the sentence (`Job.said`) to say it in the language of whoever reads it, and its column
the words the requester reads (their language, console.core.language); a fixed message is
passed as its English msgid (`gettext_noop`) and translated when shown. Handlers are idempotent (they diff desired
state against the cluster), which is what makes at-least-once delivery safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cluster.errors import ClusterError, TransientClusterError
from console.core.language import requester_language
from console.core.models import Job, JobStatus, keep_sentences
from isolation import text
from isolation.text import gettext as _

log = logging.getLogger(__name__)

# A running job whose heartbeat is older than this is taken to be dead (its worker was killed).
# The default of settings.JOB_STALE_SECONDS.
STALE_AFTER = timedelta(seconds=60)

# What publishing a task raises when the broker cannot be reached (kombu wraps most of them).
QUEUE_UNREACHABLE = (OperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError,
                     TimeoutError)
QUEUE_UNREACHABLE_MESSAGE = _("the job queue (Redis) is unreachable; try again when it is back")

# The key of `Job.result` holding what a running job keeps across its attempts.
ATTEMPT_STATE = "attempt_state"

Handler = Callable[["JobContext"], dict[str, Any] | None]
_handlers: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that does the work of jobs of `kind`."""

    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return register


class JobContext:
    """What a handler sees: the job, and a way to report progress (which also heartbeats)."""

    def __init__(self, job: Job) -> None:
        self.job = job

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    def progress(self, percent: int, message: str = "") -> None:
        """Report `percent` done and what is being done: a `Text`, or a fixed msgid."""
        percent = max(0, min(100, int(percent)))
        said = _kept(self.job.said, message=message)
        words = _column(self.job, message)
        Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
            progress=percent, message=words, said=said, heartbeat_at=timezone.now()
        )
        self.job.progress, self.job.message, self.job.said = percent, words, said

    # What a handler keeps across the attempts of one job (a retry after a transient error, a
    # redelivery after a worker died): stored in the job's `result` under ATTEMPT_STATE until
    # the job finishes, when the final result replaces it.
    def recall(self, key: str, default: Any = None) -> Any:
        """What an earlier attempt (or this one) kept under `key`, else `default`."""
        return (self.job.result or {}).get(ATTEMPT_STATE, {}).get(key, default)

    def remember(self, **values: Any) -> None:
        """Keep `values` for the later attempts of this job (written to the database now)."""
        result = dict(self.job.result or {})
        result[ATTEMPT_STATE] = {**result.get(ATTEMPT_STATE, {}), **values}
        Job.objects.filter(pk=self.job.pk).update(result=result)
        self.job.result = result


def start(kind: str, *, target: str = "", params: dict[str, Any] | None = None,
          user=None, workspace: str = "", project: str = "") -> Job:
    """Create a queued job and enqueue its task once the surrounding transaction commits."""
    if kind not in _handlers:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, target=target, params=params or {}, workspace=workspace,
              project=project, requested_by=user if user and user.is_authenticated else None)
    keep_sentences(job, target=text.english)   # said in the reader's language: shown_target
    job.save()
    def enqueue() -> None:
        try:
            result = run_job.delay(job.pk)
        except QUEUE_UNREACHABLE as exc:
            # Left queued, the job would wait forever for a message that was never sent.
            log.warning("job %s (%s) not enqueued: %s: %s", job.pk, kind,
                        exc.__class__.__name__, exc)
            finish(job.pk, error=QUEUE_UNREACHABLE_MESSAGE)
            job.refresh_from_db()
            return
        Job.objects.filter(pk=job.pk, celery_task_id="").update(celery_task_id=result.id or "")

    transaction.on_commit(enqueue)
    return job


def stale_after() -> timedelta:
    """How long a running job may go without a heartbeat before another delivery may claim
    it (settings.JOB_STALE_SECONDS, default STALE_AFTER)."""
    seconds = getattr(settings, "JOB_STALE_SECONDS", None)
    return STALE_AFTER if seconds is None else timedelta(seconds=float(seconds))


def claim(job_id: int) -> str:
    """Take a job for running. Returns "claimed", "finished" (nothing to do) or "busy".

    The conditional update makes claiming atomic: of two deliveries of one message only one
    gets the job; a job left running by a killed worker is claimed again once stale.
    """
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING,
                                                heartbeat_at__lt=now - stale_after())
    updated = Job.objects.filter(claimable, pk=job_id).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1,
        error="",
    )
    if updated:
        return "claimed"
    status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return "busy" if status == JobStatus.RUNNING else "finished"


def run(job_id: int) -> str:
    """Run a claimed job to its end. Raises TransientClusterError for the task to retry."""
    job = Job.objects.get(pk=job_id)
    ctx = JobContext(job)
    try:
        result = _handlers[job.kind](ctx) or {}
    except TransientClusterError:
        Job.objects.filter(pk=job_id).update(status=JobStatus.QUEUED, heartbeat_at=None)
        raise
    except ClusterError as exc:
        return finish(job_id, error=exc.message)
    except Exception as exc:  # an unexpected failure must still end the job visibly
        log.exception("job %s (%s) failed", job_id, job.kind)
        return finish(job_id, error=_("Unexpected error: {error}",
                                      error=f"{exc.__class__.__name__}: {exc}"))
    return finish(job_id, result=result)


def finish(job_id: int, *, result: dict[str, Any] | None = None, error: str = "") -> str:
    """End the job: succeeded with `result` (its "message" becomes the job's), or failed with
    `error`. Sentences (`isolation.text`) are kept to be said in the reader's language."""
    status = JobStatus.FAILED if error else JobStatus.SUCCEEDED
    job = Job.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None:
        return status
    said = _kept(job.said, error=error)
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now(),
                              "error": _column(job, error)}
    if result is not None:
        fields["result"] = result
        fields["progress"] = 100
        if result.get("message"):
            fields["message"] = _column(job, result["message"])
            said = _kept(said, message=result["message"])
    elif ATTEMPT_STATE in (job.result or {}):
        # What the attempts kept for each other is of no use once the job has ended.
        fields["result"] = {k: v for k, v in job.result.items() if k != ATTEMPT_STATE}
    fields["said"] = said
    Job.objects.filter(pk=job_id).update(**fields)
    return status


def _column(job: Job, words: str) -> str:
    """What the job's `message` or `error` column keeps of `words`: a sentence as its
    requester reads it (in the language saved on their account, else the one active), any
    other text as it is."""
    if not isinstance(words, text.Text):
        return words or ""
    with requester_language(job.requested_by):
        return str(words)


def _kept(said: dict[str, Any] | None, **sentences: str) -> dict[str, Any]:
    """`said` with each of `sentences` kept (a `Text`) or forgotten (anything else: a fixed
    msgid, or nothing, is read from its column)."""
    kept = dict(said or {})
    for key, value in sentences.items():
        if isinstance(value, text.Text):
            kept[key] = text.dump(value)
        else:
            kept.pop(key, None)
    return kept


@handler("check-cluster")
def check_cluster(ctx: JobContext) -> dict[str, Any]:
    """Ask the cluster for its version and health: the smallest job that really reaches it."""
    from console.core import cluster

    ctx.progress(10, gettext_noop("Contacting the API server"))
    ok, message = cluster.gateway().health()
    if not ok:
        raise ClusterError(message)
    return {"message": message, **cluster.gateway().describe()}


# The task keeps the name it was first registered under, so messages queued before an upgrade
# still find it.
@shared_task(name="console.tasks.run_job", bind=True, acks_late=True, max_retries=5)
def run_job(self, job_id: int) -> str:
    """Run one job; transient cluster errors retry with exponential backoff."""
    claimed = claim(job_id)
    if claimed == "finished":
        return "finished"
    if claimed == "busy":
        # Another delivery is (or was, until its worker died) running it: look again later.
        raise self.retry(countdown=int(stale_after().total_seconds()) + 1)
    try:
        return run(job_id)
    except TransientClusterError as exc:
        if self.request.retries >= self.max_retries:
            return finish(job_id, error=_("{error} (gave up after {count} attempts)",
                                          error=exc.message, count=self.request.retries + 1))
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 30)) from None
