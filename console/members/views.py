from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cluster.errors import ClusterError
from console.core import tenants
from console.core.access import access_of
from console.core.models import RoleBinding
from console.core.responses import render_cluster_error
from console.members.forms import RoleBindingForm, can_grant


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
    bindings = [b for b in RoleBinding.objects.select_related("user")
                if can_grant(access, b.role, b.workspace, b.project, workspace_of)]
    return render(request, "console/members.html", {"form": form, "bindings": bindings},
                  status=400 if form.errors else 200)


@require_POST
def member_delete(request, binding_id: int):
    access = _require_member_manager(request)
    binding = get_object_or_404(RoleBinding, pk=binding_id)
    workspace_of = tenants.directory().workspace_of
    if not can_grant(access, binding.role, binding.workspace, binding.project, workspace_of):
        raise PermissionDenied("You cannot remove this binding.")
    binding.delete()
    messages.success(request, f"Removed: {binding}.")
    return redirect("member_list")
