"""Creating, editing and deleting policies: review, apply as a job, conflicts, history."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from console.core import cluster
from console.core.models import Change, Job, JobStatus
from tests.console.policies.support import create, exists, live, netpol

# These tests are about applying drafts; what platform guardrails refuse is tested in
# tests/console/policies/test_policies_guardrails.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_platform_guardrails")]

DENY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Jobs run eagerly once the request's transaction commits; tests run inside one."""
    def post(client, url, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **extra)
    return post


def review(client, text, url=None, **data):
    return client.post(url or reverse("policy_create"), {"yaml": text, "action": "review", **data})


def apply(client, run_jobs, text, url=None, **data):
    """Review, then apply with the digest the review handed out; returns the final response."""
    reviewed = review(client, text, url, **data)
    assert reviewed.status_code == 200, reviewed.context["review"].diagnostics
    response = run_jobs(client, url or reverse("policy_create"), {
        "yaml": text, "action": "apply", "reviewed": reviewed.context["reviewed"], **data})
    assert response.status_code == 302
    return client.get(response["Location"])


# -- create -----------------------------------------------------------------------------------


@pytest.mark.parametrize("template", ["deny-ingress", "deny-all",
                                      "allow-same-namespace", "allow-from-ingress-controller",
                                      "allow-dns-egress", ""])
def test_every_template_starts_a_draft_that_passes_review(demo_cluster, personas, login_as,
                                                          template):
    client = login_as("carol")
    page = client.get(reverse("policy_create"), {"template": template, "project": "shop"})
    assert page.status_code == 200
    reviewed = review(client, page.context["text"])
    assert reviewed.status_code == 200, reviewed.context["review"].diagnostics
    assert reviewed.context["review"].namespace == "shop"


def test_the_ingress_template_names_the_detected_controller_namespace(demo_cluster, personas,
                                                                      login_as):
    page = login_as("bob").get(reverse("policy_create"),
                               {"template": "allow-from-ingress-controller", "project": "catalog"})
    assert "kubernetes.io/metadata.name: kubesphere-controls-system" in page.context["text"]
    assert "namespace: catalog" in page.context["text"]


def test_a_project_outside_the_users_scope_is_never_offered(demo_cluster, personas, login_as):
    page = login_as("carol").get(reverse("policy_create"), {"project": "web"})
    assert page.context["projects"] == ["shop"]
    assert "namespace: shop" in page.context["text"]


def test_a_review_shows_diff_impact_and_warnings_and_writes_nothing(demo_cluster, personas,
                                                                    login_as):
    response = review(login_as("carol"), DENY)
    result = response.context["review"]
    assert result.ok and result.checks["Server dry-run"] == "passed"
    assert any(row.kind == "insert" and "name: deny" in row.right for row in result.diff)
    assert len(result.impact.newly_blocked) > 0 and not result.impact.newly_allowed
    assert [f.code for f in result.findings] == ["blocks-ingress-controller"]
    assert 'name="reviewed" value="' + result.digest in response.content.decode()
    assert not exists("shop", "deny")


def test_applying_creates_the_policy_records_the_change_and_opens_the_detail(
        demo_cluster, personas, login_as, run_jobs):
    page = apply(login_as("carol"), run_jobs, DENY)
    assert page.status_code == 302 and page["Location"] == "/policies/shop/deny/"
    assert exists("shop", "deny")
    change = Change.objects.get(kind="policy-apply")
    assert (change.target, change.author.username, change.project) == ("shop/deny", "carol", "shop")
    assert change.before_yaml == "" and "name: deny" in change.after_yaml
    assert change.reachability_delta["blocked"] > 0
    assert "newly blocks" in change.summary
    job = Job.objects.get(kind="apply-policy")
    assert job.status == JobStatus.SUCCEEDED and job.workspace == "team-a"


def test_apply_refuses_a_draft_changed_since_its_review(demo_cluster, personas, login_as,
                                                        run_jobs):
    client = login_as("carol")
    reviewed = review(client, DENY)
    changed = DENY.replace("[Ingress]", "[Ingress, Egress]")
    response = run_jobs(client, reverse("policy_create"), {
        "yaml": changed, "action": "apply", "reviewed": reviewed.context["reviewed"]})
    assert response.status_code == 200
    assert "changed since its last review" in response.content.decode()
    assert response.context["review"].impact is not None  # the new draft is reviewed in full
    assert not exists("shop", "deny") and not Job.objects.exists()


