"""The Calico selector language: what each expression selects, and how bad ones are refused."""

from __future__ import annotations

import pytest

from isolation.calico.selector import SelectorError, parse, selector_error, tokenize

WEB = {"app": "web", "tier": "frontend", "team": "a/b.c-d"}
BARE: dict[str, str] = {}

# (selector, labels, expected)
TABLE = [
    ("", WEB, True),
    ("   ", BARE, True),
    ("all()", BARE, True),
    ("global()", WEB, False),
    ("app == 'web'", WEB, True),
    ('app == "web"', WEB, True),
    ("app == 'db'", WEB, False),
    ("app == 'web'", BARE, False),
    ("app != 'db'", WEB, True),
    ("app != 'web'", WEB, False),
    ("app != 'web'", BARE, True),             # a missing label is "not equal"
    ("has(app)", WEB, True),
    ("has(app)", BARE, False),
    ("!has(app)", BARE, True),
    ("!has(app)", WEB, False),
    ("app in {'web', 'db'}", WEB, True),
    ("app in {'db'}", WEB, False),
    ("app in {}", WEB, False),
    ("app not in {'db'}", WEB, True),
    ("app not in {'web'}", WEB, False),
    ("app not in {'web'}", BARE, True),       # a missing label is "not in" any set
    ("app not in {}", BARE, True),
    ("tier contains 'ont'", WEB, True),
    ("tier contains 'x'", WEB, False),
    ("tier contains ''", BARE, False),        # contains needs the label
    ("tier starts with 'front'", WEB, True),
    ("tier starts with 'end'", WEB, False),
    ("tier ends with 'end'", WEB, True),
    ("tier ends with 'front'", WEB, False),
    ("team == 'a/b.c-d'", WEB, True),
    ("app == 'web' && tier == 'frontend'", WEB, True),
    ("app == 'web' && tier == 'backend'", WEB, False),
    ("app == 'db' || tier == 'frontend'", WEB, True),
    ("app == 'db' || tier == 'backend'", WEB, False),
    ("!(app == 'web')", WEB, False),
    ("!!has(app)", WEB, True),
    # && binds tighter than ||: false || (true && true)
    ("app == 'db' || app == 'web' && has(tier)", WEB, True),
    # parentheses override: (false || true) && false
    ("(app == 'db' || app == 'web') && has(nope)", WEB, False),
    ("!has(nope) && (app in {'web'} || global())", WEB, True),
    ("all() && !global()", BARE, True),
]


@pytest.mark.parametrize(("text", "labels", "expected"), TABLE)
def test_selector_matches_as_calico_defines(text, labels, expected):
    assert parse(text).matches(labels) is expected


@pytest.mark.parametrize("text", [t for t, _, _ in TABLE if t.strip()])
def test_rendered_selector_parses_back_to_the_same_expression(text):
    node = parse(text)
    assert parse(node.render()) == node


# (selector, error fragment, position)
ERRORS = [
    ("app = 'web'", "unexpected character '='", 4),
    ("app == web", "expected a quoted string after ==", 7),
    ("app == 'web", "unterminated string", 7),
    ("(app == 'web'", "expected ')'", 13),
    ("app == 'web')", "expected && or || or the end", 12),
    ("app in {'a' 'b'}", "expected ',' or '}'", 12),
    ("app in 'a'", "expected '{'", 7),
    ("app not {'a'}", "expected 'in' after 'not'", 8),
    ("app starts 'a'", "expected 'with' after 'starts'", 11),
    ("has(app", "expected ')' after the key of has()", 7),
    ("has()", "expected a label key in has()", 4),
    ("all(", "expected ')' after all(", 4),
    ("app", "expected an operator", 3),
    ("app == 'a' &&", "expected a label key", 13),
    ("&& app == 'a'", "expected a label key", 0),
    ("app == 'a' & tier == 'b'", "unexpected character '&'", 11),
    ("app == 'a' ||| b", "unexpected character '|'", 13),
]


@pytest.mark.parametrize(("text", "fragment", "position"), ERRORS)
def test_bad_selector_is_refused_with_its_position(text, fragment, position):
    with pytest.raises(SelectorError) as caught:
        parse(text)
    assert fragment in str(caught.value)
    assert caught.value.position == position
    assert f"at position {position}" in str(caught.value)


def test_selector_error_is_none_for_a_valid_selector_and_says_why_otherwise():
    assert selector_error("has(app)") is None
    assert "position" in selector_error("has(")
    assert selector_error(42) == "must be a string"


def test_tokenizer_keeps_keywords_and_quoted_strings_apart():
    kinds = [(t.kind, t.value) for t in tokenize("k not in {\"a b\", 'c'}")]
    assert kinds == [("word", "k"), ("word", "not"), ("word", "in"), ("op", "{"),
                     ("string", "a b"), ("op", ","), ("string", "c"), ("op", "}"), ("end", "")]


def test_a_label_key_may_be_named_like_a_keyword():
    assert parse("in == 'x'").matches({"in": "x"})
    assert parse("has(all)").matches({"all": ""})
