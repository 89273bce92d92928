"""Concurrent edits of a policy (a three-way merge), and text that reads differently (bidi)."""

import copy

import pytest
from django.core import signing
from django.urls import reverse

from console.core import cluster
from console.core.models import Job
from console.policies import conflict
from console.policies.detail import DESCRIPTION_ANNOTATION
from tests.console.policies.support import create, live, netpol

# These tests are about applying drafts; what platform guardrails refuse is tested in
# tests/console/policies/test_policies_guardrails.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_platform_guardrails")]

RLO = "\u202e"


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    def post(client, url, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **extra)
    return post


@pytest.fixture
def web_policy(demo_cluster):
    return create(netpol("shop", "web", podSelector={"matchLabels": {"app": "storefront"}},
                         ingress=[{"ports": [{"port": 8080}]}]))


def edit_url(name="web"):
    return reverse("policy_edit", args=["shop", name])


def someone_else_replaces(change):
    """Another user writes the policy (as a full replace, like the editor does)."""
    current = live("shop", "web")
    changed = copy.deepcopy(current)
    change(changed)
    return cluster.gateway().replace(changed)


def start_editing(client):
    return client.get(edit_url()).context


def post(client, start, text, action="review", **extra):
    return client.post(edit_url(), {"yaml": text, "action": action,
                                    "base_version": start["base_version"],
                                    "base": start["base_token"], **extra})


def apply_review(client, run_jobs, reviewed):
    response = run_jobs(client, edit_url(), {
        "yaml": reviewed.context["text"], "action": "apply",
        "base_version": reviewed.context["base_version"], "base": reviewed.context["base_token"],
        "reviewed": reviewed.context["reviewed"]})
    assert response.status_code == 302, response.context and response.context["review"].diagnostics
    return response


def add_egress(obj):
    obj["spec"]["policyTypes"] = ["Ingress", "Egress"]


def test_disjoint_edits_by_two_users_are_both_kept(web_policy, personas, login_as, run_jobs):
    client = login_as("carol")
    start = start_editing(client)
    someone_else_replaces(add_egress)
    mine = start["text"].replace("8080", "9090")

    stale = post(client, start, mine)
    assert stale.status_code == 400 and stale.context["review"].conflict
    assert stale.context["conflict_rows"] == []
    assert "No field was changed on both sides" in stale.content.decode()
    merged_yaml = stale.context["merged_yaml"]
    assert "9090" in merged_yaml and "- Egress" in merged_yaml
    assert "spec.policyTypes" in stale.context["merge"].theirs_changed
    assert "spec.ingress" in stale.context["merge"].mine_changed

    reviewed = client.post(edit_url(), {
        "yaml": mine, "action": "merge", "base_version": stale.context["base_version"],
        "base": stale.context["base_token"], "live_version": stale.context["live_version"]})
    assert reviewed.status_code == 200, reviewed.context["review"].diagnostics
    assert reviewed.context["review"].ok
    assert "9090" in reviewed.context["text"] and "- Egress" in reviewed.context["text"]
    assert reviewed.context["base_version"] == live("shop", "web")["metadata"]["resourceVersion"]
    assert "merged onto the live version" in reviewed.context["notice"]

    apply_review(client, run_jobs, reviewed)
    now = live("shop", "web")
    assert now["spec"]["ingress"][0]["ports"][0]["port"] == 9090
    assert now["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_overlapping_edits_list_the_field_and_refuse_to_apply_without_a_choice(
        web_policy, personas, login_as, run_jobs):
    client = login_as("carol")
    start = start_editing(client)
    someone_else_replaces(lambda o: o["spec"]["ingress"][0]["ports"][0].update(port=7070))
    mine = start["text"].replace("8080", "9090")

    stale = post(client, start, mine)
    rows = stale.context["conflict_rows"]
    assert [r.path for r in rows] == ["spec.ingress"]
    assert "8080" in rows[0].base and "7070" in rows[0].theirs and "9090" in rows[0].mine
    body = stale.content.decode()
    assert 'name="choice:spec.ingress" value="theirs"' in body
    assert 'name="choice:spec.ingress" value="mine"' in body
    assert 'value="apply"' not in body

    # No choice: refused, nothing reviewed for apply, nothing written.
    refused = client.post(edit_url(), {
        "yaml": mine, "action": "merge", "base_version": stale.context["base_version"],
        "base": stale.context["base_token"], "live_version": stale.context["live_version"]})
    assert refused.status_code == 400
    assert "nothing is applied until every one has a choice" in refused.context["merge_error"]
    assert refused.context["reviewed"] == "" and 'value="apply"' not in refused.content.decode()
    # Applying the stale draft directly is refused as well (it is still a conflict).
    forced = client.post(edit_url(), {"yaml": mine, "action": "apply",
                                      "base_version": start["base_version"],
                                      "base": start["base_token"], "reviewed": "x" * 32})
    assert forced.status_code == 400 and forced.context["review"].conflict
    assert not Job.objects.exists()
    assert live("shop", "web")["spec"]["ingress"][0]["ports"][0]["port"] == 7070

    # "Keep theirs" keeps the live value.
    kept = client.post(edit_url(), {
        "yaml": mine, "action": "merge", "base_version": stale.context["base_version"],
        "base": stale.context["base_token"], "live_version": stale.context["live_version"],
        "choice:spec.ingress": "theirs"})
    assert kept.status_code == 200 and "7070" in kept.context["text"]
    assert "9090" not in kept.context["text"]


