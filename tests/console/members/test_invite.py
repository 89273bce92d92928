"""Members: platform admins invite people who sign in with the identity provider: an account
with no password, taken over by its first single sign-on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_platform_admin_invites_a_user_who_has_no_password(demo_cluster, personas, login_as,
                                                            client):
    admin = login_as("alice")
    assert "Invite a single sign-on user" in admin.get(reverse("member_user_invite")).content.decode()
    done = admin.post(reverse("member_user_invite"),
                      {"username": "grace", "email": "grace@example.com"})
    assert done.status_code == 302
    grace = User.objects.get(username="grace")
    assert grace.is_active and grace.email == "grace@example.com"
    assert not grace.has_usable_password()
    assert "Invited grace" in admin.get(reverse("member_list")).content.decode()
    client.logout()
    assert not client.login(username="grace", password="")


def test_an_invitation_for_an_existing_username_is_refused(demo_cluster, personas, login_as):
    refused = login_as("alice").post(reverse("member_user_invite"), {"username": "erin"})
    assert refused.status_code == 400
    assert "There already is an account named" in refused.content.decode()
    assert User.objects.get(username="erin").has_usable_password()


def test_an_invitation_needs_a_valid_username(demo_cluster, personas, login_as):
    refused = login_as("alice").post(reverse("member_user_invite"), {"username": "no spaces"})
    assert refused.status_code == 400
    assert not User.objects.filter(username="no spaces").exists()


@pytest.mark.parametrize("name", ["bob", "carol", "dave", "erin"])
def test_only_platform_admins_invite(demo_cluster, personas, login_as, name):
    other = login_as(name)
    assert other.get(reverse("member_user_invite")).status_code == 403
    assert other.post(reverse("member_user_invite"), {"username": "grace"}).status_code == 403
    assert not User.objects.filter(username="grace").exists()
