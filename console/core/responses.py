"""What every feature's views share: htmx fragments or pages, job cards, refused requests and
cluster errors, rendered the same way everywhere."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlparse

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from cluster.errors import ClusterError, NotFoundError
from console.core.access import access_of
from console.core.models import Job

PANEL = "isolation-panel"   # the element of a page where previews and job cards appear


def render_cluster_error(request, exc: ClusterError, *, title: str, status: int = 503):
    """A page that explains why the cluster could not be read, instead of a 500."""
    return render(request, "console/cluster_error.html",
                  {"title": title, "error": exc.message}, status=status)


def cluster_page(view):
    """Turn a ClusterError into the page that explains it (503), never a 500."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        except ClusterError as exc:
            if partial(request):
                return render(request, "console/_cluster_error.html", {"error": exc.message},
                              status=error_status(request, True, 503))
            title = kwargs.get("project") or kwargs.get("workspace") or gettext(
                "Network isolation")
            return render_cluster_error(request, exc, title=title)

    return wrapper


def partial(request) -> bool:
    """An htmx request that wants a fragment (not a boosted page load)."""
    return bool(request.htmx) and not request.htmx.boosted


def error_status(request, failed, status: int = 400) -> int:
    """`status` for a refused request; 200 for htmx, which swaps only successful responses
    (the fragment itself says what went wrong)."""
    return status if failed and not partial(request) else 200


def in_dialog(request) -> bool:
    """Whether the fragment goes into a modal dialog of another page (not its own page, and
    not the page's inline panel)."""
    if not partial(request) or request.htmx.target == PANEL:
        return False
    return urlparse(request.htmx.current_url or "").path != request.path


def job_response(request, job: Job, page_url: str):
    """The live job card for htmx, or back to the page showing it."""
    job.refresh_from_db()
    if partial(request):
        return render(request, "console/_job.html", {"job": job, "dialog": in_dialog(request)},
                      status=202)
    return redirect(f"{page_url}?job={job.pk}")


def visible_job(request) -> Job | None:
    """The job named by ?job= when the user may see it (theirs, or they see everything)."""
    job_id = request.GET.get("job", "")
    if not job_id.isdigit():
        return None
    job = Job.objects.filter(pk=int(job_id)).first()
    if job and (access_of(request).view_all or job.requested_by_id == request.user.pk):
        return job
    return None


def issues_response(request, issues) -> HttpResponse:
    """The refused request's issues as a fragment; 400 unless htmx (see `error_status`)."""
    return render(request, "console/_issues.html", {"issues": issues},
                  status=error_status(request, True))
