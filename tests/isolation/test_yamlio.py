import pytest

from isolation.yamlio import YamlInputError, load_documents, locate


@pytest.mark.parametrize(("text", "message"), [
    ("a: &x [1]\nb: *x\n", "anchors and aliases"),
    ("a: " + "[" * 80 + "]" * 80 + "\n", "nested deeper than 64"),
    ("a: !!int abc\n", "does not match its tag"),
    ("a: !!timestamp nope\n", "does not match its tag"),
    ("a: !!python/object:os.system x\n", "could not determine a constructor"),
    ("a: [1\n", "YAML syntax error"),
    (b"\xff\xfe", "not UTF-8"),
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
