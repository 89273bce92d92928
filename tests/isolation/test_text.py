"""The domain's sentences: English as written, said in another language by a translator."""

from __future__ import annotations

import json
import pickle

import pytest

from isolation import text
from isolation.text import gettext as _
from isolation.text import ngettext

CATALOG = {"Allow ingress from {peer}": "允许来自 {peer} 的入站流量",
           "every pod": "所有 Pod",
           "{count} pod": "{count} 个 Pod"}


@pytest.fixture(autouse=True)
def _translator_kept(monkeypatch):
    """Whatever a test sets, the translator the process had (the console's) comes back."""
    monkeypatch.setattr(text, "_translators", text._translators)


@pytest.fixture
def chinese():
    text.set_translator(lambda message: CATALOG.get(message, message),
                        lambda singular, plural, n: CATALOG.get(singular, singular))


def test_a_sentence_is_its_english_text_without_a_translator():
    text.set_translator(None)
    sentence = _("Allow ingress from {peer}", peer=_("every pod"))
    assert sentence == "Allow ingress from every pod"
    assert str(sentence) == "Allow ingress from every pod"
    assert f"{sentence}!" == "Allow ingress from every pod!"
    assert json.dumps([sentence]) == '["Allow ingress from every pod"]'


def test_plurals_follow_the_count():
    assert ngettext("{count} pod", "{count} pods", 1, count=1) == "1 pod"
    assert ngettext("{count} pod", "{count} pods", 3, count=3) == "3 pods"
    assert ngettext("{count} pod", "{count} pods", 0, count=0) == "0 pods"


def test_a_translator_says_the_sentence_and_its_fields(chinese):
    sentence = _("Allow ingress from {peer}", peer=_("every pod"))
    assert str(sentence) == "允许来自 所有 Pod 的入站流量"
    assert f"{sentence}" == "允许来自 所有 Pod 的入站流量"
    assert "{:>3}".format(ngettext("{count} pod", "{count} pods", 3, count=3)) == "3 个 Pod"
    # What the program compares, sorts and serialises stays the English sentence.
    assert sentence == "Allow ingress from every pod"
    assert sentence.english == "Allow ingress from every pod"
    assert json.dumps(sentence) == '"Allow ingress from every pod"'


def test_an_unknown_or_broken_translation_falls_back_to_english():
    text.set_translator(lambda message: "{missing} field", None)
    assert str(_("Allow ingress from {peer}", peer="x")) == "Allow ingress from x"


def test_a_sentence_survives_pickling_with_its_fields(chinese):
    sentence = pickle.loads(pickle.dumps(_("Allow ingress from {peer}", peer=_("every pod"))))
    assert isinstance(sentence, text.Text)
    assert sentence.english == "Allow ingress from every pod"
    assert str(sentence) == "允许来自 所有 Pod 的入站流量"


def test_joined_sentences_are_each_said_in_the_readers_language(chinese):
    joined = text.join([_("every pod"), "{literal}", _("Allow ingress from {peer}", peer="x")], "; ")
    assert joined == "every pod; {literal}; Allow ingress from x"
    assert str(joined) == "所有 Pod; {literal}; 允许来自 x 的入站流量"
    assert str(pickle.loads(pickle.dumps(joined))) == "所有 Pod; {literal}; 允许来自 x 的入站流量"
    assert text.join([]) == "" and str(text.join([])) == ""


def test_a_transformed_sentence_applies_the_function_to_what_is_shown(chinese):
    sentence = text.transform(_("Allow ingress from {peer}", peer="x"), lambda s: s.replace("x", "?"))
    assert sentence == "Allow ingress from ?"
    assert str(sentence) == "允许来自 ? 的入站流量"
    assert pickle.loads(pickle.dumps(sentence)) == "Allow ingress from ?"
    assert text.transform("plain x", lambda s: s.upper()) == "PLAIN X"
