"""Each user's language: the header's switcher saves it on their account, and it is spoken to
them in every session and browser, over the language cookie and Accept-Language; the cookie
and the browser still decide before sign-in and for users who never chose."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from console.core.language import requester_language
from console.core.models import Role, RoleBinding, UserPreference
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

CHINESE_TITLE = "企业空间"


def switch(client: Client, language: str, next_page: str = "/workspaces/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_page})


def signed_in(name: str, **headers) -> Client:
    """A new browser (no cookie at all) signed in as `name`."""
    client = Client(headers=headers)
    assert client.login(username=name, password=PASSWORD)
    return client


def language_of(page) -> str:
    return page.text.split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_switch_is_saved_on_the_account(demo_cluster, personas, login_as):
    client = login_as("alice")
    response = switch(client, "zh-hans")
    assert response.status_code == 302 and response.url == "/workspaces/"
    assert UserPreference.objects.get(user=personas["alice"]).language == "zh-hans"
    switch(client, "en")
    assert UserPreference.objects.get(user=personas["alice"]).language == "en"
    assert UserPreference.objects.count() == 1


def test_the_saved_language_is_spoken_in_a_new_browser_without_cookie(demo_cluster, personas,
                                                                       login_as):
    switch(login_as("bob"), "zh-hans")
    browser = signed_in("bob")
    assert settings.LANGUAGE_COOKIE_NAME not in browser.cookies
    page = browser.get(reverse("workspace_list"))
    assert language_of(page) == "zh-hans" and CHINESE_TITLE in page.text
    # The cookie follows, so the sign-in page after signing out speaks it too.
    assert page.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    browser.post(reverse("logout"))
    assert "登录" in browser.get(reverse("login")).text


def test_the_saved_language_wins_over_accept_language_and_the_cookie(demo_cluster, personas,
                                                                      login_as):
    switch(login_as("carol"), "en")
    browser = signed_in("carol", accept_language="zh-CN,zh;q=0.9")
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = browser.get(reverse("workspace_list"))
    assert language_of(page) == "en" and CHINESE_TITLE not in page.text
    assert page.headers["Content-Language"] == "en"


def test_without_a_saved_language_the_browser_decides(demo_cluster, personas):
    browser = signed_in("dave", accept_language="zh-Hans")
    assert language_of(browser.get(reverse("workspace_list"))) == "zh-hans"
    assert language_of(signed_in("dave").get(reverse("workspace_list"))) == "en"
    assert not UserPreference.objects.exists()


@pytest.mark.parametrize("language", ["fr", "zh", "ZH-HANS", "", "en;", "x" * 200])
def test_a_language_the_console_does_not_speak_is_refused(demo_cluster, personas, login_as,
                                                          language):
    client = login_as("alice")
    switch(client, "zh-hans")
    response = switch(client, language)
    assert response.status_code == 400
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert UserPreference.objects.get(user=personas["alice"]).language == "zh-hans"


def test_a_refused_language_before_sign_in_changes_nothing(client):
    response = switch(client, "de", reverse("login"))
    assert response.status_code == 400 and settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert not UserPreference.objects.exists()


def test_the_switcher_only_takes_a_post(client):
    assert client.get(reverse("set_language"), {"language": "zh-hans"}).status_code == 405


def test_switching_before_sign_in_saves_nothing(client, personas):
    switch(client, "zh-hans", reverse("login"))
    assert not UserPreference.objects.exists()


def test_a_single_sign_on_account_gets_its_preference_when_it_first_chooses(demo_cluster):
    # Single sign-on makes accounts just in time, without a password and without preferences.
    henry = User.objects.create_user("henry")
    RoleBinding.objects.create(user=henry, role=Role.PLATFORM_ADMIN)
    first = Client()
    first.force_login(henry, backend="console.sso.backend.OIDCBackend")
    assert language_of(first.get(reverse("workspace_list"))) == "en"
    switch(first, "zh-hans")
    assert UserPreference.objects.get(user=henry).language == "zh-hans"
    second = Client()
    second.force_login(henry, backend="console.sso.backend.OIDCBackend")
    assert language_of(second.get(reverse("workspace_list"))) == "zh-hans"


def test_a_job_speaks_its_requesters_saved_language(personas):
    UserPreference.objects.create(user=personas["erin"], language="zh-hans")
    with translation.override("en"):
        with requester_language(personas["erin"]):
            assert translation.get_language() == "zh-hans"
        with requester_language(personas["frank"]):
            assert translation.get_language() == "en"
        with requester_language(None):
            assert translation.get_language() == "en"