def test_a_crlf_form_post_is_read_as_plain_lines(demo_cluster, personas, login_as, run_jobs):
    page = apply(login_as("carol"), run_jobs, DENY.replace("\n", "\r\n"))
    assert page.status_code == 302 and exists("shop", "deny")


def test_an_uploaded_file_is_reviewed_first(demo_cluster, personas, login_as):
    upload = SimpleUploadedFile("deny.yaml", DENY.encode(), content_type="application/yaml")
    response = login_as("carol").post(reverse("policy_create"),
                                      {"yaml": "", "action": "apply", "upload": upload})
    assert response.status_code == 200
    assert response.context["review"].ok and response.context["text"] == DENY
    assert not exists("shop", "deny")


def test_a_name_already_taken_is_an_error_at_the_name_line(demo_cluster, personas, login_as):
    create(netpol("shop", "deny"))
    response = review(login_as("carol"), DENY)
    [error] = response.context["review"].errors
    assert (error.line, "already exists" in error.message) == (4, True)


@pytest.mark.parametrize(("person", "status"), [("erin", 403), ("dave", 403), ("frank", 400)])
def test_users_without_the_right_change_nothing(demo_cluster, personas, login_as, run_jobs,
                                                person, status):
    client = login_as(person)
    response = run_jobs(client, reverse("policy_create"), {"yaml": DENY, "action": "review"})
    assert response.status_code == status
    if status == 400:  # frank may create policies, but not in another tenant's project
        [error] = response.context["review"].errors
        assert error.message == "There is no project shop you can change."
        assert error.line == 5
    assert not exists("shop", "deny")


def test_only_platform_admins_write_outside_workspaces(demo_cluster, personas, login_as):
    text = DENY.replace("namespace: shop", "namespace: kube-system")
    assert review(login_as("dave"), text).status_code == 403
    assert review(login_as("bob"), text).context["review"].errors[0].message == \
        "There is no project kube-system you can change."
    assert review(login_as("alice"), text).status_code == 200


# -- edit -------------------------------------------------------------------------------------


@pytest.fixture
def web_policy(demo_cluster):
    return create(netpol("shop", "web", podSelector={"matchLabels": {"app": "storefront"}},
                         ingress=[{"ports": [{"port": 8080}]}]))


def edit_url(name="web"):
    return reverse("policy_edit", args=["shop", name])


def test_the_edit_page_starts_from_the_live_object_and_its_version(web_policy, personas, login_as):
    page = login_as("carol").get(edit_url())
    assert page.context["base_version"] == web_policy["metadata"]["resourceVersion"]
    assert "resourceVersion" not in page.context["text"] and "port: 8080" in page.context["text"]


def test_an_edit_replaces_the_policy_and_keeps_the_before_and_after(web_policy, personas,
                                                                    login_as, run_jobs):
    client = login_as("carol")
    start = client.get(edit_url()).context
    text = start["text"].replace("8080", "9090")
    page = apply(client, run_jobs, text, edit_url(), base_version=start["base_version"])
    assert page["Location"] == "/policies/shop/web/"
    assert live("shop", "web")["spec"]["ingress"][0]["ports"][0]["port"] == 9090
    change = Change.objects.get(kind="policy-apply")
    assert "8080" in change.before_yaml and "9090" in change.after_yaml
    assert change.summary.startswith("Replaced NetworkPolicy shop/web")


def test_an_edit_cannot_rename_the_policy(web_policy, personas, login_as):
    client = login_as("carol")
    start = client.get(edit_url()).context
    response = review(client, start["text"].replace("name: web", "name: other"), edit_url(),
                      base_version=start["base_version"])
    assert "cannot change" in response.context["review"].errors[0].message


