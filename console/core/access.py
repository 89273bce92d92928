"""Who may see and change what: the one place role bindings are interpreted.

Scopes are names in the cluster (workspaces and projects); which project belongs to which
workspace comes from the cluster (the `kubesphere.io/workspace` Namespace label), so every check
takes that mapping. Views never read RoleBinding themselves; they call a `get_*_for_user`
helper, which raises Http404 for what the user may not see (so a foreign tenant's name is not
even confirmed) and PermissionDenied for what they may see but not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext

from console.core.models import Role, RoleBinding


@dataclass(frozen=True)
class Access:
    """A user's effective rights, computed once per request."""

    username: str
    platform_admin: bool = False
    view_all: bool = False
    admin_workspaces: frozenset[str] = field(default_factory=frozenset)
    admin_projects: frozenset[str] = field(default_factory=frozenset)
    view_workspaces: frozenset[str] = field(default_factory=frozenset)
    view_projects: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_user(cls, user) -> Access:
        if user is None or not user.is_authenticated:
            return cls(username="")
        bindings = list(RoleBinding.objects.filter(user=user))
        roles = {b.role for b in bindings}
        platform = user.is_superuser or Role.PLATFORM_ADMIN in roles
        viewers = [b for b in bindings if b.role == Role.VIEWER]
        return cls(
            username=user.get_username(),
            platform_admin=platform,
            view_all=platform or any(not b.workspace and not b.project for b in viewers),
            admin_workspaces=frozenset(b.workspace for b in bindings if b.role == Role.WORKSPACE_ADMIN),
            admin_projects=frozenset(b.project for b in bindings if b.role == Role.PROJECT_ADMIN),
            view_workspaces=frozenset(b.workspace for b in viewers if b.workspace),
            view_projects=frozenset(b.project for b in viewers if b.project),
        )

    @property
    def role_label(self) -> str:
        if self.platform_admin:
            return Role.PLATFORM_ADMIN.label
        if self.admin_workspaces:
            return Role.WORKSPACE_ADMIN.label
        if self.admin_projects:
            return Role.PROJECT_ADMIN.label
        return Role.VIEWER.label

    @property
    def read_only(self) -> bool:
        """Viewers (and users with no binding) write nothing: no changes, no jobs."""
        return not (self.platform_admin or self.admin_workspaces or self.admin_projects)

    @property
    def can_manage_members(self) -> bool:
        return self.platform_admin or bool(self.admin_workspaces)

    def can_edit_cluster(self) -> bool:
        """Cluster-wide changes (policies outside any tenant, platform settings)."""
        return self.platform_admin

    def can_view_workspace(self, workspace: str, workspace_of: Mapping[str, str]) -> bool:
        if self.view_all or workspace in self.admin_workspaces or workspace in self.view_workspaces:
            return True
        # A project admin or viewer sees the workspace that holds their project.
        return any(workspace_of.get(p) == workspace for p in self.admin_projects | self.view_projects)

    def can_edit_workspace(self, workspace: str) -> bool:
        return self.platform_admin or workspace in self.admin_workspaces

    def can_view_project(self, project: str, workspace_of: Mapping[str, str]) -> bool:
        if self.view_all or project in self.admin_projects or project in self.view_projects:
            return True
        workspace = workspace_of.get(project)
        return bool(workspace) and (
            workspace in self.admin_workspaces or workspace in self.view_workspaces
        )

    def can_edit_project(self, project: str, workspace_of: Mapping[str, str]) -> bool:
        if self.platform_admin or project in self.admin_projects:
            return True
        workspace = workspace_of.get(project)
        return bool(workspace) and workspace in self.admin_workspaces

    def visible_projects(self, projects: list[str], workspace_of: Mapping[str, str]) -> list[str]:
        return [p for p in projects if self.can_view_project(p, workspace_of)]

    def visible_workspaces(self, workspaces: list[str], workspace_of: Mapping[str, str]) -> list[str]:
        return [w for w in workspaces if self.can_view_workspace(w, workspace_of)]


def access_of(request) -> Access:
    """The request's Access, computed once."""
    if not hasattr(request, "_console_access"):
        request._console_access = Access.for_user(request.user)
    return request._console_access


def require_writer(request) -> Access:
    """Access of a user who may start a change or a job: 403 for read-only users."""
    access = access_of(request)
    if access.read_only:
        raise PermissionDenied(gettext("You have read-only access: viewers change nothing "
                                       "and start no jobs."))
    return access


def require_workspace(request, workspace: str, workspace_of: Mapping[str, str], *,
                      known: bool, edit: bool = False) -> Access:
    """Access to one workspace: 404 when unknown or invisible, 403 when read-only."""
    access = access_of(request)
    if not known or not access.can_view_workspace(workspace, workspace_of):
        raise Http404("No such workspace.")
    if edit and not access.can_edit_workspace(workspace):
        raise PermissionDenied(gettext("You can view this workspace but not change it."))
    return access


def require_project(request, project: str, workspace_of: Mapping[str, str], *,
                    known: bool, edit: bool = False) -> Access:
    """Access to one project (namespace): 404 when unknown or invisible, 403 when read-only."""
    access = access_of(request)
    if not known or not access.can_view_project(project, workspace_of):
        raise Http404("No such project.")
    if edit and not access.can_edit_project(project, workspace_of):
        raise PermissionDenied(gettext("You can view this project but not change it."))
    return access


def scoped_to_user(queryset, request, workspace_of: Mapping[str, str]):
    """Jobs or changes the user may see: all for global viewers, else those of their scope."""
    from django.db.models import Q

    access = access_of(request)
    if access.view_all:
        return queryset
    projects = {p for p in workspace_of if access.can_view_project(p, workspace_of)}
    # Workspace-wide items only for workspace-wide roles: they can involve every project in it.
    workspaces = access.admin_workspaces | access.view_workspaces
    return queryset.filter(Q(project__in=projects) | Q(project="", workspace__in=workspaces))
