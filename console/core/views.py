"""The console's own pages: the home redirect, job status, and health for probes."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.utils import DatabaseError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from console.core import cluster, jobs, worker
from console.core.access import access_of, require_writer
from console.core.models import Job
from isolation.text import gettext as _


def home(request):
    return redirect("policy_list")


def _get_job_for_user(request, job_id: int) -> Job:
    job = get_object_or_404(Job, pk=job_id)
    access = access_of(request)
    if access.view_all or job.requested_by_id == request.user.pk:
        return job
    raise Http404("No such job.")


@require_GET
def job_status(request, job_id: int):
    job = _get_job_for_user(request, job_id)
    response = render(request, "console/job.html#job-status", {"job": job})
    if request.htmx and job.finished:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_POST
def check_cluster(request):
    require_writer(request)
    job = jobs.start("check-cluster", target=_("cluster"), user=request.user)
    return render(request, "console/job.html#job-status", {"job": job}, status=202)


@login_not_required
@require_GET
def healthz(request):
    """Readiness for probes: database, Redis, Celery workers and cluster as words, no
    addresses or secrets. With Redis configured, no live worker is unavailable: jobs would
    wait in the queue for nobody."""
    checks = {"database": _database(), "redis": _redis()}
    checks["worker"] = worker.status() if checks["redis"] == "ok" else (
        worker.NOT_CONFIGURED if checks["redis"] == "not configured" else worker.UNKNOWN)
    checks["cluster"] = _cluster()
    ready = (checks["database"] == "ok" and checks["redis"] in {"ok", "not configured"}
             and checks["worker"] in {worker.OK, worker.NOT_CONFIGURED})
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks},
                        status=200 if ready else 503)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError:
        return "error"


def _redis() -> str:
    """"ok", "not configured" or "unreachable"; never raises, and answers within ~2 s even
    when Redis accepts connections but does not reply."""
    if not settings.REDIS_URL:
        return "not configured"
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1,
                                      socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except Exception:  # any failure to reach it is the same answer for a probe
        return "unreachable"


def _cluster() -> str:
    if not cluster.configured():
        return "not configured"
    return "ok" if cluster.status(fresh=True).healthy else "unreachable"
