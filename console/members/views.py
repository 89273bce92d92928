from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from cluster.errors import ClusterError
from console.core import tenants
from console.core.access import access_of
from console.core.models import Role, RoleBinding
from console.core.responses import render_cluster_error
from console.members.forms import (
    InviteForm,
    LocalUserForm,
    RoleBindingForm,
    can_grant,
    deactivation_refusal,
    local_users,
    member_rows,
    removal_refusal,
)


def _require_member_manager(request):
    access = access_of(request)
    if not access.can_manage_members:
        raise PermissionDenied(gettext("Only platform and workspace admins manage members."))
    return access


@require_http_methods(["GET", "POST"])
def member_list(request):
    access = _require_member_manager(request)
    try:
        directory = tenants.directory()
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Members"))
    workspace_of = directory.workspace_of
    form = RoleBindingForm(request.POST or None, access=access, workspace_of=workspace_of,
                           workspaces=set(directory.workspaces))
    if request.method == "POST" and form.is_valid():
        binding = form.save()
        messages.success(request, gettext("Granted: %(binding)s.") % {"binding": binding})
        return redirect("member_list")
    return _members_page(request, access, workspace_of, form=form,
                         status=400 if form.errors else 200)


def _members_page(request, access, workspace_of, *, form=None, user_form=None, status=200):
    if form is None:
        form = RoleBindingForm(access=access, workspace_of=workspace_of,
                               workspaces=set(workspace_of.values()))
    context = {"form": form, "rows": member_rows(access, workspace_of)}
    if access.platform_admin:
        context["users"] = local_users()
        context["user_form"] = user_form or LocalUserForm()
    return render(request, "console/members.html", context, status=status)


def _require_platform_admin(request):
    access = access_of(request)
    if not access.platform_admin:
        raise PermissionDenied(gettext("Only platform admins manage user accounts."))
    return access


@require_http_methods(["POST"])
def member_user_create(request):
    """A platform admin creates a local account; roles are granted with the form beside it."""
    access = _require_platform_admin(request)
    user_form = LocalUserForm(request.POST)
    if user_form.is_valid():
        user = user_form.save()
        messages.success(request, gettext("Created user %(name)s. Grant a role to let them see or "
                                          "change something.") % {"name": user.get_username()})
        return redirect("member_list")
    try:
        workspace_of = tenants.directory().workspace_of
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Members"))
    return _members_page(request, access, workspace_of, user_form=user_form, status=400)


@require_http_methods(["GET", "POST"])
def member_user_invite(request):
    """A platform admin invites someone who signs in with the identity provider: an account
    without a password, which their first single sign-on takes over."""
    _require_platform_admin(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        messages.success(request, gettext("Invited %(name)s: they sign in with single sign-on. Grant "
                                          "a role to let them see or change something.")
                         % {"name": user.get_username()})
        return redirect("member_list")
    return render(request, "members/user_invite.html", {"form": form},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def member_user_password(request, user_id: int):
    """A platform admin sets a new password for a local account (twice, validated)."""
    _require_platform_admin(request)
    account = get_object_or_404(get_user_model(), pk=user_id)
    form = SetPasswordForm(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, gettext("Set a new password for %(name)s.")
                     % {"name": account.get_username()})
        return redirect("member_list")
    return render(request, "members/user_password.html", {"account": account, "form": form},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def member_user_active(request, user_id: int):
    """GET asks; POST deactivates (or reactivates) an account. The last active platform admin
    and one's own account are never deactivated."""
    _require_platform_admin(request)
    account = get_object_or_404(get_user_model(), pk=user_id)
    activate = not account.is_active
    refusal = ""
    if request.method == "POST":
        with transaction.atomic():
            list(RoleBinding.objects.select_for_update().filter(role=Role.PLATFORM_ADMIN))
            refusal = "" if activate else deactivation_refusal(account, request.user)
            if not refusal:
                account.is_active = activate
                account.save(update_fields=["is_active"])
        if not refusal:
            done = gettext("Reactivated %(name)s.") if activate else gettext("Deactivated %(name)s.")
            messages.success(request, done % {"name": account.get_username()})
            return redirect("member_list")
    elif not activate:
        refusal = deactivation_refusal(account, request.user)
    return render(request, "members/user_active.html",
                  {"account": account, "activate": activate, "refusal": refusal},
                  status=409 if refusal and request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def member_delete(request, binding_id: int):
    """GET asks for confirmation; POST removes. The last platform admin is never removed."""
    access = _require_member_manager(request)
    binding = get_object_or_404(RoleBinding.objects.select_related("user"), pk=binding_id)
    try:
        workspace_of = tenants.directory().workspace_of
    except ClusterError as exc:
        return render_cluster_error(request, exc, title=gettext("Members"))
    if not can_grant(access, binding.role, binding.workspace, binding.project, workspace_of):
        raise PermissionDenied(gettext("You cannot remove this binding."))
    if request.method == "POST":
        with transaction.atomic():
            # Two admins removing each other at once must not both pass the last-admin check.
            list(RoleBinding.objects.select_for_update().filter(role=Role.PLATFORM_ADMIN))
            refusal = removal_refusal(binding)
            if not refusal:
                binding.delete()
        if not refusal:
            messages.success(request, gettext("Removed: %(binding)s.") % {"binding": binding})
            return redirect("member_list")
    else:
        refusal = removal_refusal(binding)
    context = {"binding": binding, "refusal": refusal,
               "superuser": binding.user.is_superuser and binding.user.is_active,
               "own": binding.user_id == request.user.pk}
    return render(request, "members/confirm_delete.html", context,
                  status=409 if refusal and request.method == "POST" else 200)