def test_a_stale_review_shows_the_live_version_beside_the_draft(web_policy, personas, login_as):
    client = login_as("carol")
    start = client.get(edit_url()).context
    cluster.gateway().merge_patch("NetworkPolicy", "web", {"metadata": {"labels": {"by": "bob"}}},
                                  namespace="shop")
    draft = start["text"].replace("8080", "9090")
    response = review(client, draft, edit_url(), base_version=start["base_version"])
    body = response.content.decode()
    assert response.status_code == 400 and response.context["review"].conflict
    assert 'Someone changed <bdi class="user-text">shop/web</bdi> while you were editing' in body
    assert "by: bob" in response.context["live_yaml"] and "9090" in body
    new_version = live("shop", "web")["metadata"]["resourceVersion"]
    assert f'name="live_version" value="{new_version}"' in body
    assert f'name="base_version" value="{start["base_version"]}"' in body
    assert live("shop", "web")["spec"]["ingress"][0]["ports"][0]["port"] == 8080


def test_a_conflict_during_the_job_keeps_the_draft_and_offers_the_live_version(
        web_policy, personas, login_as, run_jobs, monkeypatch):
    client = login_as("carol")
    start = client.get(edit_url()).context
    draft = start["text"].replace("8080", "9090")
    reviewed = review(client, draft, edit_url(), base_version=start["base_version"])
    # Someone writes between the apply's check and its job.
    from console.policies import draft as policy_draft
    real_start = policy_draft.start_apply

    def start_after_a_concurrent_edit(*args, **kwargs):
        cluster.gateway().merge_patch("NetworkPolicy", "web", {"metadata": {"labels": {"by": "bob"}}},
                                      namespace="shop")
        return real_start(*args, **kwargs)

    monkeypatch.setattr(policy_draft, "start_apply", start_after_a_concurrent_edit)
    response = run_jobs(client, edit_url(), {"yaml": draft, "action": "apply",
                                             "base_version": start["base_version"],
                                             "base": start["base_token"],
                                             "reviewed": reviewed.context["reviewed"]})
    job = Job.objects.get(kind="apply-policy")
    assert job.status == JobStatus.FAILED and job.result["conflict"]
    assert "changed by someone else" in job.error and "Nothing was written" in job.error
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "by: bob" in page.context["live_yaml"] and "9090" in page.context["draft"]
    assert "Review the merged draft" in body and not page.context["conflict_rows"]
    assert live("shop", "web")["spec"]["ingress"][0]["ports"][0]["port"] == 8080
    assert not Change.objects.exists()
    # Merging onto the live version, then applying, keeps both changes.
    merged = client.post(edit_url(), {
        "yaml": draft, "action": "merge", "base_version": start["base_version"],
        "base": page.context["base_token"], "live_version": page.context["live_version"]})
    assert merged.status_code == 200, merged.context["review"].diagnostics
    final = run_jobs(client, edit_url(), {
        "yaml": merged.context["text"], "action": "apply",
        "base_version": merged.context["base_version"], "base": merged.context["base_token"],
        "reviewed": merged.context["reviewed"]})
    assert final.status_code == 302
    now = live("shop", "web")
    assert now["spec"]["ingress"][0]["ports"][0]["port"] == 9090
    assert now["metadata"]["labels"]["by"] == "bob"


