from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from cluster.errors import ClusterError
from console.core import cluster, tenants
from console.core.access import access_of
from console.core.cache import render_kept, roles_key, tenant_directory
from console.core.models import Job, JobStatus
from console.core.responses import partial, render_cluster_error
from console.guardrails.forms import OverrideForm
from console.guardrails.services import record_override
from console.policies import conflict, services
from console.policies import detail as policy_detail
from console.policies import draft as policy_draft
from console.policies import editor as policy_editor
from console.policies import kinds as policy_kinds
from console.policies.draft import CREATE, EDIT
from console.policies.forms import (
    APPLY,
    MERGE,
    REVIEW,
    DeleteForm,
    PolicyDraftForm,
    PolicyFilterForm,
)
from console.policies.text import diff_page, live_yaml

TITLE = gettext_lazy("Network Policies")
CREATE_TITLE = gettext_lazy("Create a NetworkPolicy")


@require_GET
def policy_list(request):
    """The list; its table (for htmx) or its whole content is rendered once per cluster
    version, roles, language and query, and kept (console.core.cache.cached_fragment)."""
    query = PolicyFilterForm(request.GET).query()
    access = access_of(request)
    table = partial(request)
    version = cluster.model_version()
    try:
        return render_kept(request, "policies/list.html", "table" if table else "content",
                           version, ("policies", roles_key(access)),
                           lambda: _list_context(access, query, version), alone=table)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=TITLE)


def _list_context(access, query: services.ListQuery, version: str | None) -> dict:
    directory = tenant_directory(version)
    return {"listing": services.list_page(access, directory, query), "query": query,
            "can_create": bool(services.editable_namespaces(access, directory))}


@require_GET
def policy_detail_view(request, namespace: str, name: str):
    """The page's content is rendered once per cluster version, policy, roles, language and
    query, and kept (console.core.cache.cached_fragment); access is checked on every view."""
    access = access_of(request)
    version = cluster.model_version()
    try:
        if not services.can_view(access, namespace, tenant_directory(version).workspace_of):
            raise Http404(gettext("No such NetworkPolicy."))
        return render_kept(request, "policies/detail.html", "content", version,
                           ("policy", namespace, name, roles_key(access)),
                           lambda: _detail_context(request, namespace, name), alone=False,
                           page={"namespace": namespace, "name": name})
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)


def _detail_context(request, namespace: str, name: str) -> dict:
    policy, access, directory = services.get_policy_for_user(request, namespace, name)
    return policy_detail.detail_context(policy, access, directory)


@require_GET
def policy_rules(request, namespace: str, name: str):
    """A page of one direction's rules in words ("show more" on the detail page)."""
    direction = request.GET.get("direction", "")
    try:
        policy, _, _ = services.get_policy_for_user(request, namespace, name)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)
    rules = policy_detail.rules_page(policy, direction, _start(request.GET.get("start")))
    if rules is None:
        raise Http404(gettext("No such direction."))
    context = {"d": rules, "namespace": namespace, "name": name,
               "page_size": policy_detail.RULES_PAGE}
    template = "policies/_rules.html#rule-rows" if partial(request) else "policies/rules.html"
    return render(request, template, context)


@require_GET
def policy_reach(request, namespace: str, name: str):
    try:
        policy, access, directory = services.get_policy_for_user(request, namespace, name)
        reach = policy_detail.reach_summary(policy, directory,
                                            policy_detail.scope_of(access, directory))
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)
    template = "policies/reach.html#reach" if partial(request) else "policies/reach.html"
    return render(request, template, {"reach": reach, "namespace": namespace, "name": name})


@require_GET
def policy_yaml(request, namespace: str, name: str):
    try:
        policy, _, _ = services.get_policy_for_user(request, namespace, name)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)
    response = HttpResponse(live_yaml(policy), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{namespace}-{name}.yaml"'
    return response


@require_http_methods(["GET", "POST"])
def policy_create(request):
    try:
        directory = tenants.directory()
        access = access_of(request)
        if not services.editable_namespaces(access, directory):
            raise PermissionDenied(gettext("You cannot change the policies of any project."))
        if request.method == "POST":
            return _submit(request, directory, mode=CREATE)
        context = policy_editor.create_context(request.GET, access, directory)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=CREATE_TITLE)
    return render(request, "policies/editor.html", context)


