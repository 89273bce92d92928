from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from cluster.errors import ClusterError
from console.core.access import access_of
from console.core.models import PlatformSettings
from console.guardrails.forms import OverrideForm
from console.guardrails.services import record_override
from console.tenancy import platform as platform_service
from console.tenancy.platform_forms import PlatformSettingsForm
from isolation.text import gettext as _

# The override's target: its English is the history's `target` column, as before; the entry's
# summary says it in each reader's language.
PLATFORM_SETTINGS = _("platform settings")


def _require_platform_admin(request) -> None:
    if not access_of(request).platform_admin:
        raise PermissionDenied(gettext("Only platform admins change the platform settings."))


@require_http_methods(["GET", "POST"])
def platform_settings(request):
    _require_platform_admin(request)
    form = PlatformSettingsForm(request.POST or None, instance=PlatformSettings.load())
    impact = error = checks = None
    refused = ""
    if request.method == "POST" and form.is_valid():
        try:
            checks = platform_service.guardrails(form, request.user)
            if request.POST.get("action") == "save":
                override = OverrideForm(request.POST, check=checks, user=request.user)
                if override.is_valid():
                    job = platform_service.save(form, request.user)
                    if override.cleaned_data["override_reason"]:
                        record_override(request.user, checks,
                                        override.cleaned_data["override_reason"],
                                        target=PLATFORM_SETTINGS, job=job)
                    messages.success(request, gettext(
                        "Settings saved; job #%(number)s brings the generated policies in "
                        "step.") % {"number": job.pk})
                    return redirect("platform_settings")
                refused = " ".join(override.non_field_errors())
            impact = platform_service.preview(form)
        except ClusterError as exc:
            error = exc.message
    try:
        candidates = platform_service.node_addresses()
    except ClusterError as exc:
        candidates, error = [], error or exc.message
    status = 400 if form.errors else 409 if refused else 200
    return render(request, "platform/settings.html", {"form": form, "impact": impact,
                  "error": error, "candidates": candidates, "guardrails": checks,
                  "apply_refused": refused}, status=status)
