from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from console import jobs
from console.access import access_of
from console.models import Job


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
    job = jobs.start("check-cluster", target="cluster", user=request.user)
    return render(request, "console/job.html#job-status", {"job": job}, status=202)
