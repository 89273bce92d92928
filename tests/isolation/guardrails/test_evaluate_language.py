"""A violation's reason is a sentence: the engine's English as before, said in the console's
Simplified Chinese when a reader asks for it."""

from __future__ import annotations

import json

from tests.isolation.guardrails.test_evaluate import (
    DENY_BILLING,
    SHOP_TO_LEDGER,
    TO_LEDGER,
    cluster,
    run,
)
from tests.isolation.netpol.language import said_in_chinese


def test_a_denied_connection_reads_in_chinese_and_keeps_its_english():
    result = run(cluster(DENY_BILLING), {"from": {"namespace": "shop"}, "to": TO_LEDGER,
                                         "ports": [{"port": 5432}], "expect": "Allowed"})
    reason = result.violations[0].reason
    assert reason.startswith("Denied: ") and "billing/deny-all" in reason
    assert json.loads(json.dumps(result.to_dict()))["violations"][0]["reason"] == reason
    with said_in_chinese():
        said = str(reason)
    assert said.startswith("已拒绝：") and "billing/deny-all" in said
    assert "Denied" not in said and "isolated by" not in said


def test_an_allowed_connection_reads_in_chinese():
    result = run(cluster(DENY_BILLING, SHOP_TO_LEDGER),
                 {"from": {"namespace": "shop"}, "to": TO_LEDGER, "ports": [{"port": 5432}],
                  "expect": "Denied"})
    reason = result.violations[0].reason
    assert reason.startswith("Allowed: ") and "billing/from-shop ingress rule 0" in reason
    with said_in_chinese():
        said = str(reason)
    assert said.startswith("已允许：") and "billing/from-shop" in said and "Allowed" not in said
