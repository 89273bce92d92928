"""Identity-provider groups → the console's role bindings.

OIDC_GROUP_ROLES lists `group=role[:scope]` entries separated by `;`, for example

    platform-admins=platform_admin; team-a=workspace_admin:team-a;
    shop-devs=project_admin:shop; auditors=viewer; *=viewer

Roles: `platform_admin`, `workspace_admin:<workspace>`, `project_admin:<project>` and `viewer`
(`viewer`, `viewer:workspace/<workspace>` or `viewer:project/<project>`). The group `*` matches
everyone the provider signs in.

The bindings the mapping can produce are the ones it manages: at each sign-in a managed binding
is added when one of the user's groups maps to it and removed when none does. Bindings granted
by hand on the Members page that no mapping entry produces are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console.core.models import Role

EVERYONE = "*"


@dataclass(frozen=True, order=True)
class Grant:
    """One role binding as (role, workspace, project), the shape of a RoleBinding row."""

    role: str
    workspace: str = ""
    project: str = ""


@dataclass(frozen=True)
class GroupRoles:
    """A parsed OIDC_GROUP_ROLES: which grants each group brings."""

    by_group: dict[str, frozenset[Grant]]

    @property
    def managed(self) -> frozenset[Grant]:
        """Every grant some group can bring: the bindings sign-in keeps in step."""
        return frozenset().union(*self.by_group.values()) if self.by_group else frozenset()

    def grants_for(self, groups: Iterable[str]) -> frozenset[Grant]:
        """The grants of a user in `groups` (the `*` entry applies to everyone)."""
        names = set(groups) | {EVERYONE}
        return frozenset().union(*(self.by_group.get(name, frozenset()) for name in names))


class MappingError(ValueError):
    """OIDC_GROUP_ROLES cannot be read; the message names the entry."""


def _grant(role: str, scope: str, entry: str) -> Grant:
    if role == "platform_admin" and not scope:
        return Grant(Role.PLATFORM_ADMIN)
    if role == "workspace_admin" and scope:
        return Grant(Role.WORKSPACE_ADMIN, workspace=scope)
    if role == "project_admin" and scope:
        return Grant(Role.PROJECT_ADMIN, project=scope)
    if role == "viewer":
        if not scope:
            return Grant(Role.VIEWER)
        kind, _, name = scope.partition("/")
        if kind == "workspace" and name:
            return Grant(Role.VIEWER, workspace=name)
        if kind == "project" and name:
            return Grant(Role.VIEWER, project=name)
    raise MappingError(
        f"OIDC_GROUP_ROLES entry {entry!r}: expected platform_admin, workspace_admin:<workspace>, "
        "project_admin:<project>, viewer, viewer:workspace/<workspace> or "
        "viewer:project/<project>.")


def parse_group_roles(text: str) -> GroupRoles:
    """Read OIDC_GROUP_ROLES; raises MappingError naming the first entry it cannot read."""
    by_group: dict[str, set[Grant]] = {}
    for raw in text.replace("\n", ";").split(";"):
        entry = raw.strip()
        if not entry:
            continue
        group, sep, target = (part.strip() for part in entry.partition("="))
        if not sep or not group or not target:
            raise MappingError(f"OIDC_GROUP_ROLES entry {entry!r}: expected group=role.")
        role, _, scope = (part.strip() for part in target.partition(":"))
        by_group.setdefault(group, set()).add(_grant(role, scope, entry))
    return GroupRoles({group: frozenset(grants) for group, grants in by_group.items()})
