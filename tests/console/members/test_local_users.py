"""Members: platform admins create local accounts, reset their passwords and deactivate them;
the last active platform admin is never deactivated."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from console.core.models import Role, RoleBinding

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-harbour-42"


def test_a_platform_admin_creates_a_user_who_can_then_be_granted_a_role(demo_cluster, personas,
                                                                         login_as, client):
    admin = login_as("alice")
    page = admin.get(reverse("member_list")).content.decode()
    assert "Create a user" in page and 'data-user="erin"' in page
    done = admin.post(reverse("member_user_create"),
                      {"username": "grace", "email": "grace@example.com",
                       "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    grace = User.objects.get(username="grace")
    assert grace.email == "grace@example.com" and grace.check_password(NEW_PASSWORD)
    assert "Created user grace" in admin.get(reverse("member_list")).content.decode()
    granted = admin.post(reverse("member_list"), {"username": "grace", "role": Role.VIEWER})
    assert granted.status_code == 302
    assert RoleBinding.objects.filter(user=grace, role=Role.VIEWER).exists()


def test_creating_a_user_checks_the_password_twice_and_with_the_validators(demo_cluster,
                                                                           personas, login_as):
    admin = login_as("alice")
    mismatch = admin.post(reverse("member_user_create"),
                          {"username": "grace", "password1": NEW_PASSWORD, "password2": "other"})
    assert mismatch.status_code == 400
    assert "didn’t match" in mismatch.content.decode()
    weak = admin.post(reverse("member_user_create"),
                      {"username": "grace", "password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 400
    assert "too common" in weak.content.decode()
    assert not User.objects.filter(username="grace").exists()


def test_granting_to_an_unknown_user_points_to_creating_it(demo_cluster, personas, login_as):
    refused = login_as("alice").post(reverse("member_list"),
                                     {"username": "zoe", "role": Role.VIEWER})
    assert "There is no user named &#x27;zoe&#x27;. Create the account" in refused.content.decode()


def test_only_platform_admins_manage_accounts(demo_cluster, personas, login_as):
    bob = login_as("bob")  # a workspace admin manages members but not accounts
    assert "Create a user" not in bob.get(reverse("member_list")).content.decode()
    assert bob.post(reverse("member_user_create"),
                    {"username": "x", "password1": NEW_PASSWORD,
                     "password2": NEW_PASSWORD}).status_code == 403
    erin = personas["erin"]
    assert bob.post(reverse("member_user_active", args=[erin.pk])).status_code == 403
    assert bob.get(reverse("member_user_password", args=[erin.pk])).status_code == 403


def test_a_password_is_reset_and_the_old_one_stops_working(demo_cluster, personas, login_as,
                                                           client):
    admin = login_as("alice")
    erin = personas["erin"]
    url = reverse("member_user_password", args=[erin.pk])
    assert "Reset the password of erin" in admin.get(url).content.decode()
    done = admin.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    client.logout()
    assert client.login(username="erin", password=NEW_PASSWORD)


def test_a_user_is_deactivated_after_confirming_and_can_be_reactivated(demo_cluster, personas,
                                                                       login_as):
    admin = login_as("alice")
    erin = personas["erin"]
    url = reverse("member_user_active", args=[erin.pk])
    assert "Deactivate erin?" in admin.get(url).content.decode()
    erin.refresh_from_db()
    assert erin.is_active  # asking changes nothing
    assert admin.post(url).status_code == 302
    erin.refresh_from_db()
    assert not erin.is_active
    assert admin.post(url).status_code == 302
    erin.refresh_from_db()
    assert erin.is_active


def test_an_admin_is_deactivated_while_another_remains_but_never_oneself(demo_cluster,
                                                                         personas, login_as):
    RoleBinding.objects.create(user=personas["dave"], role=Role.PLATFORM_ADMIN)
    admin = login_as("alice")
    own = admin.get(reverse("member_user_active", args=[personas["alice"].pk])).content.decode()
    assert "You cannot deactivate your own account" in own
    dave = personas["dave"]
    assert admin.post(reverse("member_user_active", args=[dave.pk])).status_code == 302
    dave.refresh_from_db()
    assert not dave.is_active


def test_deactivating_the_last_active_platform_admin_is_refused(demo_cluster, personas,
                                                               login_as):
    root = User.objects.create_superuser("root", password="pw-root-1")
    client = login_as("alice")
    client.force_login(root)  # a superuser without binding: alice is the last bound admin
    url = reverse("member_user_active", args=[personas["alice"].pk])
    confirm = client.get(url).content.decode()
    assert "alice is the last active platform admin" in confirm
    assert 'type="submit">Deactivate<' not in confirm
    refused = client.post(url)
    assert refused.status_code == 409
    personas["alice"].refresh_from_db()
    assert personas["alice"].is_active


@pytest.mark.parametrize("name", ["bob", "carol", "dave", "erin", "frank"])
def test_no_one_but_a_platform_admin_creates_resets_or_deactivates(demo_cluster, personas,
                                                                   login_as, name):
    other = login_as(name)
    target = personas["erin"] if name != "erin" else personas["dave"]
    assert other.post(reverse("member_user_create"),
                      {"username": "mallory", "password1": NEW_PASSWORD,
                       "password2": NEW_PASSWORD}).status_code == 403
    assert other.post(reverse("member_user_password", args=[target.pk]),
                      {"new_password1": NEW_PASSWORD,
                       "new_password2": NEW_PASSWORD}).status_code == 403
    assert other.post(reverse("member_user_active", args=[target.pk])).status_code == 403
    target.refresh_from_db()
    assert target.is_active and not target.check_password(NEW_PASSWORD)
    assert not User.objects.filter(username="mallory").exists()
