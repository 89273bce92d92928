"""Label and field selectors select exactly what kube-apiserver selects."""

from __future__ import annotations

import pytest

from kubesim.errors import ApiError
from kubesim.selectors import parse_field_selector, parse_label_selector

WEB = {"metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "tier": "frontend", "v": "3"}}}
DB = {"metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"}}}
BARE = {"metadata": {"name": "bare", "namespace": "etl"}}


@pytest.mark.parametrize(("selector", "selected"), [
    ("", {"web", "db", "bare"}),
    ("app=web", {"web"}),
    ("app==web", {"web"}),
    ("app!=web", {"db", "bare"}),
    ("app in (web,db)", {"web", "db"}),
    ("app in ( web , db )", {"web", "db"}),
    ("app notin (web)", {"db", "bare"}),
    ("tier", {"web"}),
    ("!tier", {"db", "bare"}),
    ("app=web,tier=frontend", {"web"}),
    ("app=web,tier!=frontend", set()),
    ("v>2", {"web"}),
    ("v<2", set()),
    ("tier=", set()),
])
def test_label_selector_selects_like_the_api_server(selector: str, selected: set[str]) -> None:
    matches = parse_label_selector(selector)
    assert {o["metadata"]["name"] for o in (WEB, DB, BARE) if matches(o)} == selected


@pytest.mark.parametrize("selector", ["tier in a", "app in ()", "=web", "app=web,", "Bad Key=1", "app=not valid",
                                      "v>x"])
def test_unparsable_label_selector_is_a_bad_request(selector: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_label_selector(selector)
    assert (caught.value.code, caught.value.reason) == (400, "BadRequest")


@pytest.mark.parametrize(("selector", "selected"), [
    ("metadata.name=web", {"web"}),
    ("metadata.name!=web", {"db", "bare"}),
    ("metadata.namespace=shop", {"web", "db"}),
    ("metadata.namespace==shop,metadata.name!=db", {"web"}),
])
def test_field_selector_selects_by_metadata(selector: str, selected: set[str]) -> None:
    matches = parse_field_selector(selector, ())
    assert {o["metadata"]["name"] for o in (WEB, DB, BARE) if matches(o)} == selected


def test_field_selector_reads_kind_specific_fields_and_booleans() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"nodeName": "node-1", "hostNetwork": True}}
    assert parse_field_selector("spec.nodeName=node-1,spec.hostNetwork=true", ("spec.nodeName", "spec.hostNetwork"))(pod)
    assert not parse_field_selector("spec.nodeName=node-2", ("spec.nodeName",))(pod)


@pytest.mark.parametrize("selector", ["spec.nosuchfield=x", "metadata.name", "status.podIP>1"])
def test_unsupported_field_selector_is_a_bad_request(selector: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_field_selector(selector, ("status.podIP",))
    assert caught.value.code == 400
