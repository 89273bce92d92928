from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from console.core.access import Access
from console.core.models import Role, RoleBinding


class RoleBindingForm(forms.Form):
    """Grant a role; who may grant what is checked against the granting user's Access."""

    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    workspace = forms.CharField(label=_("Workspace"), max_length=253, required=False)
    project = forms.CharField(label=_("Project"), max_length=253, required=False)

    def __init__(self, *args, access: Access, workspace_of: dict[str, str],
                 workspaces: set[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.access, self.workspace_of, self.workspaces = access, workspace_of, workspaces

    def clean_username(self) -> str:
        name = self.cleaned_data["username"]
        if not get_user_model().objects.filter(username=name).exists():
            hint = (_("Create the account under “Create a user” first.")
                    if self.access.platform_admin else _("Ask a platform admin to create it."))
            raise forms.ValidationError(_("There is no user named %(name)s. %(hint)s")
                                        % {"name": repr(name), "hint": hint})
        return name

    def clean(self):
        data = super().clean()
        role, ws, project = data.get("role"), data.get("workspace", ""), data.get("project", "")
        if not role:
            return data
        if role == Role.PLATFORM_ADMIN and (ws or project):
            raise forms.ValidationError(_("A platform admin has no workspace or project."))
        if role == Role.WORKSPACE_ADMIN and (not ws or project):
            raise forms.ValidationError(_("A workspace admin needs a workspace and no project."))
        if role == Role.PROJECT_ADMIN and (not project or ws):
            raise forms.ValidationError(_("A project admin needs a project and no workspace."))
        if ws and project:
            raise forms.ValidationError(_("Scope a binding to a workspace or a project, not both."))
        if ws and ws not in self.workspaces:
            self.add_error("workspace", f"There is no workspace {ws!r}.")
        if project and project not in self.workspace_of:
            self.add_error("project", f"There is no project {project!r} in any workspace.")
        if not self.errors and not can_grant(self.access, role, ws, project, self.workspace_of):
            raise forms.ValidationError(_("You cannot grant this role with this scope."))
        return data

    def save(self) -> RoleBinding:
        data = self.cleaned_data
        user = get_user_model().objects.get(username=data["username"])
        binding, _ = RoleBinding.objects.get_or_create(
            user=user, role=data["role"], workspace=data["workspace"], project=data["project"])
        return binding


def can_grant(access: Access, role: str, workspace: str, project: str,
              workspace_of: dict[str, str]) -> bool:
    """Platform admins grant anything; workspace admins only inside their workspaces."""
    if access.platform_admin:
        return True
    if role == Role.PLATFORM_ADMIN:
        return False
    if workspace:
        return workspace in access.admin_workspaces
    if project:
        return workspace_of.get(project) in access.admin_workspaces
    return False


def removal_refusal(binding: RoleBinding) -> str:
    """Why `binding` may not be removed ("" when it may): the console always keeps one
    platform admin of its own. Superusers do not count: they are managed outside the console
    (and may lose the flag there), so the last platform-admin binding of an active user stays."""
    if binding.role != Role.PLATFORM_ADMIN:
        return ""
    others = RoleBinding.objects.filter(role=Role.PLATFORM_ADMIN, user__is_active=True) \
        .exclude(pk=binding.pk)
    if others.exists():
        return ""
    return (f"{binding.user.get_username()} is the last platform admin: the console would have "
            "no one left to manage it. Grant the platform admin role to someone else first, "
            "then remove this one.")


def member_rows(access: Access, workspace_of: dict[str, str]) -> list[dict]:
    """The members list as effective rights: each binding the user may manage, plus every
    active superuser, who is a platform admin with or without a binding."""
    User = get_user_model()
    rows = []
    bound_admins = set()
    for binding in RoleBinding.objects.select_related("user").order_by("user__username", "role"):
        if binding.role == Role.PLATFORM_ADMIN:
            bound_admins.add(binding.user_id)
        if not can_grant(access, binding.role, binding.workspace, binding.project, workspace_of):
            continue
        rows.append({"username": binding.user.get_username(), "role": binding.get_role_display(),
                     "superuser": (binding.role == Role.PLATFORM_ADMIN
                                   and binding.user.is_superuser and binding.user.is_active),
                     "workspace": binding.workspace, "project": binding.project,
                     "binding": binding})
    if access.platform_admin:
        for user in User.objects.filter(is_superuser=True, is_active=True).exclude(
                pk__in=bound_admins).order_by("username"):
            rows.append({"username": user.get_username(), "role": Role.PLATFORM_ADMIN.label,
                         "superuser": True, "workspace": "", "project": "", "binding": None})
    rows.sort(key=lambda r: (r["username"], r["binding"] is not None))
    return rows


class LocalUserForm(UserCreationForm):
    """A local account: username, the password twice (checked by AUTH_PASSWORD_VALIDATORS) and
    an optional email address."""

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = False
        self.fields["email"].help_text = "Optional."
        # Django's own form also offers "password-based authentication: disabled"; a console
        # account always has a password.
        self.fields.pop("usable_password", None)


def deactivation_refusal(user, actor) -> str:
    """Why `user` may not be deactivated by `actor` ("" when they may): not oneself, and never
    the last active platform admin (the rule of `removal_refusal`, for every admin binding)."""
    if user.pk == actor.pk:
        return "You cannot deactivate your own account: ask another platform admin."
    for binding in RoleBinding.objects.filter(user=user, role=Role.PLATFORM_ADMIN):
        if removal_refusal(binding):
            return (f"{user.get_username()} is the last active platform admin: the console would "
                    "have no one left to manage it. Grant the platform admin role to someone "
                    "else first, then deactivate this account.")
    return ""


def local_users():
    """Every account, for the platform admin's Users table: active first, then by name."""
    return get_user_model().objects.order_by("-is_active", "username")


class InviteForm(forms.Form):
    """An account for someone who signs in with the identity provider: a username and no
    password, so nobody can sign in to it locally; their first single sign-on takes it over."""

    username = forms.CharField(label=_("Username"), max_length=150,
                               validators=[UnicodeUsernameValidator()],
                               help_text=_("Exactly the username the identity provider sends."))
    email = forms.EmailField(label=_("Email"), required=False, help_text=_("Optional; the provider's is used after "
                                                       "the first sign-in."))

    def clean_username(self) -> str:
        name = self.cleaned_data["username"]
        if get_user_model().objects.filter(username=name).exists():
            raise forms.ValidationError(_("There already is an account named %(name)s.")
                                        % {"name": repr(name)})
        return name

    def save(self):
        user = get_user_model().objects.create_user(self.cleaned_data["username"],
                                                    email=self.cleaned_data["email"])
        return user  # create_user without a password leaves it unusable
