"""Redacted sentences stay in the reader's language, with the hiding words in it too."""

from __future__ import annotations

from django.utils import translation

from console.core.scope import Scope, redact_names
from isolation.text import gettext as _

SCOPE = Scope(everything=False, visible=frozenset({"shop"}), known=frozenset({"shop", "web"}),
              workspace_of={"shop": "team-a", "web": "team-b"})


def _reason():
    return _("{name} connects to itself, which NetworkPolicies never block.", name="web/blog")


def test_a_redacted_sentence_reads_in_chinese_with_chinese_hiding_words():
    with translation.override("zh-hans"):
        redacted = SCOPE.redact(_reason())
        assert str(redacted) == "另一个项目中的 Pod 连接到自身，NetworkPolicy 从不阻止这种连接。"
        # Its English value, made in a Chinese request, is still the English sentence.
        assert redacted == ("a pod in another project connects to itself, which NetworkPolicies "
                            "never block.")


def test_redacted_names_read_in_chinese():
    sentence = _("{rule}, and {name} is in namespace {namespace}", rule="shop/np ingress rule 0",
                 name="web/blog", namespace="web")
    with translation.override("zh-hans"):
        redacted = redact_names(sentence, SCOPE)
        assert str(redacted) == "shop/np ingress rule 0，而 另一个项目中的 Pod 位于命名空间 另一个项目"
        assert str(redact_names("namespace web", SCOPE)) == "另一个项目"
    assert redacted == ("shop/np ingress rule 0, and a pod in another project is in another "
                        "project")
    with translation.override("en"):
        assert str(redacted) == redacted.english


def test_redaction_in_english_is_unchanged():
    with translation.override("en"):
        assert str(SCOPE.redact(_reason())) == ("a pod in another project connects to itself, "
                                                "which NetworkPolicies never block.")
        assert SCOPE.redact("web/blog → shop/cart") == "a pod in another project → shop/cart"
        assert redact_names("project web and web/blog", SCOPE) == (
            "another project and a pod in another project")
        assert redact_names("shop/cart in shop", SCOPE) == "shop/cart in shop"