@require_http_methods(["GET", "POST"])
def policy_edit(request, namespace: str, name: str):
    try:
        policy, access, directory = services.get_policy_for_user(
            request, namespace, name, edit=True)
        if request.method == "POST":
            return _submit(request, directory, mode=EDIT, target=(namespace, name))
        context = policy_editor.edit_context(policy, access, directory)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)
    return render(request, "policies/editor.html", context)


def _kind(group: str, plural: str, namespaced: bool):
    """The kind a URL names (Http404 for an unknown one, or a route of the wrong scope)."""
    kind = policy_kinds.kind_by_url(group, plural)
    if kind is None or kind.slug == policy_kinds.NETPOL or kind.namespaced != namespaced:
        raise Http404(gettext("No such policy kind."))
    return kind


@require_GET
def kind_detail(request, group: str, plural: str, name: str, namespace: str = ""):
    kind = _kind(group, plural, bool(namespace))
    try:
        obj, access, directory = services.get_kind_object_for_user(request, kind, namespace,
                                                                   name)
        context = policy_detail.kind_detail_context(kind, obj, access, directory)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)
    return render(request, "policies/kind_detail.html", context)


@require_GET
def kind_yaml(request, group: str, plural: str, name: str, namespace: str = ""):
    kind = _kind(group, plural, bool(namespace))
    try:
        obj, access, directory = services.get_kind_object_for_user(request, kind, namespace,
                                                                   name)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)
    text = policy_detail.shown_yaml(obj, access, directory)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    filename = f"{namespace}-{name}" if namespace else f"{kind.plural}-{name}"
    response["Content-Disposition"] = f'attachment; filename="{filename}.yaml"'
    return response


@require_http_methods(["GET", "POST"])
def kind_edit(request, group: str, plural: str, name: str, namespace: str = ""):
    kind = _kind(group, plural, bool(namespace))
    try:
        obj, access, directory = services.get_kind_object_for_user(
            request, kind, namespace, name, edit=True)
        if request.method == "POST":
            return _submit(request, directory, mode=EDIT, target=(namespace, name), kind=kind)
        context = policy_editor.edit_context(obj, access, directory, kind=kind)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)
    return render(request, "policies/editor.html", context)


@require_http_methods(["GET", "POST"])
def kind_delete(request, group: str, plural: str, name: str, namespace: str = ""):
    kind = _kind(group, plural, bool(namespace))
    try:
        obj, access, directory = services.get_kind_object_for_user(request, kind, namespace,
                                                                   name, edit=True)
        return _delete(request, obj, access, directory, kind)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)


def _submit(request, directory, *, mode: str, target=None, kind=None):
    """Review the posted draft, or start its apply when it was reviewed as it is."""
    form = PolicyDraftForm(request.POST, request.FILES)
    if not form.is_valid():
        context = policy_editor.form_error_context(form, mode, target, directory,
                                                   access_of(request), kind)
        return render(request, "policies/editor.html", context, status=400)
    data = form.cleaned_data
    if data["action"] == MERGE and mode == EDIT:
        return _merge(request, directory, data, target, kind)
    applying = data["action"] == APPLY and data["reviewed"] == policy_draft.digest_of(
        data["text"], data["base_version"])
    review = policy_draft.review_draft(
        data["text"], access=access_of(request), directory=directory, mode=mode, target=target,
        base_version=data["base_version"], preview=not applying, user=request.user, kind=kind)
    refused = ""
    if applying and review.ok:
        check = policy_draft.apply_guardrails(review, request.user)
        override = OverrideForm(request.POST, check=check, user=request.user)
        if override.is_valid():
            job = policy_draft.start_apply(review, user=request.user, directory=directory,
                                           base_token=data["base"])
            _record_override(request, check, override, job, review.namespace, review.name,
                             directory)
            return redirect("policy_job", job.pk)
        # Refused for a guardrail: the review again, with the reason it was not applied.
        refused = " ".join(override.non_field_errors())
        review = policy_draft.review_draft(
            data["text"], access=access_of(request), directory=directory, mode=mode,
            target=target, base_version=data["base_version"], user=request.user, kind=kind)
    policy_draft.keep_diff(review, request.user.pk)
    policy_draft.keep_impact(review, request.user.pk)
    context = policy_editor.review_context(review, data, directory, access_of(request))
    if refused:
        context.pop("notice", None)
        context["apply_refused"] = refused
    status = 200 if review.ok and not refused else 409 if refused else 400
    return render(request, "policies/editor.html", context, status=status)