def test_choosing_mine_applies_mine_for_that_field_only(web_policy, personas, login_as,
                                                        run_jobs):
    client = login_as("carol")
    start = start_editing(client)

    def theirs(obj):
        add_egress(obj)
        obj["metadata"]["annotations"] = {"note": "from bob"}
    someone_else_replaces(theirs)
    mine = start["text"].replace("metadata:\n", "metadata:\n  annotations:\n    note: from carol\n"
                                 "  labels:\n    owner: carol\n")
    assert "note: from carol" in mine

    stale = post(client, start, mine)
    assert [r.path for r in stale.context["conflict_rows"]] == ["metadata.annotations.note"]
    row = stale.context["conflict_rows"][0]
    assert (row.base, row.theirs, row.mine) == ("(not set)", "from bob", "from carol")

    reviewed = client.post(edit_url(), {
        "yaml": mine, "action": "merge", "base_version": stale.context["base_version"],
        "base": stale.context["base_token"], "live_version": stale.context["live_version"],
        "choice:metadata.annotations.note": "mine"})
    assert reviewed.status_code == 200, reviewed.context.get("merge_error")
    apply_review(client, run_jobs, reviewed)
    now = live("shop", "web")
    assert now["metadata"]["annotations"]["note"] == "from carol"
    assert now["metadata"]["labels"]["owner"] == "carol"
    assert now["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_a_policy_changed_again_while_merging_is_shown_again(web_policy, personas, login_as):
    client = login_as("carol")
    start = start_editing(client)
    someone_else_replaces(add_egress)
    mine = start["text"].replace("8080", "9090")
    stale = post(client, start, mine)
    someone_else_replaces(lambda o: o["metadata"].update(labels={"again": "twice"}))
    again = client.post(edit_url(), {
        "yaml": mine, "action": "merge", "base_version": stale.context["base_version"],
        "base": stale.context["base_token"], "live_version": stale.context["live_version"]})
    assert again.status_code == 400 and "changed again" in again.context["merge_error"]
    assert "again: twice" in again.context["live_yaml"]
    assert again.context["live_version"] != stale.context["live_version"]


def test_a_forged_or_foreign_base_is_not_trusted(web_policy, personas, login_as):
    client = login_as("carol")
    start = start_editing(client)
    version = start["base_version"]
    token = start["base_token"]
    assert conflict.read_base(token, ("shop", "web"), version)["spec"]["ingress"]
    assert conflict.read_base(token, ("shop", "other"), version) is None
    assert conflict.read_base(token, ("shop", "web"), "999999") is None
    forged = signing.dumps({"target": ["shop", "web"], "version": version,
                            "object": {"spec": {}}}, salt="not-the-salt", compress=True)
    assert conflict.read_base(forged, ("shop", "web"), version) is None
    assert conflict.read_base(token[:-2] + "xx", ("shop", "web"), version) is None

    # Without a base it can trust, the merge counts every difference as a conflict.
    someone_else_replaces(add_egress)
    stale = post(client, {**start, "base_token": "forged"}, start["text"].replace("8080", "9090"))
    assert {r.path for r in stale.context["conflict_rows"]} == {"spec.ingress",
                                                                  "spec.policyTypes"}
    assert not stale.context["base_known"]


# -- bidirectional control characters -------------------------------------------------------


def test_a_right_to_left_override_in_an_annotation_is_a_review_warning(demo_cluster, personas,
                                                                       login_as):
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
            f"  annotations:\n    note: 'evil{RLO}txt.exe'\n  name: bidi\n  namespace: shop\n"
            "spec:\n  podSelector: {}\n  policyTypes: [Ingress]\n")
    response = login_as("carol").post(reverse("policy_create"), {"yaml": text,
                                                                 "action": "review"})
    review = response.context["review"]
    bidi = [d for d in review.diagnostics if d.source == "text"]
    assert [(d.line, d.severity) for d in bidi] == [(5, "warning")]
    assert bidi[0].message == ("Line 5 contains a right-to-left override character (U+202E) "
                               "that can make text read differently from what it is.")
    body = response.content.decode()
    assert "right-to-left override character (U+202E)" in body
    assert '"line": 5' in response.context["diagnostics"]


