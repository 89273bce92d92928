"""Members: removal asks first, never leaves the console without a platform admin, and the
list shows effective rights (superusers are platform admins with or without a binding)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from console.core.models import Role, RoleBinding

pytestmark = pytest.mark.django_db


def binding_of(name: str) -> RoleBinding:
    return RoleBinding.objects.get(user__username=name)


def test_removing_a_binding_asks_for_confirmation_first(demo_cluster, personas, login_as):
    client = login_as("alice")
    erins = binding_of("erin")
    url = reverse("member_delete", args=[erins.pk])
    listing = client.get(reverse("member_list")).content.decode()
    assert f'href="{url}"' in listing          # a link to the confirm step, not a one-click form
    confirm = client.get(url)
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Remove viewer from erin?" in body and f'action="{url}"' in body
    assert RoleBinding.objects.filter(pk=erins.pk).exists()  # asking removes nothing
    done = client.post(url)
    assert done.status_code == 302
    assert not RoleBinding.objects.filter(pk=erins.pk).exists()


def test_the_last_platform_admin_cannot_be_removed(demo_cluster, personas, login_as):
    client = login_as("alice")
    alices = binding_of("alice")
    url = reverse("member_delete", args=[alices.pk])
    confirm = client.get(url).content.decode()
    assert "alice is the last platform admin" in confirm
    assert 'type="submit">Remove<' not in confirm
    refused = client.post(url)
    assert refused.status_code == 409
    assert "Grant the platform admin role to someone else first" in refused.content.decode()
    assert RoleBinding.objects.filter(pk=alices.pk).exists()


def test_the_last_platform_admin_binding_stays_even_for_a_superuser(demo_cluster, personas,
                                                                    login_as):
    alice = personas["alice"]
    alice.is_superuser = True
    alice.save()
    response = login_as("alice").post(reverse("member_delete", args=[binding_of("alice").pk]))
    assert response.status_code == 409
    assert RoleBinding.objects.filter(user=alice, role=Role.PLATFORM_ADMIN).exists()


def test_a_platform_admin_may_be_removed_while_another_remains(demo_cluster, personas, login_as):
    RoleBinding.objects.create(user=personas["dave"], role=Role.PLATFORM_ADMIN)
    alices = binding_of("alice")
    response = login_as("alice").post(reverse("member_delete", args=[alices.pk]))
    assert response.status_code == 302
    assert not RoleBinding.objects.filter(pk=alices.pk).exists()


def test_an_inactive_user_does_not_count_as_the_remaining_admin(demo_cluster, personas,
                                                                 login_as):
    ghost = User.objects.create_user("ghost", password="pw-ghost-1", is_active=False)
    RoleBinding.objects.create(user=ghost, role=Role.PLATFORM_ADMIN)
    response = login_as("alice").post(reverse("member_delete", args=[binding_of("alice").pk]))
    assert response.status_code == 409


def test_a_superuser_without_binding_is_listed_as_platform_admin(demo_cluster, personas,
                                                                 login_as):
    User.objects.create_superuser("root", password="pw-root-1")
    body = login_as("alice").get(reverse("member_list")).content.decode()
    row = body.split('data-member="root"', 1)[1].split("</tr>", 1)[0]
    assert "Platform admin" in row and "superuser" in row
    assert "managed outside the console" in row  # nothing to remove in the console


def test_a_superuser_with_a_binding_is_marked_so_removal_is_not_mistaken(demo_cluster, personas,
                                                                         login_as):
    alice = personas["alice"]
    alice.is_superuser = True
    alice.save()
    body = login_as("alice").get(reverse("member_list")).content.decode()
    assert body.count('data-member="alice"') == 1   # one row: the binding, marked superuser
    row = body.split('data-member="alice"', 1)[1].split("</tr>", 1)[0]
    assert "Platform admin" in row and "superuser" in row


def test_a_workspace_admin_sees_no_superusers_and_cannot_open_a_foreign_removal(
        demo_cluster, personas, login_as):
    User.objects.create_superuser("root", password="pw-root-1")
    client = login_as("bob")
    assert 'data-member="root"' not in client.get(reverse("member_list")).content.decode()
    assert client.get(reverse("member_delete", args=[binding_of("frank").pk])).status_code == 403
    assert client.get(reverse("member_delete", args=[binding_of("alice").pk])).status_code == 403
