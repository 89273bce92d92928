"""The Network Policies pages in a browser: the whole life of one policy, and the screenshots."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import login

# The editor's mechanics; what platform guardrails refuse is in tests/e2e/test_guardrails.py.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("no_platform_guardrails")]


def editor_text(page, selector="#policy-yaml"):
    return page.evaluate("(s) => window.ConsoleEditor.getValue(s)", selector)


def set_editor_text(page, text, selector="#policy-yaml"):
    page.wait_for_function("(s) => window.ConsoleEditor && window.ConsoleEditor.view(s)", arg=selector)
    page.evaluate("([s, t]) => window.ConsoleEditor.setValue(s, t)", [selector, text])


def show_tab(page, name, pane):
    page.get_by_role("tab", name=name).click()
    page.wait_for_function(
        "(id) => getComputedStyle(document.getElementById(id)).opacity === '1'", arg=pane)


def review(page):
    page.get_by_role("button", name="Review changes").first.click()
    expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible()


def test_a_policy_is_created_from_a_template_fixed_applied_edited_twice_and_deleted(
        page, browser, live_server, demo_cluster, personas, screenshot):
    login(page, "alice", PASSWORD)
    page.goto("/policies/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Network Policies")
    expect(page.get_by_role("link", name="default-deny")).to_be_visible()
    screenshot(page, "policies-01-list")
    page.get_by_role("link", name="allow-dns-egress").click()
    expect(page.get_by_text("may connect to pods labelled k8s-app=kube-dns in project kube-system"))\
        .to_be_visible()
    screenshot(page, "policies-01-detail-rules")
    show_tab(page, "Reachability", "pane-reach")
    expect(page.get_by_role("heading", name="Where they can go")).to_be_visible()
    screenshot(page, "policies-01-detail-reachability")
    page.goto("/policies/")

    # Create from a template, for project shop.
    page.get_by_role("link", name="Create policy").click()
    page.get_by_label("Start from a template").select_option("deny-ingress")
    page.get_by_label("Project", exact=True).select_option("shop")
    page.get_by_role("button", name="Load template").click()
    page.wait_for_selector(".cm-editor")
    assert "namespace: shop" in editor_text(page)

    # Introduce an error: it is marked at its line, with the message listed.
    text = editor_text(page)
    lines = text.splitlines()
    name_line = next(i for i, line in enumerate(lines, start=1) if line.strip().startswith("name:"))
    set_editor_text(page, text.replace("name: default-deny-ingress", "name: Deny_Ingress"))
    review(page)
    errors = page.locator("#review-errors")
    expect(errors).to_contain_text(f"Line {name_line}")
    expect(errors).to_contain_text("metadata.name")
    page.wait_for_selector(".cm-lint-marker-error")
    marked = page.locator("#policy-form .cm-line").nth(name_line - 1)
    expect(marked).to_have_class(re.compile("cm-diagnosticLine-error"))
    expect(page.locator("#policy-form .cm-yaml-status-problems")).to_have_text("1 error")
    expect(page.get_by_role("button", name=re.compile("^Apply"))).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")  # a review opens at #review; the picture starts on top
    screenshot(page, "policies-02-editor-error")

    # Fix it: the review shows the object, the impact and the warnings.
    set_editor_text(page, editor_text(page).replace("name: Deny_Ingress", "name: deny-ingress"))
    review(page)
    expect(page.locator("#impact")).to_contain_text("newly blocked")
    expect(page.locator("#review-warnings")).to_contain_text("Blocks the ingress controller")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "policies-03-impact-preview")

    # Apply: the job runs and the detail page opens.
    page.get_by_role("button", name="Apply shop/deny-ingress").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("deny-ingress")
    expect(page.get_by_role("status").filter(has_text="Created shop/deny-ingress")).to_be_visible()
    expect(page.get_by_text("accept no incoming connection")).to_be_visible()
    show_tab(page, "Reachability", "pane-reach")
    expect(page.get_by_role("heading", name="Who can reach these pods")).to_be_visible()
    show_tab(page, "Rules", "pane-rules")
    screenshot(page, "policies-04-detail")

    # Find it in the list with the search box (htmx keeps the filter in the URL).
    page.goto("/policies/")
    page.get_by_label("Search by name").fill("deny-ingress")
    expect(page).to_have_url(re.compile(r"q=deny-ingress"))
    table = page.locator("#policy-table")
    expect(table.get_by_role("link", name="deny-ingress")).to_be_visible()
    expect(table.get_by_role("link", name="default-deny")).to_have_count(0)

    # Two sessions edit it at once: bob applies first; alice's draft is merged onto his version,
    # and the one field both changed waits for her choice.
    page.goto("/policies/shop/deny-ingress/edit/")
    page.wait_for_selector(".cm-editor")
    other = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    bob = other.new_page()
    login(bob, "bob", PASSWORD)
    bob.goto("/policies/shop/deny-ingress/edit/")
    bob.wait_for_selector(".cm-editor")
    set_editor_text(bob, editor_text(bob).replace("- Ingress", "- Ingress\n  - Egress").replace(
        "metadata:\n", "metadata:\n  annotations:\n    note: from bob\n", 1))
    review(bob)
    bob.get_by_role("button", name="Apply shop/deny-ingress").click()
    expect(bob.get_by_role("status").filter(has_text="Replaced shop/deny-ingress")).to_be_visible()
    other.close()

    set_editor_text(page, editor_text(page).replace("- Ingress", "- Ingress  # from alice").replace(
        "metadata:\n", "metadata:\n  annotations:\n    note: from alice\n  labels:\n"
        "    owner: alice\n", 1))
    page.get_by_role("button", name="Review changes").first.click()
    conflict = page.locator("#conflict")
    expect(conflict).to_contain_text("Someone changed shop/deny-ingress")
    assert "- Egress" in editor_text(page, "#live-yaml")
    assert "# from alice" in editor_text(page, "#policy-yaml")
    conflicts = page.locator("#merge-conflicts")
    expect(conflicts.locator("tbody tr")).to_have_count(1)
    expect(conflicts).to_contain_text("metadata.annotations.note")
    expect(conflicts).to_contain_text("from bob")
    expect(conflicts).to_contain_text("from alice")
    expect(page.locator("#merge-summary")).to_contain_text("spec.policyTypes")
    expect(page.locator("#merge-summary")).to_contain_text("metadata.labels")
    expect(page.locator("#merged-yaml")).to_contain_text("- Egress")
    expect(page.get_by_role("button", name=re.compile("^Apply"))).to_have_count(0)
    screenshot(page, "policies-05-conflict")
    page.get_by_label("Take mine").check()
    page.get_by_role("button", name="Review the merged draft").click()
    expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible()
    merged = editor_text(page)
    assert "- Egress" in merged and "note: from alice" in merged and "owner: alice" in merged
    page.get_by_role("button", name="Apply shop/deny-ingress").click()
    expect(page.get_by_role("status").filter(has_text="Replaced shop/deny-ingress")).to_be_visible()
    expect(page.get_by_text("Egress is not restricted by this policy")).to_have_count(0)
    page.wait_for_function("() => window.ConsoleEditor && window.ConsoleEditor.view('#policy-yaml')")
    stored = editor_text(page)
    assert "- Egress" in stored and "note: from alice" in stored and "owner: alice" in stored

    # Delete it, after seeing what that changes.
    page.get_by_role("link", name="Delete").click()
    expect(page.locator("#impact")).to_contain_text("newly allowed")
    screenshot(page, "policies-06-delete")
    page.get_by_role("button", name="Delete deny-ingress").last.click()
    expect(page).to_have_url(re.compile(r"/policies/$"))
    expect(page.get_by_role("status").filter(has_text="Deleted shop/deny-ingress")).to_be_visible()
    expect(page.locator("#policy-table").get_by_role("link", name="deny-ingress")).to_have_count(0)


def test_the_editor_is_usable_without_a_mouse(page, demo_cluster, personas):
    login(page, "carol", PASSWORD)
    page.goto("/policies/new/?template=allow-same-namespace")
    page.wait_for_selector(".cm-editor")
    page.get_by_role("textbox", name="Policy YAML").focus()
    page.keyboard.press("Control+End")
    page.keyboard.type("  # reviewed by keyboard\n")
    assert "# reviewed by keyboard" in editor_text(page)
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "policy-upload"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Review changes button
    expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Apply shop/allow-same-namespace")).to_be_visible()