def test_editing_a_generated_policy_warns_before_and_during_review(demo_cluster, personas,
                                                                   login_as):
    generated = netpol("shop", "nsnp-network-isolate", ingress=[{}])
    generated["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "tenant-isolation-console"}
    generated["metadata"]["annotations"] = {"isolation.tenant-console.io/source": "isolation"}
    create(generated)
    client = login_as("bob")
    start = client.get(edit_url("nsnp-network-isolate")).context
    assert "generated by the isolation engine" in start["notice"]
    response = review(client, start["text"], edit_url("nsnp-network-isolate"),
                      base_version=start["base_version"])
    assert "generated-policy" in [f.code for f in response.context["review"].findings]


@pytest.mark.parametrize(("person", "status"), [("erin", 403), ("dave", 403), ("frank", 404),
                                                ("carol", 200)])
def test_edit_and_delete_pages_need_the_right_to_change(web_policy, personas, login_as, person,
                                                        status):
    client = login_as(person)
    for url in (edit_url(), reverse("policy_delete", args=["shop", "web"])):
        assert client.get(url).status_code == status
        if status != 200:
            assert client.post(url, {"yaml": DENY, "resource_version": "1"}).status_code == status
    assert exists("shop", "web")


# -- delete -----------------------------------------------------------------------------------


def test_deleting_shows_the_impact_then_deletes_and_records_it(web_policy, personas, login_as,
                                                               run_jobs):
    client = login_as("carol")
    confirm = client.get(reverse("policy_delete", args=["shop", "web"]))
    assert confirm.context["impact"] is not None
    response = run_jobs(client, reverse("policy_delete", args=["shop", "web"]),
                        {"resource_version": confirm.context["version"]})
    page = client.get(response["Location"])
    assert page["Location"] == "/policies/"
    assert not exists("shop", "web")
    change = Change.objects.get(kind="policy-delete")
    assert "port: 8080" in change.before_yaml and change.after_yaml == ""


def test_a_delete_confirmed_on_an_old_version_deletes_nothing(web_policy, personas, login_as,
                                                              run_jobs):
    client = login_as("carol")
    confirm = client.get(reverse("policy_delete", args=["shop", "web"]))
    cluster.gateway().merge_patch("NetworkPolicy", "web", {"metadata": {"labels": {"x": "y"}}},
                                  namespace="shop")
    response = run_jobs(client, reverse("policy_delete", args=["shop", "web"]),
                        {"resource_version": confirm.context["version"]})
    page = client.get(response["Location"])
    assert "changed after you reviewed its deletion" in page.content.decode()
    assert "Review the deletion again" in page.content.decode()
    assert exists("shop", "web") and not Change.objects.exists()


def test_deleting_a_generated_policy_warns_it_comes_back(demo_cluster, personas, login_as):
    generated = netpol("shop", "nsnp-network-isolate", ingress=[{}])
    generated["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "tenant-isolation-console"}
    generated["metadata"]["annotations"] = {"isolation.tenant-console.io/source": "isolation"}
    create(generated)
    confirm = login_as("alice").get(reverse("policy_delete", args=["shop", "nsnp-network-isolate"]))
    assert "comes back when the engine next reconciles" in confirm.content.decode()


# -- jobs -------------------------------------------------------------------------------------


def test_a_running_job_page_polls_and_a_finished_one_redirects_htmx(demo_cluster, personas,
                                                                    login_as):
    job = Job.objects.create(kind="apply-policy", status=JobStatus.RUNNING, progress=40,
                             requested_by=personas["carol"], target="shop/x",
                             params={"namespace": "shop", "name": "x", "mode": "create",
                                     "yaml": DENY})
    client = login_as("carol")
    page = client.get(reverse("policy_job", args=[job.pk])).content.decode()
    assert "Applying shop/x" in page and f'hx-get="/policies/-/jobs/{job.pk}/"' in page
    polling = client.get(reverse("policy_job", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in polling.content.decode() and "40%" in polling.content.decode()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, message="Created shop/x.")
    done = client.get(reverse("policy_job", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert done["HX-Redirect"] == reverse("policy_job", args=[job.pk])
    assert client.get(reverse("policy_job", args=[job.pk]))["Location"] == "/policies/shop/x/"


def test_another_users_policy_job_is_not_found(demo_cluster, personas, login_as):
    job = Job.objects.create(kind="apply-policy", requested_by=personas["carol"],
                             params={"namespace": "shop", "name": "x"})
    assert login_as("frank").get(reverse("policy_job", args=[job.pk])).status_code == 404
    assert login_as("dave").get(reverse("policy_job", args=[job.pk])).status_code == 200
    other = Job.objects.create(kind="check-cluster", requested_by=personas["carol"])
    assert login_as("carol").get(reverse("policy_job", args=[other.pk])).status_code == 404


def test_a_failed_apply_keeps_the_draft_for_another_try(demo_cluster, personas, login_as):
    job = Job.objects.create(kind="apply-policy", status=JobStatus.FAILED, error="boom",
                             requested_by=personas["carol"], target="shop/deny",
                             params={"namespace": "shop", "name": "deny", "mode": "create",
                                     "yaml": DENY, "base_version": ""})
    body = login_as("carol").get(reverse("policy_job", args=[job.pk])).content.decode()
    assert "boom" in body and "Review the draft again" in body and "name: deny" in body

