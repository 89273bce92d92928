from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from cluster.errors import ClusterError
from console.core import tenants
from console.core.access import access_of
from console.core.models import Role, RoleBinding
from console.core.responses import render_cluster_error
from console.members.forms import RoleBindingForm, can_grant, member_rows, removal_refusal


def _require_member_manager(request):
    access = access_of(request)
    if not access.can_manage_members:
        raise PermissionDenied("Only platform and workspace admins manage members.")
    return access


@require_http_methods(["GET", "POST"])
def member_list(request):
    access = _require_member_manager(request)
    try:
        directory = tenants.directory()
    except ClusterError as exc:
        return render_cluster_error(request, exc, title="Members")
    workspace_of = directory.workspace_of
    form = RoleBindingForm(request.POST or None, access=access, workspace_of=workspace_of,
                           workspaces=set(directory.workspaces))
    if request.method == "POST" and form.is_valid():
        binding = form.save()
        messages.success(request, f"Granted: {binding}.")
        return redirect("member_list")
    return render(request, "console/members.html",
                  {"form": form, "rows": member_rows(access, workspace_of)},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def member_delete(request, binding_id: int):
    """GET asks for confirmation; POST removes. The last platform admin is never removed."""
    access = _require_member_manager(request)
    binding = get_object_or_404(RoleBinding.objects.select_related("user"), pk=binding_id)
    try:
        workspace_of = tenants.directory().workspace_of
    except ClusterError as exc:
        return render_cluster_error(request, exc, title="Members")
    if not can_grant(access, binding.role, binding.workspace, binding.project, workspace_of):
        raise PermissionDenied("You cannot remove this binding.")
    if request.method == "POST":
        with transaction.atomic():
            # Two admins removing each other at once must not both pass the last-admin check.
            list(RoleBinding.objects.select_for_update().filter(role=Role.PLATFORM_ADMIN))
            refusal = removal_refusal(binding)
            if not refusal:
                binding.delete()
        if not refusal:
            messages.success(request, f"Removed: {binding}.")
            return redirect("member_list")
    else:
        refusal = removal_refusal(binding)
    context = {"binding": binding, "refusal": refusal,
               "superuser": binding.user.is_superuser and binding.user.is_active,
               "own": binding.user_id == request.user.pk}
    return render(request, "members/confirm_delete.html", context,
                  status=409 if refusal and request.method == "POST" else 200)
