"""A new allowlist entry is written under exactly the name its preview showed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import Job, JobStatus
from console.tenancy import services as iso
from console.tenancy.intent import KIND_SAVE_ENTRY
from isolation.compiler.entries import draft_entry_name

pytestmark = pytest.mark.django_db(transaction=True)

FROM_CATALOG = {"ingress": [{"from": [{"namespace": {"name": "catalog"}}],
                             "ports": [{"protocol": "TCP", "port": 8080}]}]}
TO_BANK = {"egress": [{"to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}],
                       "ports": [{"protocol": "TCP", "port": 443}]}]}
NAME = re.compile(r"(?<![-0-9a-z])policy-(?:from|to)-[0-9a-z]{6}(?![-0-9a-z])")


def entry_names(project: str) -> set[str]:
    return {e["metadata"]["name"]
            for e in cluster.gateway().list_objects("NamespaceNetworkPolicy", project)}


def finished(job: Job) -> Job:
    job.refresh_from_db()
    assert job.finished
    return job


def test_the_draft_name_is_deterministic_and_avoids_taken_names() -> None:
    name = draft_entry_name("billing", FROM_CATALOG)
    assert NAME.fullmatch(name) and name.startswith("policy-from-")
    assert draft_entry_name("billing", FROM_CATALOG) == name
    assert draft_entry_name("billing", TO_BANK).startswith("policy-to-")
    assert draft_entry_name("shop", FROM_CATALOG) != name
    other = draft_entry_name("billing", FROM_CATALOG, taken={name})
    assert NAME.fullmatch(other) and other != name


@pytest.mark.parametrize("spec", [FROM_CATALOG, TO_BANK], ids=["ingress", "egress"])
def test_the_service_saves_a_new_entry_under_the_previewed_name(demo_cluster, personas, spec):
    preview = iso.preview_entry("billing", None, spec)
    assert preview.valid and NAME.fullmatch(preview.name)
    assert f"nsnp-{preview.name}" in {p["metadata"]["name"] for p in preview.generated_after}
    assert preview.name in preview.summary
    job = finished(iso.start_save_entry(personas["carol"], "billing", None, spec))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params["name"] == preview.name
    assert preview.name in entry_names("billing")
    cluster.gateway().get_object("NetworkPolicy", f"nsnp-{preview.name}", "billing")


def test_the_same_draft_added_twice_gets_a_new_name_each_time_and_previews_it(demo_cluster,
                                                                                personas):
    first = finished(iso.start_save_entry(personas["carol"], "billing", None, FROM_CATALOG))
    preview = iso.preview_entry("billing", None, FROM_CATALOG)
    assert preview.name != first.params["name"]
    assert preview.summary.startswith("Add allowlist entry")
    second = finished(iso.start_save_entry(personas["carol"], "billing", None, FROM_CATALOG))
    assert second.params["name"] == preview.name
    assert {first.params["name"], second.params["name"]} <= entry_names("billing")


def test_the_entry_form_writes_the_name_its_preview_showed(demo_cluster, personas, login_as,
                                                           django_capture_on_commit_callbacks):
    url = reverse("project_entry_new", args=["billing", "internal"])
    form = {"direction": "ingress", "peer_type": "project", "projects": ["catalog"]}
    client = login_as("bob")
    body = client.post(url, {**form, "action": "preview"}).content.decode()
    shown = set(NAME.findall(body)) - entry_names("billing")
    assert len(shown) == 1, shown
    (name,) = shown
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {**form, "action": "save"}, HTTP_HX_REQUEST="true")
    job = Job.objects.get(kind=KIND_SAVE_ENTRY)
    assert finished(job).status == JobStatus.SUCCEEDED, job.error
    assert job.params["name"] == name
    assert name in entry_names("billing")
