"""One validation path: schema and rule problems of a written NetworkPolicy, at their line."""

import pytest

from isolation.netpol.problems import position, rule_problems, schema_problems
from isolation.yamlio import load_documents, locate_key

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podSelector: {{}}
  ingress:
  - from:
    - ipBlock:
        cidr: {cidr}
    ports:
    - port: {port}
"""


def document(text: str):
    return load_documents(text)[0]


def test_an_unknown_field_is_reported_at_its_key():
    doc = document(POLICY.format(cidr="10.0.0.0/8", port=80).replace("podSelector", "podSelectr"))
    (problem,) = schema_problems(doc)
    assert (problem.line, problem.column, problem.field) == (7, 3, "spec.podSelectr")
    assert 'Unknown field "spec.podSelectr"' in problem.message


def test_a_wrong_type_is_reported_at_the_value():
    doc = document(POLICY.format(cidr="10.0.0.0/8", port="[1]"))
    (problem,) = schema_problems(doc)
    assert problem.field.startswith("spec.ingress[0].ports[0].port")
    assert problem.line == 13


@pytest.mark.parametrize(("cidr", "port", "field", "line"), [
    ("10.0.0.0/33", 80, "spec.ingress[0].from[0].ipBlock.cidr", 11),
    ("10.0.0.0/8", 70000, "spec.ingress[0].ports[0].port", 13),
])
def test_the_api_servers_rules_are_reported_at_their_line(cidr, port, field, line):
    doc = document(POLICY.format(cidr=cidr, port=port))
    assert schema_problems(doc) == []
    (problem,) = rule_problems(doc)
    assert (problem.field, problem.line) == (field, line)
    assert problem.message.startswith(f"{field}: ")


def test_a_valid_policy_has_no_problems():
    doc = document(POLICY.format(cidr="10.0.0.0/8", port=80))
    assert schema_problems(doc) == [] and rule_problems(doc) == []


def test_positions_fall_back_to_the_nearest_existing_node():
    doc = document(POLICY.format(cidr="10.0.0.0/8", port=80))
    assert position(doc, "") == (1, 1)
    assert position(doc, "spec.egress[0]") == position(doc, "spec")
    assert locate_key(doc.node, ("spec", "nothing")) == position(doc, "spec")
