"""What the list pages keep (console.core.cache): built once for many readers, never a text
holding a CSRF token, never what a build says is not to be kept; and the cluster version they
are kept by (console.core.cluster.model_version), which names every state of the cluster."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from console.core import cluster
from console.core.cache import (
    NotKept,
    Unkept,
    cached_fragment,
    forget_memos,
    local_memo,
    shared_text,
)
from tests.console.core.watched_model import other_gateway_write, watched_model


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    forget_memos()
    yield
    cache.clear()
    forget_memos()


def test_many_readers_at_once_build_a_missing_fragment_once():
    builds = []
    everyone_asked = threading.Event()

    def build() -> str:
        builds.append(1)
        everyone_asked.wait(10)   # the other readers ask while this one builds
        return "rows"

    answers = []
    readers = [threading.Thread(target=lambda: answers.append(shared_text("k", build)))
               for _ in range(8)]
    for reader in readers:
        reader.start()
    everyone_asked.set()
    for reader in readers:
        reader.join()
    assert answers == ["rows"] * 8
    assert len(builds) == 1


def test_a_text_the_build_does_not_keep_is_built_again():
    builds = []

    def build() -> str:
        builds.append(1)
        return Unkept("still tracing")

    assert shared_text("k", build) == "still tracing"
    assert shared_text("k", build) == "still tracing"
    assert len(builds) == 2


def test_a_failed_build_lets_the_next_reader_build():
    def failing() -> str:
        raise RuntimeError("cluster gone")

    with pytest.raises(RuntimeError):
        shared_text("k", failing)
    assert shared_text("k", lambda: "rows") == "rows"


def test_a_fragment_holding_a_csrf_token_is_never_kept(db):
    request = RequestFactory().get("/policies/")
    with pytest.raises(ValueError, match="CSRF"):
        cached_fragment(request, "console/cluster_error.html", "v1", (),
                        lambda: {"title": "t", "error": "e"})


def test_a_fragment_is_kept_per_version_query_and_key(db):
    factory = RequestFactory()
    builds = []

    def context() -> dict:
        builds.append(1)
        return {"error": f"build {len(builds)}"}

    def shown(version, key=(), **params) -> str:
        return cached_fragment(factory.get("/", params), "console/_cluster_error.html",
                               version, key, context)

    first = shown("v1")
    assert shown("v1") == first and len(builds) == 1
    assert shown("v2") != first
    assert shown("v1", key=("viewer",)) != first
    assert shown("v1", page="2") != first
    assert shown(None) != shown(None)   # without a version nothing is kept


def test_a_not_kept_context_is_rendered_every_time(db):
    builds = []

    def context() -> dict:
        builds.append(1)
        return NotKept(error="computing")

    request = RequestFactory().get("/")
    for _ in range(2):
        cached_fragment(request, "console/_cluster_error.html", "v1", (), context)
    assert len(builds) == 2


def test_a_process_keeps_one_build_per_version():
    builds = []

    def build() -> list[int]:
        builds.append(1)
        return [len(builds)]

    assert local_memo("index", "v1", build) == [1]
    assert local_memo("index", "v1", build) == [1]
    assert local_memo("index", "v2", build) == [2]
    assert len(builds) == 2


@pytest.fixture
def watched(demo_cluster, redis_cache):
    with watched_model() as model:
        yield model


def test_the_version_stays_while_the_cluster_does(watched):
    version = cluster.model_version()
    assert version is not None
    snapshot, served = cluster.versioned_snapshot()
    assert served == version == cluster.model_version()
    assert {"shop", "web"} <= {n["metadata"]["name"] for n in snapshot.namespaces}


def test_a_write_of_the_console_is_a_new_version_at_once(watched):
    before = cluster.model_version()
    cluster.gateway().merge_patch("Namespace", "shop", {"metadata": {"labels": {"a": "b"}}})
    assert cluster.model_version() != before


def test_a_write_of_someone_else_is_a_new_version_once_the_model_has_it(watched):
    before = cluster.model_version()
    other_gateway_write(lambda gw: gw.merge_patch("Namespace", "web",
                                                  {"metadata": {"labels": {"c": "d"}}}))
    after = cluster.model_version()
    assert after != before
    assert cluster.version_seen_at(after) >= cluster.version_seen_at(before)


def test_without_the_watched_model_there_is_no_version(demo_cluster):
    assert cluster.model_version() is None
    assert cluster.versioned_snapshot()[1] is None
