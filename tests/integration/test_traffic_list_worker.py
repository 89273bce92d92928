"""The Traffic Paths list with a real worker and Redis: the first visit answers at once with a
"being traced" note, the worker traces every exposure, and the polled results then hold them."""

import pytest
from django.urls import reverse

from console.core.models import Job, JobStatus
from console.traffic import services as traffic
from tests.helpers import wait_for
from tests.integration.conftest import REDIS_TEST_URL

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_cache(settings, redis_broker):
    """The test process reads the cache the worker writes (Redis), as the web processes do."""
    settings.CACHES = {"default": {"BACKEND": "console.core.cache.DegradingRedisCache",
                                   "LOCATION": REDIS_TEST_URL}}


def test_the_worker_traces_the_list_while_the_page_polls(demo_cluster, shared_cache, personas,
                                                         login_as, celery_worker_factory):
    client = login_as("alice")
    first = client.get(reverse("traffic_list"))
    assert first.status_code == 200 and first.context["tracing"] and first.context["rows"] is None
    celery_worker_factory()

    def polled():
        response = client.get(reverse("traffic_list") + "?poll=1", HTTP_HX_REQUEST="true")
        return response if response.status_code == 286 else None

    done = wait_for(polled, what="the traced list", timeout=60)
    shown = {f"{row.ref.kind}/{row.ref.key}": row.status for row in done.context["rows"]}
    assert shown["service/billing/payments-api"] == "some"
    assert shown["ingress/shop/storefront"] == "every"
    job = Job.objects.get(kind=traffic.LIST_JOB)
    assert job.status == JobStatus.SUCCEEDED and "exposures" in job.message