def _record_override(request, check, override: OverrideForm, job, namespace: str, name: str,
                     directory) -> None:
    """The history entry of a guardrail override, when the change needed one."""
    reason = override.cleaned_data["override_reason"]
    if reason:
        record_override(request.user, check, reason, target=f"{namespace}/{name}", job=job,
                        workspace=directory.workspace_of.get(namespace, ""), project=namespace)


@require_POST
def policy_review_diff(request, namespace: str = "", name: str = "", group: str = "",
                       plural: str = ""):
    """The next rows of a review's diff ("show more") from row `start`, as table rows for htmx
    to put in place: the diff this user's review kept, else the posted draft checked again
    (nothing is written)."""
    target = (namespace, name) if name else None
    kind = _kind(group, plural, bool(namespace)) if group else None
    try:
        directory = tenants.directory()
        access = access_of(request)
        if kind is not None:
            services.get_kind_object_for_user(request, kind, namespace, name, edit=True)
        elif target:
            services.get_policy_for_user(request, namespace, name, edit=True)
        form = PolicyDraftForm(request.POST)
        if not form.is_valid():
            return HttpResponse(gettext("The draft cannot be read: review it again."), status=400)
        data = form.cleaned_data
        rows = policy_draft.kept_diff(request.user.pk, target, data["text"],
                                      data["base_version"])
        if rows is not None:
            return _diff_rows(request, rows)
        review = policy_draft.review_diff(
            data["text"], access=access, directory=directory, mode=EDIT if target else CREATE,
            target=target, base_version=data["base_version"], kind=kind)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name or CREATE_TITLE)
    if not review.ok:
        return HttpResponse(gettext("The draft changed or no longer passes its checks: "
                                    "review it again."), status=409)
    return _diff_rows(request, review.diff)


@require_POST
def policy_review_impact(request, namespace: str = "", name: str = "", group: str = "",
                         plural: str = ""):
    """The next connections of a review's impact ("show more"): `which` is "blocked" or
    "allowed", from `start`, as list items for htmx to put in place of the button. They come
    from what this user's review kept; once that has expired the draft must be reviewed again
    (the impact is not computed here)."""
    target = (namespace, name) if name else None
    kind = _kind(group, plural, bool(namespace)) if group else None
    try:
        if kind is not None:
            services.get_kind_object_for_user(request, kind, namespace, name, edit=True)
        elif target:
            services.get_policy_for_user(request, namespace, name, edit=True)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name or CREATE_TITLE)
    form = PolicyDraftForm(request.POST)
    which = request.POST.get("which", "")
    rows = None
    if form.is_valid():
        rows = policy_draft.kept_impact(request.user.pk, target, form.cleaned_data["text"],
                                        form.cleaned_data["base_version"], which)
    if rows is None:
        return HttpResponse(gettext("This review has expired: review the draft again to list "
                                    "more."), status=409)
    start = _start(request.POST.get("start"))
    return render(request, "policies/_impact.html#impact-rows",
                  {"rows": rows[start:start + policy_draft.IMPACT_PAGE], "which": which,
                   "next": start + policy_draft.IMPACT_PAGE, "kept": len(rows),
                   "more_url": request.path})


def _diff_rows(request, rows):
    page = diff_page(rows, _start(request.POST.get("start")))
    return render(request, "policies/_diff.html#diff-rows",
                  {"page": page, "more_url": request.path, "post": True})


def _start(value) -> int:
    try:
        return max(0, min(int(value or 0), 10_000_000))
    except (TypeError, ValueError):
        return 0


