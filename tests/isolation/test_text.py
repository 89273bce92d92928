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


# -- kept for later: dump and load ------------------------------------------------------------


def test_a_plain_string_is_kept_as_it_is():
    assert text.dump("shop/web") == "shop/web" and type(text.dump("shop/web")) is str
    assert text.load("shop/web") == "shop/web"
    assert text.dump(None) is None and text.dump(3) == 3
    assert text.english(None) == "" and text.english(3) == "3"


def test_a_sentence_kept_as_data_is_the_same_sentence_again(chinese):
    sentence = _("Allow ingress from {peer}", peer=_("every pod"))
    data = text.dump(sentence)
    assert json.loads(json.dumps(data)) == data == {
        "msgid": "Allow ingress from {peer}", "fields": {"peer": {"msgid": "every pod"}}}
    again = text.load(json.loads(json.dumps(data)))
    assert isinstance(again, text.Text) and again == sentence
    assert again.english == "Allow ingress from every pod"
    assert str(again) == "允许来自 所有 Pod 的入站流量"


def test_a_kept_plural_keeps_its_count(chinese):
    data = text.dump(ngettext("{count} pod", "{count} pods", 3, count=3))
    assert data == {"msgid": "{count} pod", "plural": "{count} pods", "count": 3,
                    "fields": {"count": 3}}
    again = text.load(data)
    assert again == "3 pods" and str(again) == "3 个 Pod"


def test_joined_sentences_are_kept_joined(chinese):
    joined = text.join([_("every pod"), "{literal}", _("Allow ingress from {peer}", peer="x")], "; ")
    again = text.load(json.loads(json.dumps(text.dump(joined))))
    assert again == "every pod; {literal}; Allow ingress from x"
    assert str(again) == "所有 Pod; {literal}; 允许来自 x 的入站流量"


def test_a_transformed_sentence_is_kept_as_its_english_result(chinese):
    hidden = text.transform(_("Allow ingress from {peer}", peer="web/x"),
                            lambda s: s.replace("web/x", "?"))
    assert text.dump(hidden) == "Allow ingress from ?"
    # Inside another sentence too: what was hidden stays hidden.
    data = text.dump(_("Allow ingress from {peer}", peer=hidden))
    assert "web/x" not in json.dumps(data)
    assert str(text.load(data)) == "允许来自 Allow ingress from ? 的入站流量"


def test_other_field_values_are_kept_as_their_text():
    sentence = _("Allow ingress from {peer}", peer=ValueError("bad peer"))
    again = text.load(text.dump(sentence))
    assert again == "Allow ingress from bad peer"


def test_sentences_inside_data_are_kept_and_loaded_again(chinese):
    result = {"title": _("every pod"), "rows": [{"label": _("every pod"), "n": 1}],
              "notes": (ngettext("{count} pod", "{count} pods", 1, count=1), "plain"),
              "empty": {}}
    data = text.dump_all(result)
    assert json.loads(json.dumps(data)) == data
    assert data["rows"][0] == {"label": {"msgid": "every pod"}, "n": 1}
    again = text.load_all(data)
    assert again["title"] == "every pod" and str(again["title"]) == "所有 Pod"
    assert str(again["rows"][0]["label"]) == "所有 Pod" and again["rows"][0]["n"] == 1
    assert [str(n) for n in again["notes"]] == ["1 个 Pod", "plain"]
    assert again["empty"] == {}
    # A dict that merely has a "msgid" among other keys is data, not a sentence.
    assert text.load_all({"msgid": "x", "other": 1}) == {"msgid": "x", "other": 1}


def test_a_kept_sentence_reads_in_the_consoles_chinese_catalog():
    from tests.isolation.netpol.language import said_in_chinese

    sentence = _("{pods} of namespace {namespace}", pods=_("pods"), namespace="shop")
    kept = json.loads(json.dumps(text.dump(sentence)))
    with said_in_chinese():
        assert str(text.load(kept)) == "命名空间 shop 中的Pod"
    assert str(text.load(kept)) == "pods of namespace shop"
