"""OIDC_GROUP_ROLES: groups → role bindings, and the mistakes it reports."""

from __future__ import annotations

import pytest

from console.core.models import Role
from console.sso.checks import group_roles_are_readable
from console.sso.mapping import Grant, MappingError, parse_group_roles

EXAMPLE = ("platform-admins=platform_admin; team-a=workspace_admin:team-a;"
           "shop-devs=project_admin:shop; auditors=viewer; shop-qa=viewer:project/shop;"
           "a-readers=viewer:workspace/team-a")


@pytest.mark.parametrize("groups, grants", [
    (["platform-admins"], {Grant(Role.PLATFORM_ADMIN)}),
    (["team-a", "shop-devs"], {Grant(Role.WORKSPACE_ADMIN, workspace="team-a"),
                               Grant(Role.PROJECT_ADMIN, project="shop")}),
    (["auditors"], {Grant(Role.VIEWER)}),
    (["shop-qa", "a-readers"], {Grant(Role.VIEWER, project="shop"),
                                Grant(Role.VIEWER, workspace="team-a")}),
    (["marketing"], set()),
    ([], set()),
])
def test_groups_map_to_grants(groups, grants):
    assert parse_group_roles(EXAMPLE).grants_for(groups) == grants


def test_the_managed_grants_are_every_grant_the_mapping_can_bring():
    assert len(parse_group_roles(EXAMPLE).managed) == 6
    assert parse_group_roles("").managed == frozenset()


def test_one_group_may_bring_several_roles_and_everyone_has_the_star_entry():
    mapping = parse_group_roles("ops=platform_admin;ops=viewer;*=viewer:project/shop")
    assert mapping.grants_for(["ops"]) == {Grant(Role.PLATFORM_ADMIN), Grant(Role.VIEWER),
                                           Grant(Role.VIEWER, project="shop")}
    assert mapping.grants_for([]) == {Grant(Role.VIEWER, project="shop")}


@pytest.mark.parametrize("text", [
    "admins", "=platform_admin", "admins=", "admins=root", "team-a=workspace_admin",
    "shop=project_admin", "x=platform_admin:team-a", "x=viewer:shop", "x=viewer:project/",
])
def test_an_unreadable_entry_is_named(text):
    with pytest.raises(MappingError, match="OIDC_GROUP_ROLES entry"):
        parse_group_roles(text)


def test_an_unreadable_mapping_stops_the_console_at_start(settings):
    settings.OIDC_GROUP_ROLES = "admins=root"
    assert [error.id for error in group_roles_are_readable(None)] == ["sso.E001"]
    settings.OIDC_GROUP_ROLES = EXAMPLE
    assert group_roles_are_readable(None) == []
