import codecs
import json

import pytest

from isolation.fielderrors import MAX_QUOTED
from isolation.yamlio import YamlInputError, load_documents, load_json, locate


@pytest.mark.parametrize(("text", "message"), [
    ("a: &x [1, *x]\n", "recursive alias"),
    ("a: " + "[" * 80 + "]" * 80 + "\n", "nested deeper than 64"),
    ("a: !!int abc\n", "does not match its tag"),
    ("a: !!timestamp nope\n", "does not match its tag"),
    ("a: !!python/object:os.system x\n", "could not determine a constructor"),
    ("a: [1\n", "YAML syntax error"),
    (b"a: \xff\n", "not valid UTF-8 at byte 3"),
])
def test_hostile_yaml_is_refused_with_a_message(text, message):
    with pytest.raises(YamlInputError) as caught:
        load_documents(text)
    assert message in str(caught.value)


def test_the_size_limit_is_enforced_before_parsing():
    with pytest.raises(YamlInputError, match="limit"):
        load_documents("a: " + "x" * 2000, max_bytes=1000)


def test_windows_line_endings_keep_line_numbers():
    text = "kind: NetworkPolicy\r\nspec:\r\n  ingress:\r\n  - ports:\r\n    - port: 99999\r\n"
    doc = load_documents(text)[0]
    assert locate(doc.node, ("spec", "ingress", 0, "ports", 0, "port")) == (5, 13)


def test_errors_name_the_document_and_line():
    with pytest.raises(YamlInputError) as caught:
        load_documents("a: 1\n---\nb: [\n")
    assert caught.value.document == 2
    assert caught.value.line is not None


# -- item 1: duplicate keys ---------------------------------------------------------------------

POLICY_WITH_DUPLICATE = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector:
    matchLabels:
      app: web
      app: db
"""


@pytest.mark.parametrize(("text", "line", "first"), [
    (POLICY_WITH_DUPLICATE, 8, 7),
    ("matchLabels: {app: web, app: db}\n", 1, 1),
    ('{"kind": "NetworkPolicy",\n "metadata": {"name": "a",\n  "name": "other"}}', 3, 2),
    ("a: 1\n---\nb: 1\n'b': 2\n", 4, 3),            # quoting does not make another key
    ("1: a\n0x1: b\n", 2, 1),                         # the same int, written twice
])
def test_duplicate_keys_are_refused_with_their_line(text, line, first):
    with pytest.raises(YamlInputError) as caught:
        load_documents(text)
    assert caught.value.line == line
    assert f"(first at line {first})" in str(caught.value)
    assert "duplicate key" in str(caught.value)


def test_the_duplicate_key_message_names_the_key_like_kubectl():
    with pytest.raises(YamlInputError) as caught:
        load_documents(POLICY_WITH_DUPLICATE)
    assert str(caught.value) == 'document 1, line 8, column 7: duplicate key "app" (first at line 7)'


def test_json_with_duplicate_keys_is_refused_with_the_line():
    with pytest.raises(YamlInputError) as caught:
        load_json('{"name": "a",\n "name": "other"}')
    assert caught.value.line == 2 and 'duplicate key "name"' in str(caught.value)
    assert load_json(b'{"name": "a"}') == {"name": "a"}
    with pytest.raises(json.JSONDecodeError):
        load_json("{not json")


def test_keys_merged_in_may_be_overridden():
    docs = load_documents("base: &base {app: web, tier: front}\nsel: {<<: *base, app: db}\n")
    assert docs[0].data["sel"] == {"app": "db", "tier": "front"}


# -- item 2: invalid UTF-8 ----------------------------------------------------------------------

def test_invalid_utf8_is_refused_with_its_byte_offset_not_replaced():
    with pytest.raises(YamlInputError) as caught:
        load_documents(b"kind: Pod\nmetadata: {name: caf\xe9}\n")
    assert "not valid UTF-8 at byte 30" in str(caught.value)   # 0-based offset
    assert caught.value.line == 2


def test_utf16_without_a_byte_order_mark_is_named():
    with pytest.raises(YamlInputError, match="UTF-16 without a byte order mark"):
        load_documents("a: 1\n".encode("utf-16-le"))


# -- item 9: byte order marks, anchors, aliases and merge keys ----------------------------------

@pytest.mark.parametrize("encode", [
    lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    lambda text: text.encode("utf-16"),               # the platform's order, with its BOM
])
def test_files_with_a_byte_order_mark_are_read_as_kubectl_reads_them(encode):
    docs = load_documents(encode("kind: Namespace\nmetadata: {name: café}\n"))
    assert docs[0].data == {"kind": "Namespace", "metadata": {"name": "café"}}


ANCHORED_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: &web
    matchLabels: {app: web}
  ingress:
  - from:
    - podSelector: *web
    - podSelector:
        <<: *web
        matchExpressions: [{key: tier, operator: Exists}]
"""


def test_anchors_aliases_and_merge_keys_are_accepted_as_plain_trees():
    data = load_documents(ANCHORED_POLICY)[0].data
    peers = data["spec"]["ingress"][0]["from"]
    assert peers[0]["podSelector"] == {"matchLabels": {"app": "web"}}
    assert peers[1]["podSelector"] == {"matchLabels": {"app": "web"},
                                       "matchExpressions": [{"key": "tier", "operator": "Exists"}]}
    # no object is shared: editing one selector leaves the other alone
    assert peers[0]["podSelector"] is not data["spec"]["podSelector"]
    assert peers[0]["podSelector"]["matchLabels"] is not data["spec"]["podSelector"]["matchLabels"]


def test_alias_bombs_are_refused_with_a_message():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for name, previous in zip("bcdefgh", "abcdefg", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    with pytest.raises(YamlInputError) as caught:
        load_documents("\n".join(lines) + "\n")
    assert "alias bomb" in str(caught.value) and caught.value.line is not None


def test_aliases_cannot_nest_beyond_the_depth_limit():
    lines = ["l0: &l0 [x]"] + [f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, 70)]
    with pytest.raises(YamlInputError, match="nested deeper than 64 levels"):
        load_documents("\n".join(lines) + "\n")


def test_locate_points_at_a_written_key_over_a_merged_one():
    doc = load_documents("base: &b {port: 80}\nrule:\n  <<: *b\n  port: 443\n")[0]
    assert doc.data["rule"] == {"port": 443}
    assert locate(doc.node, ("rule", "port")) == (4, 9)


# -- item 3: long values are clipped in messages ------------------------------------------------

def test_a_huge_duplicate_key_is_quoted_clipped():
    key = "k" * 5000
    with pytest.raises(YamlInputError) as caught:
        load_documents(f"? {key}\n: 1\n? {key}\n: 2\n")
    message = str(caught.value)
    assert "... (5,000 characters)" in message and len(message) < MAX_QUOTED + 100
