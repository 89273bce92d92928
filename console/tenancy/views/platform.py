from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from cluster.errors import ClusterError
from console.core.access import access_of
from console.core.models import PlatformSettings
from console.tenancy import platform as platform_service
from console.tenancy.platform_forms import PlatformSettingsForm


def _require_platform_admin(request) -> None:
    if not access_of(request).platform_admin:
        raise PermissionDenied("Only platform admins change the platform settings.")


@require_http_methods(["GET", "POST"])
def platform_settings(request):
    _require_platform_admin(request)
    form = PlatformSettingsForm(request.POST or None, instance=PlatformSettings.load())
    impact = error = None
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("action") == "save":
                job = platform_service.save(form, request.user)
                messages.success(request, gettext("Settings saved; job #%(number)s brings the generated "
                                                  "policies in step.") % {"number": job.pk})
                return redirect("platform_settings")
            impact = platform_service.preview(form)
        except ClusterError as exc:
            error = exc.message
    try:
        candidates = platform_service.node_addresses()
    except ClusterError as exc:
        candidates, error = [], error or exc.message
    status = 400 if form.errors else 200
    return render(request, "platform/settings.html", {"form": form, "impact": impact,
                  "error": error, "candidates": candidates}, status=status)
