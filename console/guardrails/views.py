"""The Guardrails page: every connectivity expectation the user may see with its state, and
the editor that creates, changes and deletes them (written to the cluster through the gateway).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cluster.errors import AlreadyExistsError, ConflictError, NotFoundError
from console.core import tenants
from console.core.access import access_of, require_writer
from console.core.audit import to_yaml
from console.core.models import ExpectationState, ExpectationStatus
from console.core.responses import cluster_page, partial
from console.guardrails import services
from console.guardrails.forms import ExpectationForm, template_document
from console.reachability.services import scope_for
from isolation.guardrails.model import CLUSTER_KIND, NAMESPACED_KIND, expectation_name

STATUSES = [("", _("Any state")), *ExpectationStatus.choices]


def _target(request, namespace: str | None, name: str, *, edit: bool = False):
    """(kind, namespace, object) of the expectation named by the URL, once the user may see it
    (Http404 otherwise, also for another tenant's) and, with `edit`, change it (403)."""
    kind = NAMESPACED_KIND if namespace else CLUSTER_KIND
    access, workspace_of = access_of(request), tenants.directory().workspace_of
    state = ExpectationState.objects.filter(name=f"{namespace}/{name}" if namespace else name
                                            ).first()
    seen = access.view_all or (access.can_view_project(namespace, workspace_of) if namespace
                               else state is not None and services.visible(state, access,
                                                                            workspace_of))
    if not seen:
        raise Http404(gettext("No such expectation."))
    if edit and not services.editable(kind, namespace or "", access, workspace_of):
        raise PermissionDenied(gettext("You can view this expectation but not change it."))
    return kind, services.read(kind, name, namespace)


@require_GET
@cluster_page
def guardrail_list(request):
    services.refresh()
    scope, access = scope_for(request), access_of(request)
    project, workspace = request.GET.get("project", ""), request.GET.get("workspace", "")
    status = request.GET.get("status", "")
    projects = access.visible_projects(sorted(scope.workspace_of), scope.workspace_of)
    rows = services.rows_for(access, scope, project=project if project in projects else "",
                             workspace=workspace if workspace in scope.workspaces else "",
                             status=status if status in dict(STATUSES) else "")
    context = {"rows": rows, "projects": projects, "workspaces": scope.workspaces,
               "statuses": STATUSES, "project": project, "workspace": workspace,
               "status": status, "can_create": not access.read_only,
               "violated": sum(r.state.status == ExpectationStatus.VIOLATED for r in rows)}
    template = "guardrails/list.html" + ("#results" if partial(request) else "")
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@cluster_page
def guardrail_new(request):
    access = require_writer(request)
    workspace_of = tenants.directory().workspace_of
    form = ExpectationForm(request.POST or None, access=access, workspace_of=workspace_of)
    if request.method == "POST" and form.is_valid():
        try:
            services.save(request.user, form.cleaned_data["document"])
        except AlreadyExistsError:
            form.add_error("document", _("metadata.name: an expectation of this name exists "
                                       "already; choose another name."))
        else:
            return redirect("guardrail_list")
    if request.method == "GET":
        editable = [p for p in sorted(workspace_of) if access.can_edit_project(p, workspace_of)]
        wanted = request.GET.get("project", "")
        namespace = wanted if wanted in editable else (None if access.platform_admin
                                                       else next(iter(editable), None))
        form.initial["document"] = template_document(namespace)
    return _form_page(request, form, title=gettext("New expectation"),
                      status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@cluster_page
def guardrail_edit(request, name: str, namespace: str | None = None):
    kind, current = _target(request, namespace, name, edit=True)
    access, workspace_of = access_of(request), tenants.directory().workspace_of
    original = (kind, namespace or "", name)
    form = ExpectationForm(request.POST or None, access=access, workspace_of=workspace_of,
                           original=original, initial={
                               "document": to_yaml([current]),
                               "resource_version": current["metadata"].get("resourceVersion")})
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.save(request.user, form.cleaned_data["document"],
                          resource_version=form.cleaned_data["resource_version"]
                          or current["metadata"].get("resourceVersion", ""))
        except ConflictError:
            conflict = to_yaml([current])
        else:
            return redirect("guardrail_list")
    status = 409 if conflict else (400 if form.errors else 200)
    return _form_page(request, form, title=gettext("Edit %(name)s") % {"name": name},
                      conflict=conflict, status=status,
                      version=current["metadata"].get("resourceVersion"))


def _form_page(request, form: ExpectationForm, *, title: str, status: int = 200,
               conflict: str | None = None, version: str = ""):
    return render(request, "guardrails/form.html",
                  {"form": form, "title": title, "conflict": conflict, "version": version},
                  status=status)


@require_http_methods(["GET", "POST"])
@cluster_page
def guardrail_delete(request, name: str, namespace: str | None = None):
    kind, current = _target(request, namespace, name, edit=True)
    version = current["metadata"].get("resourceVersion", "")
    conflict = False
    if request.method == "POST":
        try:
            services.delete(request.user, kind, name, namespace,
                            request.POST.get("resource_version") or version)
        except NotFoundError:
            return redirect("guardrail_list")
        except ConflictError:
            conflict = True
        else:
            return redirect("guardrail_list")
    return render(request, "guardrails/delete.html",
                  {"name": expectation_name(current), "yaml": to_yaml([current]),
                   "version": version, "conflict": conflict}, status=409 if conflict else 200)


@require_POST
def guardrail_override(request):
    """A platform admin's reason to apply one previewed change despite a platform guardrail:
    kept for the change named by `key`, taken when it is applied (see services)."""
    key, reason = request.POST.get("key", ""), request.POST.get("reason", "")
    names = request.POST.getlist("expectation")
    override, error = None, gettext("The change to override is missing: preview it again.")
    if key:
        try:
            override, error = services.give_override(request.user, key, reason, names), ""
        except PermissionError as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValueError as exc:
            error = str(exc)
    next_url = request.POST.get("next", "")
    context = {"override": override, "error": error, "key": key, "names": names,
               "reason": reason,
               "next": next_url if url_has_allowed_host_and_scheme(
                   next_url, allowed_hosts={request.get_host()}) else ""}
    status = 200 if override or partial(request) else 400
    template = "guardrails/_override.html" if partial(request) else "guardrails/override.html"
    return render(request, template, context, status=status)
