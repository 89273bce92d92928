"""The console in Simplified Chinese: a browser whose language is Chinese gets every main page in
zh-Hans without any page scrolling sideways at 1440 and 390 px (screenshots in
test-artifacts/screenshots/zh-<page>-<width>.png), and the header's switcher changes the
language from the keyboard and keeps it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.test_responsive import CULPRITS, OVERFLOW, PAGES, reconciled  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1440, 390)


@pytest.fixture
def chinese_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_main_page_speaks_chinese_and_fits_the_window(chinese_page, reconciled, personas,  # noqa: F811
                                                              screenshot, width):
    page = chinese_page
    sign_in(page, "alice")
    page.set_viewport_size({"width": width, "height": 900})
    overflowing, english_titles = {}, []
    for name, address, ready in PAGES:
        page.goto(address)
        expect(page.locator(ready).first).to_be_visible(timeout=15_000)
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == "zh-hans", name
        if "网络隔离控制台" not in page.title():
            english_titles.append((name, page.title()))
        screenshot(page, f"zh-{name}-{width}")
        excess = page.evaluate(OVERFLOW)
        if excess > 0:
            overflowing[name] = (excess, page.evaluate(CULPRITS))
    assert not english_titles, f"pages whose title is not in Chinese: {english_titles}"
    assert not overflowing, f"pages wider than the {width} px window (excess px): {overflowing}"


def test_the_switcher_changes_the_language_from_the_keyboard_and_keeps_it(page, reconciled,  # noqa: F811
                                                                          personas):
    page.goto("/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    switcher = page.get_by_role("group", name="Language")
    chinese = switcher.get_by_role("button", name="简体中文")
    chinese.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("group", name="语言").get_by_role("button", name="简体中文")).to_have_attribute(
        "aria-pressed", "true")
    sign_in(page, "alice")
    page.goto("/workspaces/")
    expect(page.get_by_role("heading", name="企业空间", exact=True)).to_be_visible()
    page.get_by_role("group", name="语言").get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Workspaces", exact=True)).to_be_visible()
    assert page.url.endswith("/workspaces/")
