"""Single sign-on against a real OpenID provider: the code flow through its login form, accounts
created just in time, groups mapped onto role bindings at every sign-in, and the checks of
state, issuer and local accounts."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from console.core.models import Role, RoleBinding
from tests.conftest import PASSWORD
from tests.sso.conftest import USERS, callback_path, provider_login, query_of

pytestmark = pytest.mark.django_db


def sign_in(client, username: str, password: str):
    """The whole flow: the console's button, the provider's form, back to the console."""
    start = client.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302
    back = provider_login(start["Location"], username, password)
    return client.get(callback_path(back))


def bindings_of(username: str) -> set[tuple[str, str, str]]:
    return {(b.role, b.workspace, b.project)
            for b in RoleBinding.objects.filter(user__username=username)}


def test_the_login_page_offers_the_provider_only_when_configured(client, oidc_provider,
                                                                 sso_settings):
    assert "Sign in with" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    sso_settings(oidc_provider)
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Test IdP" in page and 'name="password"' in page


def test_a_new_user_is_created_with_the_roles_of_their_groups(client, demo_cluster,
                                                             oidc_provider, sso_settings):
    sso_settings(oidc_provider)
    done = sign_in(client, "henry", "henry-pw")
    assert done.status_code == 302 and done["Location"] == reverse("home")
    henry = User.objects.get(username="henry")
    assert henry.email == "henry@example.com" and not henry.has_usable_password()
    assert bindings_of("henry") == {(Role.WORKSPACE_ADMIN, "team-a", ""),
                                    (Role.PROJECT_ADMIN, "", "shop")}
    page = client.get(reverse("member_list")).content.decode()
    assert "henry · Workspace admin" in page


def test_a_platform_admin_group_makes_a_platform_admin(client, demo_cluster, oidc_provider,
                                                       sso_settings):
    sso_settings(oidc_provider)
    sign_in(client, "grace", "grace-pw")
    assert bindings_of("grace") == {(Role.PLATFORM_ADMIN, "", "")}
    assert client.get(reverse("member_list")).status_code == 200


def test_the_next_page_is_kept_through_the_provider(client, demo_cluster, oidc_provider,
                                                    sso_settings):
    sso_settings(oidc_provider)
    start = client.get(reverse("oidc_authentication_init") + "?next=/history/")
    done = client.get(callback_path(provider_login(start["Location"], "grace", "grace-pw")))
    assert done["Location"] == "/history/"


def test_a_wrong_password_at_the_provider_signs_nobody_in(client, oidc_provider, sso_settings):
    sso_settings(oidc_provider)
    start = client.get(reverse("oidc_authentication_init"))
    with pytest.raises(AssertionError, match="Invalid"):
        provider_login(start["Location"], "henry", "not-his-password")
    assert not User.objects.filter(username="henry").exists()


def test_roles_follow_the_groups_at_each_sign_in(client, demo_cluster, restartable_provider,
                                                 sso_settings):
    sso_settings(restartable_provider(USERS))
    sign_in(client, "judy", "judy-pw")
    assert bindings_of("judy") == {(Role.PROJECT_ADMIN, "", "shop")}
    judy = User.objects.get(username="judy")
    # A platform admin grants something by hand that no group maps to: sign-in leaves it alone.
    RoleBinding.objects.create(user=judy, role=Role.VIEWER, project="web")

    moved = {**USERS, "judy": {**USERS["judy"], "groups": ["team-a"]}}
    sso_settings(restartable_provider(moved))
    client.logout()
    sign_in(client, "judy", "judy-pw")
    assert bindings_of("judy") == {(Role.WORKSPACE_ADMIN, "team-a", ""),
                                   (Role.VIEWER, "", "web")}
    assert User.objects.filter(username="judy").count() == 1


def test_a_user_whose_groups_map_to_no_role_is_refused_and_no_account_is_made(
        client, oidc_provider, sso_settings):
    sso_settings(oidc_provider)
    done = sign_in(client, "ivan", "ivan-pw")
    assert done["Location"] == reverse("login")
    assert not User.objects.filter(username="ivan").exists()
    page = client.get(reverse("login")).content.decode()
    assert "none of your groups has a role in this console" in page
    assert "_auth_user_id" not in client.session


def test_an_everyone_entry_makes_unmapped_users_viewers(client, demo_cluster, oidc_provider,
                                                        sso_settings):
    sso_settings(oidc_provider, OIDC_GROUP_ROLES="platform-admins=platform_admin; *=viewer")
    sign_in(client, "ivan", "ivan-pw")
    assert bindings_of("ivan") == {(Role.VIEWER, "", "")}


def test_an_invited_account_is_taken_over_by_its_first_sign_in(client, demo_cluster,
                                                               oidc_provider, sso_settings):
    sso_settings(oidc_provider)
    invited = User.objects.create_user("ivan")  # no password: what the Members invite makes
    RoleBinding.objects.create(user=invited, role=Role.VIEWER, project="shop")
    done = sign_in(client, "ivan", "ivan-pw")
    assert done["Location"] == reverse("home")
    assert int(client.session["_auth_user_id"]) == invited.pk
    assert bindings_of("ivan") == {(Role.VIEWER, "", "shop")}
    assert User.objects.get(pk=invited.pk).email == "ivan@example.com"


def test_a_local_account_is_never_taken_over(client, oidc_provider, sso_settings):
    sso_settings(oidc_provider)
    User.objects.create_user("grace", password="local-password-1")
    done = sign_in(client, "grace", "grace-pw")
    assert done["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert not RoleBinding.objects.filter(user__username="grace").exists()
    assert "is a local account" in client.get(reverse("login")).content.decode()


def test_a_deactivated_account_cannot_sign_in(client, oidc_provider, sso_settings):
    sso_settings(oidc_provider)
    User.objects.create_user("henry", is_active=False)
    sign_in(client, "henry", "henry-pw")
    assert "_auth_user_id" not in client.session
    assert "is deactivated" in client.get(reverse("login")).content.decode()


def test_a_tampered_state_is_refused(client, oidc_provider, sso_settings):
    sso_settings(oidc_provider)
    start = client.get(reverse("oidc_authentication_init"))
    back = provider_login(start["Location"], "grace", "grace-pw")
    query = query_of(back)
    tampered = f"{reverse('oidc_authentication_callback')}?code={query['code']}&state=forged"
    assert client.get(tampered).status_code == 400
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username="grace").exists()


def test_a_state_is_used_once(client, demo_cluster, oidc_provider, sso_settings):
    sso_settings(oidc_provider)
    start = client.get(reverse("oidc_authentication_init"))
    back = callback_path(provider_login(start["Location"], "grace", "grace-pw"))
    assert client.get(back).status_code == 302
    client.logout()
    replayed = client.get(back)
    assert replayed.status_code in (302, 400)
    assert "_auth_user_id" not in client.session


def test_the_state_and_nonce_are_sent_and_kept_in_the_session(client, oidc_provider,
                                                              sso_settings):
    sso_settings(oidc_provider)
    query = query_of(client.get(reverse("oidc_authentication_init"))["Location"])
    assert query["client_id"] == "console" and query["code_challenge_method"] == "S256"
    kept = client.session["oidc_states"][query["state"]]
    assert kept["nonce"] == query["nonce"] and len(query["nonce"]) >= 32


@pytest.mark.parametrize("claims, refusal", [
    ({"iss": "http://127.0.0.1:1", "aud": "console"}, "another provider"),
    ({"aud": "another-client"}, "another client"),
])
def test_id_tokens_of_another_issuer_or_client_are_refused(oidc_provider, sso_settings,
                                                          monkeypatch, claims, refusal):
    from django.core.exceptions import SuspiciousOperation

    from console.sso.backend import OIDCBackend

    sso_settings(oidc_provider)
    payload = {"iss": oidc_provider.issuer, "nonce": "n", **claims}
    monkeypatch.setattr(OIDCBackend, "retrieve_matching_jwk", lambda self, token: None)
    monkeypatch.setattr(OIDCBackend, "get_payload_data", lambda self, token, key: payload)
    with pytest.raises(SuspiciousOperation, match=refusal):
        OIDCBackend().verify_token("a.signed.token", nonce="n")


def test_the_provider_being_down_is_said_on_the_login_page(client, sso_settings):
    from tests.sso.conftest import Provider

    sso_settings(Provider("none", "http://127.0.0.1:9", "preferred_username"))
    done = client.get(reverse("oidc_authentication_init"))
    assert done["Location"] == reverse("login")
    assert "Single sign-on is unavailable right now" in client.get(reverse("login")).content.decode()


def test_local_sign_in_works_beside_single_sign_on(client, personas, oidc_provider,
                                                   sso_settings):
    sso_settings(oidc_provider)
    done = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert done.status_code == 302


def test_an_invitation_from_the_members_page_is_taken_over_with_its_roles(
        client, demo_cluster, personas, login_as, oidc_provider, sso_settings):
    sso_settings(oidc_provider)
    admin = login_as("alice")
    assert admin.post(reverse("member_user_invite"), {"username": "ivan"}).status_code == 302
    assert admin.post(reverse("member_list"), {"username": "ivan", "role": Role.VIEWER,
                                               "project": "shop"}).status_code == 302
    client.logout()
    sign_in(client, "ivan", "ivan-pw")
    assert client.session["_auth_user_id"] == str(User.objects.get(username="ivan").pk)
    assert bindings_of("ivan") == {(Role.VIEWER, "", "shop")}


def test_the_last_platform_admin_keeps_the_role_when_their_group_is_gone(
        client, demo_cluster, restartable_provider, sso_settings):
    sso_settings(restartable_provider(USERS))
    sign_in(client, "grace", "grace-pw")
    assert bindings_of("grace") == {(Role.PLATFORM_ADMIN, "", "")}
    demoted = {**USERS, "grace": {**USERS["grace"], "groups": ["auditors"]}}
    sso_settings(restartable_provider(demoted))
    client.logout()
    sign_in(client, "grace", "grace-pw")
    assert bindings_of("grace") == {(Role.PLATFORM_ADMIN, "", ""), (Role.VIEWER, "", "")}
