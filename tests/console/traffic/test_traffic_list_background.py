"""The Traffic Paths list is traced by a job, once per state of the cluster: pages read the
cached rows, show the latest rows marked as being updated while the job runs, and poll until
the current ones are there. (Non-transactional tests: the job's task is sent when the
transaction commits, which these tests decide with django_capture_on_commit_callbacks.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import Job, JobStatus
from console.traffic import services as traffic
from isolation.compiler.generate import IsolationSettings

pytestmark = pytest.mark.django_db

NEW_SERVICE = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "late-np", "namespace": "shop"},
               "spec": {"type": "NodePort", "selector": {"app": "storefront"},
                        "ports": [{"port": 80, "targetPort": 8080, "nodePort": 31999}]}}


def list_jobs() -> list[Job]:
    return list(Job.objects.filter(kind=traffic.LIST_JOB).order_by("pk"))


def keys(response) -> set[str]:
    return {f"{row.ref.kind}/{row.ref.key}" for row in response.context["rows"] or []}


def test_a_first_visit_starts_one_job_and_the_results_poll_until_it_is_done(
        demo_cluster, personas, login_as, django_capture_on_commit_callbacks):
    client = login_as("alice")
    with django_capture_on_commit_callbacks() as send_the_task:
        first = client.get(reverse("traffic_list"))
    assert first.status_code == 200
    assert first.context["rows"] is None and first.context["tracing"]
    page = first.content.decode()
    assert "data-tracing" in page and 'hx-trigger="every 2s"' in page and "poll=1" in page
    client.get(reverse("traffic_list"))  # a second visit while it is queued: no second job
    assert [job.status for job in list_jobs()] == [JobStatus.QUEUED]

    for send in send_the_task:  # the request's transaction commits: the worker runs the job
        send()
    assert [job.status for job in list_jobs()] == [JobStatus.SUCCEEDED]
    polled = client.get(reverse("traffic_list") + "?poll=1", HTTP_HX_REQUEST="true")
    assert polled.status_code == 286  # htmx: stop polling
    assert "service/billing/payments-api" in keys(polled)
    assert "data-tracing" not in polled.content.decode()


def test_the_rows_are_traced_once_per_state_of_the_cluster(
        demo_cluster, personas, login_as, django_capture_on_commit_callbacks):
    client = login_as("alice")
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("traffic_list"))
    for _ in range(3):
        again = client.get(reverse("traffic_list"))
        assert not again.context["tracing"] and keys(again)
    assert len(list_jobs()) == 1


def test_after_a_change_the_latest_rows_show_marked_until_the_new_ones_are_traced(
        demo_cluster, personas, login_as, django_capture_on_commit_callbacks):
    client = login_as("alice")
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("traffic_list"))
    before = keys(client.get(reverse("traffic_list")))
    cluster.gateway().create(NEW_SERVICE)

    with django_capture_on_commit_callbacks() as send_the_task:
        stale = client.get(reverse("traffic_list"))
    assert stale.context["stale"] and stale.context["tracing"]
    assert keys(stale) == before  # the new Service is not traced yet
    assert "may be out of date" in stale.content.decode()
    assert list_jobs()[-1].status == JobStatus.QUEUED and len(list_jobs()) == 2

    for send in send_the_task:
        send()
    fresh = client.get(reverse("traffic_list"))
    assert not fresh.context["stale"]
    assert keys(fresh) == before | {"service/shop/late-np"}


def test_one_traced_list_serves_every_user_filtered_to_what_each_may_see(
        demo_cluster, personas, login_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login_as("alice").get(reverse("traffic_list"))
    everything = keys(login_as("alice").get(reverse("traffic_list")))
    assert "service/billing/payments-api" in everything
    carol = login_as("carol").get(reverse("traffic_list"))
    assert keys(carol) == {"ingress/shop/storefront", "service/shop/storefront-lb",
                           "service/shop/storefront-np"}
    assert "payments" not in carol.content.decode()
    frank = login_as("frank").get(reverse("traffic_list"), {"project": "shop"})
    assert frank.status_code == 200 and not keys(frank)
    assert len(list_jobs()) == 1


def test_the_list_key_follows_everything_the_rows_depend_on(demo_cluster):
    live = cluster.snapshot()
    settings, client = IsolationSettings(), traffic.parse_client("203.0.113.10")
    key = traffic.list_key(live, settings, None, client)
    assert key == traffic.list_key(cluster.snapshot(), settings, None, client)
    assert key != traffic.list_key(live, settings, "vxlan", client)
    assert key != traffic.list_key(live, settings, None, traffic.parse_client("198.51.100.0/24"))
    assert key != traffic.list_key(live, IsolationSettings(dns_cidrs=("10.0.0.10/32",)), None, client)
    pod = live.pods[0]
    pod["metadata"]["resourceVersion"] = str(int(pod["metadata"]["resourceVersion"]) + 1)
    assert key != traffic.list_key(live, settings, None, client)
    live.pods[0]["metadata"].pop("resourceVersion")  # no version: the content decides
    without = traffic.list_key(live, settings, None, client)
    live.pods[0].setdefault("metadata", {}).setdefault("labels", {})["extra"] = "1"
    assert without != traffic.list_key(live, settings, None, client)