def test_a_bidi_warning_shows_even_when_the_draft_has_errors(demo_cluster, personas, login_as):
    text = "kind: NetworkPolicy\nmetadata:\n  name: x\u2066y\u2069\n"
    response = login_as("carol").post(reverse("policy_create"), {"yaml": text,
                                                                 "action": "review"})
    assert response.status_code == 400
    assert ("Line 3 contains a left-to-right isolate character (U+2066) and a pop directional "
            "isolate character (U+2069)") in response.content.decode()


def test_the_detail_page_isolates_the_name_and_annotated_text(demo_cluster, personas, login_as):
    policy = netpol("shop", "bidi-detail")
    policy["metadata"]["annotations"] = {DESCRIPTION_ANNOTATION: f"abc{RLO}def"}
    create(policy)
    body = login_as("carol").get(reverse("policy_detail", args=["shop", "bidi-detail"])) \
        .content.decode()
    assert '<bdi class="user-text" id="policy-name">bidi-detail</bdi>' in body
    assert f'<dd class="col-7"><bdi class="user-text">abc{RLO}def</bdi></dd>' in body


def test_a_create_that_races_another_create_merges_with_every_difference_chosen(
        demo_cluster, personas, login_as, run_jobs, monkeypatch):
    client = login_as("carol")
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: race\n"
            "  namespace: shop\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n")
    reviewed = client.post(reverse("policy_create"), {"yaml": text, "action": "review"})
    from console.policies import draft as policy_draft
    real_start = policy_draft.start_apply

    def start_after_someone_creates_it(*args, **kwargs):
        create(netpol("shop", "race", policyTypes=["Egress"]))
        return real_start(*args, **kwargs)

    monkeypatch.setattr(policy_draft, "start_apply", start_after_someone_creates_it)
    response = run_jobs(client, reverse("policy_create"), {
        "yaml": text, "action": "apply", "reviewed": reviewed.context["reviewed"]})
    page = client.get(response["Location"])
    assert [r.path for r in page.context["conflict_rows"]] == ["spec.policyTypes"]
    assert not page.context["base_known"]
    merged = client.post(edit_url("race"), {
        "yaml": text, "action": "merge", "base_version": "", "base": "",
        "live_version": page.context["live_version"], "choice:spec.policyTypes": "mine"})
    assert merged.status_code == 200, merged.context.get("merge_error")
    assert "- Ingress" in merged.context["text"] and "Egress" not in merged.context["text"]
