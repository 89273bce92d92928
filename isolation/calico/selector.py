"""The Calico selector language: tokenizer, recursive-descent parser, AST and matcher.

Grammar (lowest precedence first), as documented for Calico selectors
(https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#selectors):

    or      := and ( "||" and )*
    and     := unary ( "&&" unary )*
    unary   := "!" unary | primary
    primary := "(" or ")" | "all()" | "global()" | "has(" KEY ")"
             | KEY "==" STR | KEY "!=" STR | KEY "in" SET | KEY "not" "in" SET
             | KEY "contains" STR | KEY "starts" "with" STR | KEY "ends" "with" STR
    SET     := "{" [ STR ( "," STR )* ] "}"

Strings are single- or double-quoted, without escapes. `k != 'v'` and `k not in {...}` hold
for label sets that lack `k` (Calico's selector parser defines them as the negation of `==` and
`in`); `contains`, `starts with` and `ends with` need the key. `global()` selects
non-namespaced resources (host endpoints, global network sets), so it never holds for a pod or
a namespace. An empty selector is `all()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache


class SelectorError(ValueError):
    """A selector that does not parse; `position` is the 0-based offset of the problem."""

    def __init__(self, message: str, text: str, position: int) -> None:
        super().__init__(f"{message} at position {position} of {text!r}")
        self.detail = message
        self.text = text
        self.position = position


# -- the AST ---------------------------------------------------------------------------------

class Node:
    """A selector expression; `matches` takes one label set."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        raise NotImplementedError

    def render(self) -> str:
        """The canonical text of the expression (parses back to an equal node)."""
        raise NotImplementedError

    def keys(self) -> frozenset[str]:
        return frozenset()


def _quote(value: str) -> str:
    return f'"{value}"' if "'" in value else f"'{value}'"


@dataclass(frozen=True)
class All(Node):
    def matches(self, labels: Mapping[str, str]) -> bool:
        return True

    def render(self) -> str:
        return "all()"


@dataclass(frozen=True)
class Global(Node):
    def matches(self, labels: Mapping[str, str]) -> bool:
        return False  # only non-namespaced resources, never a pod or a namespace

    def render(self) -> str:
        return "global()"


@dataclass(frozen=True)
class Has(Node):
    key: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.key in labels

    def render(self) -> str:
        return f"has({self.key})"

    def keys(self) -> frozenset[str]:
        return frozenset([self.key])


@dataclass(frozen=True)
class Compare(Node):
    """`key OP value`: OP one of ==, !=, contains, starts with, ends with."""

    key: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.key)
        if self.op == "!=":
            return actual != self.value
        if actual is None:
            return False
        if self.op == "==":
            return actual == self.value
        if self.op == "contains":
            return self.value in actual
        if self.op == "starts with":
            return actual.startswith(self.value)
        return actual.endswith(self.value)

    def render(self) -> str:
        return f"{self.key} {self.op} {_quote(self.value)}"

    def keys(self) -> frozenset[str]:
        return frozenset([self.key])


@dataclass(frozen=True)
class InSet(Node):
    key: str
    values: frozenset[str]
    negated: bool = False

    def matches(self, labels: Mapping[str, str]) -> bool:
        inside = labels.get(self.key) in self.values
        return not inside if self.negated else inside

    def render(self) -> str:
        values = ", ".join(_quote(v) for v in sorted(self.values))
        return f"{self.key} {'not in' if self.negated else 'in'} {{{values}}}"

    def keys(self) -> frozenset[str]:
        return frozenset([self.key])


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def matches(self, labels: Mapping[str, str]) -> bool:
        return not self.operand.matches(labels)

    def render(self) -> str:
        inner = self.operand.render()
        if isinstance(self.operand, And | Or):
            inner = f"({inner})"
        return f"!{inner}"

    def keys(self) -> frozenset[str]:
        return self.operand.keys()


