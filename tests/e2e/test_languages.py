"""The console in Simplified Chinese: a browser whose language is Chinese gets every main page in
zh-Hans without any page scrolling sideways at 1440 and 390 px (screenshots in
test-artifacts/screenshots/zh-<page>-<width>.png), the History of a real change and its revert
too, and the header's switcher changes the language from the keyboard and keeps it, on the
user's account, into another browser."""

from __future__ import annotations

import copy
import re

import pytest
from playwright.sync_api import expect

from console.core import cluster
from console.core.audit import record_change
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


@pytest.fixture
def narrowed_scrape(reconciled, personas):  # noqa: F811
    """alice narrowed reporting's Prometheus rule to one port; the change is in the history."""
    gw = cluster.gateway()
    live = gw.get_object("NetworkPolicy", "allow-prometheus-scrape", "reporting")
    edited = copy.deepcopy(live)
    edited["spec"]["ingress"][0]["ports"] = [{"port": 9090, "protocol": "TCP"}]
    written = gw.replace(edited)
    return record_change(kind="policy-apply", target="reporting/allow-prometheus-scrape",
                         summary="Narrowed the Prometheus scrape to port 9090",
                         author=personas["alice"], workspace="team-b", project="reporting",
                         before=[live], after=[written])


@pytest.mark.parametrize("width", WIDTHS)
def test_the_history_of_a_change_and_its_revert_speak_chinese_and_fit(chinese_page, narrowed_scrape,
                                                                       screenshot, width):
    page, number = chinese_page, narrowed_scrape.pk
    sign_in(page, "alice")
    page.set_viewport_size({"width": width, "height": 900})
    pages = [
        ("history-list", "/history/", "历史记录", ["Recent jobs", "Export as JSON", "Author"]),
        ("history-detail", f"/history/{number}/", f"变更 #{number}：policy-apply "
         "reporting/allow-prometheus-scrape", ["Resulting YAML", "on the left", "Reverted by"]),
        ("history-revert", f"/history/{number}/revert/", f"回滚变更 #{number}",
         ["What the revert writes", "is put back as it was before", "Impact preview"]),
    ]
    overflowing = {}
    for name, address, heading, english in pages:
        page.goto(address)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        page.wait_for_load_state("networkidle")
        assert "网络隔离控制台" in page.title() and "历史记录" in page.title(), name
        text = page.locator("main").inner_text()
        assert [phrase for phrase in english if phrase in text] == [], name
        screenshot(page, f"zh-{name}-{width}")
        excess = page.evaluate(OVERFLOW)
        if excess > 0:
            overflowing[name] = (excess, page.evaluate(CULPRITS))
    assert not overflowing, f"pages wider than the {width} px window (excess px): {overflowing}"
    # The revert runs and reports in Chinese too.
    page.get_by_role("button", name=f"回滚变更 #{number}").click()
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-job-status", "succeeded", timeout=20_000)
    expect(status.locator("[data-job-message]")).to_contain_text(f"变更 #{number} 已回滚：恢复了 1 个对象。")
    screenshot(page, f"zh-history-reverted-{width}")


def test_a_saved_language_follows_the_user_into_another_browser(browser, live_server, reconciled,  # noqa: F811
                                                                personas):
    english = {"base_url": live_server.url, "locale": "en-US"}
    first = browser.new_context(**english).new_page()
    sign_in(first, "bob")
    first.goto("/history/")
    first.get_by_role("group", name="Language").get_by_role("button", name="简体中文").click()
    expect(first.get_by_role("heading", name="历史记录", exact=True)).to_be_visible()
    first.context.close()
    second = browser.new_context(**english).new_page()
    second.goto("/login/")
    expect(second.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(second, "bob")
    second.goto("/history/")
    expect(second.get_by_role("heading", name="历史记录", exact=True)).to_be_visible()
    expect(second.locator("html")).to_have_attribute("lang", "zh-hans")
    second.context.close()


POLICY_PAGES = [
    ("policy-list", "/policies/", "table"),
    ("policy-gnp", "/policies/-/projectcalico.org/globalnetworkpolicies/-/"
                   "platform.deny-cloud-metadata/", "#policy-sentences"),
]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_policy_list_and_a_global_network_policy_speak_chinese_and_fit(
        chinese_page, reconciled, personas, screenshot, width):  # noqa: F811
    page = chinese_page
    sign_in(page, "alice")
    page.set_viewport_size({"width": width, "height": 900})
    for name, address, ready in POLICY_PAGES:
        page.goto(address)
        expect(page.locator(ready).first).to_be_visible(timeout=15_000)
        page.wait_for_load_state("networkidle")
        expect(page.locator("h1").first).to_be_visible()
        screenshot(page, f"zh-{name}-{width}")
        assert page.evaluate(OVERFLOW) <= 0, (name, page.evaluate(CULPRITS))
    expect(page.get_by_role("heading", name="属性")).to_be_visible()
    expect(page.get_by_text("评估顺序")).to_be_visible()
    status = page.locator(".cm-yaml-status")
    expect(status.locator(".cm-yaml-status-position")).to_have_text("第 1 行，第 1 列")
    expect(status.locator(".cm-yaml-status-hint")).to_have_text("只读。按 Tab 移到下一个控件。")
    page.goto("/policies/")
    expect(page.get_by_role("heading", name="网络策略", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="创建策略")).to_be_visible()

    # The editor's status line, its problem counts and its search panel speak Chinese too.
    page.goto("/policies/new/")
    page.wait_for_function("() => window.ConsoleEditor && window.ConsoleEditor.view('#policy-yaml')")
    page.evaluate("""() => window.ConsoleEditor.setDiagnostics('#policy-yaml', [
        {line: 2, message: '错误一'}, {line: 3, message: '错误二'},
        {line: 4, severity: 'warning', message: '警告'}])""")
    page.locator("#policy-form .cm-content").click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    status = page.locator("#policy-form .cm-yaml-status")
    expect(status.locator(".cm-yaml-status-position")).to_have_text(re.compile(r"^第 2 行，第 \d+ 列$"))
    expect(status.locator(".cm-yaml-status-problems")).to_have_text("2 个错误、1 条警告")
    expect(status.locator(".cm-yaml-status-hint")).to_contain_text("先按 Esc 再按 Tab 可离开编辑器")
    page.keyboard.press("Control+f")
    expect(page.locator("#policy-form .cm-search input[name=search]")).to_have_attribute("placeholder", "查找")
    expect(page.locator("#policy-form .cm-search")).to_contain_text("区分大小写")
    page.evaluate("window.scrollTo(0, 0)")  # the picture starts on top, under the header
    screenshot(page, f"zh-policy-editor-{width}")
    text = page.locator("#policy-form .cm-editor").inner_text()
    assert [word for word in ("Line ", "column", "error", "warning", "Esc then", "match case")
            if word in text] == []
    assert page.evaluate(OVERFLOW) <= 0, ("policy-editor", page.evaluate(CULPRITS))
