"""Values are quoted in error messages at most MAX_QUOTED characters long (issue 13, item 3)."""

from __future__ import annotations

from isolation.fielderrors import MAX_QUOTED, clip, clip_value, format_value, invalid
from isolation.netpol.schema import schema_issues
from isolation.netpol.validation import validate_network_policy


def _policy(**spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "web", "namespace": "shop"}, "spec": spec}


def test_short_values_are_quoted_in_full():
    assert clip_value("web") == '"web"'
    assert format_value(["a", "b"]) == '[]string{"a", "b"}'
    assert clip("spec.ingress") == "spec.ingress"


def test_long_values_are_quoted_clipped_with_their_length():
    value = "x" * 10_000
    assert clip_value(value) == '"' + "x" * MAX_QUOTED + '"... (10,000 characters)'
    assert clip("y" * 500).endswith("... (500 characters)")
    assert len(format_value(["z" * 1000] * 100)) < MAX_QUOTED + 30


def test_validation_errors_quote_at_most_120_characters_of_a_huge_value():
    huge = "a" * 1_000_000
    issues = validate_network_policy(_policy(podSelector={"matchLabels": {"app": huge + "-"}}))
    assert issues
    for issue in issues:
        assert len(str(issue)) < 500
        assert "... (1,000,001 characters)" in str(issue)
        assert issue.value == huge + "-"          # the data itself is kept whole


def test_wrong_types_and_unknown_fields_with_huge_keys_are_clipped():
    key = "k" * 100_000
    unknown = schema_issues(_policy(podSelector={}, **{key: 1}))
    assert len(unknown) == 1 and len(str(unknown[0])) < 400
    assert unknown[0].field == f"spec.{key}"      # the path stays exact, for locating the line
    wrong = schema_issues(_policy(podSelector={"matchLabels": {"app": ["v" * 5000]}}))
    assert len(str(wrong[0])) < 400 and "characters)" in str(wrong[0])


def test_a_cidr_error_quotes_the_value_clipped():
    issue = invalid("spec.ingress[0].from[0].ipBlock.cidr", "1" * 300, "must be a valid CIDR")
    assert issue.message == ('Invalid value: "' + "1" * MAX_QUOTED + '"... (300 characters): '
                             "must be a valid CIDR")