def _merge(request, directory, data, target, kind=None):
    """Merge a stale draft onto the live version with the per-field choices posted, then
    review the merged draft; refused while a field both sides changed has no choice."""
    access = access_of(request)
    choices = conflict.choices_of(request.POST)
    review = policy_draft.review_draft(
        data["text"], access=access, directory=directory, mode=EDIT, target=target,
        base_version=data["base_version"], preview=False, kind=kind)
    live = policy_draft.live_policy(*target, kind) if review.draft is not None and \
        review.checks["Permission"] == policy_draft.PASSED else None
    if live is None:  # the draft itself has problems, or the policy is gone: say so
        context = policy_editor.review_context(review, data, directory, access)
        return render(request, "policies/editor.html", context, status=400)
    live_version = live["metadata"].get("resourceVersion", "")
    base = conflict.read_base(data["base"], target, data["base_version"])
    result = conflict.merge(base, live, review.draft, choices)
    moved = bool(data["live_version"]) and data["live_version"] != live_version
    if moved or not result.clean:
        review.conflict, review.live = True, live
        context = policy_editor.review_context(review, data, directory, access,
                                               choices=choices)
        unresolved = len(result.unresolved)
        context["merge_error"] = (
            gettext("%(name)s changed again (now at resourceVersion %(version)s) while you "
                    "were merging: check the fields below again.") % {
                "name": target[1], "version": live_version} if moved else
            gettext("Choose “keep theirs” or “take mine” for each field changed on both sides "
                    "(%(count)s left): nothing is applied until every one has a choice.") % {
                "count": unresolved})
        return render(request, "policies/editor.html", context, status=400)
    token = conflict.sign_base(live)
    merged = policy_draft.review_draft(
        conflict.merged_yaml(result), access=access, directory=directory, mode=EDIT,
        target=target, base_version=live_version, kind=kind)
    context = policy_editor.review_context(merged, {"action": REVIEW, "base": token},
                                           directory, access)
    if merged.ok:
        context["notice"] = gettext(
            "Your draft was merged onto the live version (resourceVersion %(version)s): the "
            "other change is kept, and the review below shows what yours adds to it. Check it, "
            "then apply.") % {"version": live_version}
    return render(request, "policies/editor.html", context, status=200 if merged.ok else 400)


@require_http_methods(["GET", "POST"])
def policy_delete(request, namespace: str, name: str):
    try:
        policy, access, directory = services.get_policy_for_user(request, namespace, name,
                                                                       edit=True)
        return _delete(request, policy, access, directory, policy_kinds.KINDS["netpol"])
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=name)


def _delete(request, policy, access, directory, kind):
    """The delete page of a policy of any kind, and its confirmation (raises ClusterError)."""
    meta = policy["metadata"]
    namespace, name = meta.get("namespace") or "", meta["name"]
    form = DeleteForm(request.POST or None)
    guardrails = policy_draft.delete_guardrails(policy, request.user, kind)
    override = OverrideForm(request.POST or None, check=guardrails, user=request.user)
    refused = ""
    if form.is_valid():
        if override.is_valid():
            policy["metadata"]["resourceVersion"] = form.cleaned_data["resource_version"]
            job = policy_draft.start_delete(policy, user=request.user, directory=directory,
                                            kind=kind)
            _record_override(request, guardrails, override, job, namespace, name, directory)
            return redirect("policy_job", job.pk)
        refused = " ".join(override.non_field_errors())
    impact, impact_error, findings = policy_draft.delete_preview(
        policy, policy_detail.scope_of(access, directory), kind)
    return render(request, "policies/delete.html", {
        "policy": policy, "namespace": namespace, "name": name, "impact": impact,
        "impact_error": impact_error, "findings": findings, "guardrails": guardrails,
        "apply_refused": refused, "version": meta.get("resourceVersion", ""), "kind": kind,
        "detail_url": services.detail_url(kind, namespace, name),
        "action_url": request.path}, status=409 if refused else 200)


@require_GET
def policy_job(request, job_id: int):
    job = get_object_or_404(Job, pk=job_id)
    if not policy_detail.policy_job_for_user(job, access_of(request), request.user):
        raise Http404(gettext("No such job."))
    if request.htmx and job.finished:
        return HttpResponseClientRedirect(reverse("policy_job", args=[job.pk]))
    if request.htmx:
        return render(request, "policies/job.html#job-card", {"job": job})
    if job.status == JobStatus.SUCCEEDED:
        messages.success(request, str(job.shown_message) or gettext("Done."))
        if job.kind == "delete-policy":
            return redirect("policy_list")
        kind = policy_kinds.KINDS.get(job.params.get("kind") or "netpol",
                                      policy_kinds.KINDS["netpol"])
        return redirect(services.detail_url(kind, job.params["namespace"], job.params["name"]))
    try:
        context = policy_detail.job_outcome(job)
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Policy job"))
    context["max_bytes"] = settings.MAX_YAML_BYTES
    return render(request, "policies/job.html", context)
