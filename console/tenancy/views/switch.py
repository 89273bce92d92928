"""The isolation switch shared by Project and Workspace › Network Isolation: preview, then start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from console.core.models import Job
from console.core.responses import error_status, issues_response, job_response, partial
from console.reachability.services import scope_for
from console.tenancy import services as iso
from console.tenancy.forms import IsolationSwitchForm
from console.tenancy.previews import preview_context


def switch_preview(request, preview_of: Callable[[bool], Any], *, context: dict,
                   confirm_url: str) -> HttpResponse:
    """Preview turning isolation on or off (?enabled=1 for on) with `preview_of(enabled)`:
    `projects/switch_preview.html` (a workspace's when `context` names one), only its panel for
    htmx; refused previews are 400 unless htmx."""
    enabled = request.GET.get("enabled") == "1"
    preview = preview_of(enabled)
    context = {**context, "enabled": enabled, "confirm_url": confirm_url,
               **preview_context(preview, scope_for(request))}
    template = "projects/switch_preview.html" + ("#panel" if partial(request) else "")
    return render(request, template, context, status=error_status(request, preview.issues))


def start_switch(request, start: Callable[[bool], Job], page_url: str) -> HttpResponse:
    """Read the on/off switch from the POST and start its job with `start(enabled)`; an invalid
    switch or a refused change answers with the issues instead."""
    form = IsolationSwitchForm(request.POST)
    if not form.is_valid():
        return issues_response(request, [("enabled", "Choose on or off.")])
    try:
        job = start(form.cleaned_data["enabled"])
    except iso.IntentError as exc:
        return issues_response(request, exc.issues)
    return job_response(request, job, page_url)