@dataclass(frozen=True)
class And(Node):
    operands: tuple[Node, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(o.matches(labels) for o in self.operands)

    def render(self) -> str:
        return " && ".join(f"({o.render()})" if isinstance(o, Or) else o.render()
                           for o in self.operands)

    def keys(self) -> frozenset[str]:
        return frozenset().union(*(o.keys() for o in self.operands))


@dataclass(frozen=True)
class Or(Node):
    operands: tuple[Node, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return any(o.matches(labels) for o in self.operands)

    def render(self) -> str:
        return " || ".join(o.render() for o in self.operands)

    def keys(self) -> frozenset[str]:
        return frozenset().union(*(o.keys() for o in self.operands))


# -- the tokenizer ----------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<op>&&|\|\||==|!=|!|\(|\)|\{|\}|,)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<word>[A-Za-z0-9_./-]+)
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str   # op | string | word | end
    text: str
    position: int

    @property
    def value(self) -> str:
        return self.text[1:-1] if self.kind == "string" else self.text


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with an `end` token; raises SelectorError on a stray
    character or an unterminated string."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position] in "'\"":
                raise SelectorError("unterminated string", text, position)
            raise SelectorError(f"unexpected character {text[position]!r}", text, position)
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# -- the parser -------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def fail(self, message: str, token: Token | None = None) -> SelectorError:
        token = token or self.token
        found = "the end" if token.kind == "end" else repr(token.text)
        return SelectorError(f"{message}, found {found}", self.text, token.position)

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        token = self.token
        if token.kind == kind and (text is None or token.text == text):
            self.index += 1
            return token
        return None

    def expect(self, kind: str, text: str | None, what: str) -> Token:
        token = self.accept(kind, text)
        if token is None:
            raise self.fail(f"expected {what}")
        return token

    def parse(self) -> Node:
        node = self.parse_or()
        if self.token.kind != "end":
            raise self.fail("expected && or || or the end")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.accept("op", "||"):
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_unary()]
        while self.accept("op", "&&"):
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_unary(self) -> Node:
        if self.accept("op", "!"):
            return Not(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        if self.accept("op", "("):
            node = self.parse_or()
            self.expect("op", ")", "')'")
            return node
        word = self.accept("word")
        if word is None:
            raise self.fail("expected a label key, has(), all(), global(), '!' or '('")
        if word.text in ("all", "global") and self.accept("op", "("):
            self.expect("op", ")", f"')' after {word.text}(")
            return All() if word.text == "all" else Global()
        if word.text == "has" and self.accept("op", "("):
            key = self.expect("word", None, "a label key in has()")
            self.expect("op", ")", "')' after the key of has()")
            return Has(key.text)
        return self.parse_comparison(word.text)

    def parse_comparison(self, key: str) -> Node:
        for op in ("==", "!="):
            if self.accept("op", op):
                return Compare(key, op, self.string(op))
        if self.accept("word", "in"):
            return InSet(key, self.value_set())
        if self.accept("word", "not"):
            self.expect("word", "in", "'in' after 'not'")
            return InSet(key, self.value_set(), negated=True)
        if self.accept("word", "contains"):
            return Compare(key, "contains", self.string("contains"))
        for first in ("starts", "ends"):
            if self.accept("word", first):
                self.expect("word", "with", f"'with' after '{first}'")
                return Compare(key, f"{first} with", self.string(f"{first} with"))
        raise self.fail(f"expected an operator (==, !=, in, not in, contains, starts with, "
                        f"ends with) after label key {key!r}")

    def string(self, after: str) -> str:
        return self.expect("string", None, f"a quoted string after {after}").value

    def value_set(self) -> frozenset[str]:
        self.expect("op", "{", "'{'")
        values: list[str] = []
        if self.accept("op", "}"):
            return frozenset()
        while True:
            values.append(self.expect("string", None, "a quoted string in the set").value)
            if self.accept("op", "}"):
                return frozenset(values)
            self.expect("op", ",", "',' or '}'")


@lru_cache(maxsize=4096)
def parse(text: str | None) -> Node:
    """The AST of a selector; None, "" and blanks are `all()`. Raises SelectorError.

    Results are cached: the same text yields the same (immutable) node object.
    """
    if text is None or not text.strip():
        return All()
    return _Parser(text).parse()


def selector_error(text: object) -> str | None:
    """Why `text` is not a valid selector, or None when it is."""
    if not isinstance(text, str):
        return "must be a string"
    try:
        parse(text)
    except SelectorError as error:
        return str(error)
    return None
