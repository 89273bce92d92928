"""A NetworkPolicy written to the simulator: decoded once (unknown fields dropped, wrong types
found), defaulted, validated, answered as kube-apiserver answers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from isolation.netpol.validation import stored_network_policy

PATH = "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies"


def write(sim, body: dict[str, Any], method: str = "POST", path: str = PATH,
          query: str = "") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(sim.url + path + query, data=json.dumps(body).encode(),
                                     method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def policy(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


def causes(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["field"], c["reason"]) for c in answer["details"]["causes"]]


@pytest.mark.parametrize("query", ["", "?dryRun=All"])
def test_wrong_types_are_refused_with_their_fields_beside_unknown_fields_dropped(sim, query):
    body = policy(ingress=[{"ports": [{"port": True}], "bogus": 1},
                           {"from": [{"ipBlock": {"cidr": 10}}]}], podSelectr={})
    status, answer = write(sim, body, query=query)
    assert (status, answer["reason"]) == (422, "Invalid")
    assert causes(answer) == [("spec.ingress[0].ports[0].port", "FieldValueTypeInvalid"),
                              ("spec.ingress[1].from[0].ipBlock.cidr", "FieldValueTypeInvalid")]


def test_a_large_policy_is_stored_defaulted_and_a_bad_rule_in_it_refused(sim):
    rules = [{"from": [{"ipBlock": {"cidr": f"10.0.{i // 256}.{i % 256}/32"}}],
              "ports": [{"port": 1024 + i}]} for i in range(2000)]
    status, stored = write(sim, policy(ingress=rules), query="?dryRun=All")
    assert status == 201
    assert stored["spec"] == stored_network_policy(policy(ingress=rules))["spec"]
    rules[1500]["ports"][0]["port"] = 70000
    status, answer = write(sim, policy(ingress=rules))
    assert status == 422
    assert causes(answer) == [("spec.ingress[1500].ports[0].port", "FieldValueInvalid")]


def test_an_update_is_decoded_and_validated_like_a_create(sim):
    status, created = write(sim, policy(ingress=[{"ports": [{"port": 80}]}]))
    assert status == 201
    changed = {**created, "spec": {**created["spec"], "ingress": [{"ports": [{"port": "x" * 20}],
                                                                   "bogus": 1}]}}
    status, answer = write(sim, changed, "PUT", f"{PATH}/web")
    assert status == 422
    assert causes(answer) == [("spec.ingress[0].ports[0].port", "FieldValueInvalid")]
    changed["spec"]["ingress"][0]["ports"][0]["port"] = "metrics"
    status, updated = write(sim, changed, "PUT", f"{PATH}/web")
    assert status == 200 and updated["spec"]["ingress"] == [
        {"ports": [{"port": "metrics", "protocol": "TCP"}]}]
