"""Sentences of the domain, said in the reader's language.

The domain writes every sentence a person reads (rule descriptions, explanations, lint, traffic
notes, diagram labels) with `gettext` / `ngettext` from here, in English with named `{fields}`:

    from isolation.text import gettext as _, ngettext
    _("Allow ingress from {peer}", peer=peer)
    ngettext("{count} pod", "{count} pods", count, count=count)

Each returns a `Text`: a `str` holding the English sentence — what the offline commands print,
what JSON carries, what comparisons and sorting see — that also keeps its message and fields.
When a reader has set a translator (`set_translator`; the console installs Django's, which
follows each request's language), `str()` and `format()` of a `Text` say it in that language,
with fields that are `Text` themselves translated too. A missing or broken translation falls
back to the English sentence.

A sentence kept for later (in a database row, a job's result) is kept as `dump(sentence)`:
JSON-ready data with its message and fields, that `load` makes the same sentence of again, to
be said in the language of whoever reads it then.

The message ids are extracted with the console's others (`manage.py makemessages`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_translators: tuple[Callable[[str], str], Callable[[str, str, int], str]] | None = None


def set_translator(gettext: Callable[[str], str] | None,
                   ngettext: Callable[[str, str, int], str] | None = None) -> None:
    """Say every `Text` through these from now on (None: English, as written)."""
    global _translators
    if gettext is None:
        _translators = None
    else:
        _translators = (gettext, ngettext or (lambda singular, plural, n: singular if n == 1
                                              else plural))


class Text(str):
    """An English sentence that remembers its message and fields (see the module)."""

    msgid: str
    plural: str | None
    count: int | None
    fields: Mapping[str, Any]

    def __new__(cls, msgid: str, plural: str | None = None, count: int | None = None,
                fields: Mapping[str, Any] | None = None) -> Text:
        fields = dict(fields or {})
        pattern = msgid if plural is None or count == 1 else plural
        self = super().__new__(cls, _fill(pattern, fields, translated=False) if fields else pattern)
        self.msgid, self.plural, self.count, self.fields = msgid, plural, count, fields
        return self

    def __str__(self) -> str:
        if _translators is None:
            return str.__str__(self)
        gettext, ngettext = _translators
        try:
            if self.plural is None:
                pattern = gettext(self.msgid)
            else:
                pattern = ngettext(self.msgid, self.plural, self.count or 0)
            return _fill(pattern, self.fields, translated=True) if self.fields else pattern
        except (KeyError, IndexError, ValueError, AttributeError):
            return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return format(self.__str__(), spec)

    def __reduce__(self):
        return (Text, (self.msgid, self.plural, self.count, self.fields))

    @property
    def english(self) -> str:
        """The sentence as written, whatever the translator."""
        return str.__str__(self)


def _fill(pattern: str, fields: Mapping[str, Any], *, translated: bool) -> str:
    if translated:
        fields = {key: value.__str__() if isinstance(value, Text) else value
                  for key, value in fields.items()}
    else:
        fields = {key: value.english if isinstance(value, Text) else value
                  for key, value in fields.items()}
    return pattern.format(**fields)


class _Composed(Text):
    """Sentences or phrases said one after another, each in the reader's language."""

    def __str__(self) -> str:
        return _fill(self.msgid, self.fields, translated=True)

    def __reduce__(self):
        return (_Composed, (self.msgid, None, None, self.fields))


class _Derived(Text):
    """A `Text` passed through a function of its words (redaction, say): `str()` applies it to
    the sentence in the reader's language, the English value to the English sentence."""

    def __new__(cls, source: Text, function: Callable[[str], str]) -> _Derived:
        self = str.__new__(cls, function(source.english))
        self.msgid, self.plural, self.count, self.fields = (source.msgid, source.plural,
                                                            source.count, source.fields)
        self.source, self.function = source, function
        return self

    def __str__(self) -> str:
        return self.function(self.source.__str__())

    def __reduce__(self):
        # The function may not pickle (a closure): what is kept is the English result.
        return (str, (self.english,))


def join(parts: list[Any] | tuple[Any, ...], separator: str = " ") -> Text:
    """`parts` said one after another with `separator` between them; each part that is a
    `Text` is said in the reader's language."""
    fields = {f"part{index}": part for index, part in enumerate(parts)}
    pattern = separator.replace("{", "{{").replace("}", "}}").join(
        "{" + name + "}" for name in fields)
    return _Composed(pattern, fields=fields)


def transform(value: Any, function: Callable[[str], str]) -> Any:
    """`function(value)`, and for a `Text` one that applies `function` to the sentence in the
    language it is shown in (its English value stays `function` of the English)."""
    if isinstance(value, Text):
        return _Derived(value, function)
    return function(value)


def gettext(message: str, /, **fields: Any) -> Text:
    """`message` with its `{fields}` filled in, said in the reader's language when shown."""
    return Text(message, fields=fields)


def ngettext(singular: str, plural: str, count: int, /, **fields: Any) -> Text:
    """The singular or plural `message` for `count` (as the reader's language counts)."""
    return Text(singular, plural, count, fields)


def gettext_noop(message: str) -> str:
    """Marks `message` for extraction where the sentence is built later (e.g. in a table)."""
    return message


def english(value: Any) -> str:
    """The English of `value` whatever the translator: a `Text` as written, anything else as
    `str()` gives it (what a database column of English text keeps)."""
    if isinstance(value, Text):
        return value.english
    return "" if value is None else str(value)


_SENTENCE_KEYS = frozenset({"msgid", "plural", "count", "fields", "joined"})


def dump(value: Any) -> Any:
    """`value` as JSON-ready data that `load` turns back into the same sentence.

    A `Text` becomes {"msgid", "plural", "count", "fields"} (only those it has), its fields
    dumped the same way; a `join` result is marked "joined". A sentence passed through a
    function (`transform`: redaction, say) is kept as its English result, the function being
    no data. A plain `str` stays a `str`; numbers, booleans and None stay as they are; any
    other field value is kept as its `str()`.
    """
    if isinstance(value, _Derived):
        return value.english
    if isinstance(value, Text):
        data: dict[str, Any] = {"msgid": value.msgid}
        if value.plural is not None:
            data["plural"], data["count"] = value.plural, value.count
        if value.fields:
            data["fields"] = {key: dump(field) for key, field in value.fields.items()}
        if isinstance(value, _Composed):
            data["joined"] = True
        return data
    if isinstance(value, str):
        return str.__str__(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def load(data: Any) -> Any:
    """The sentence `dump` kept: a `Text` (said in the reader's language when shown) for the
    data of one, anything else as it is."""
    if not is_dumped(data):
        return data
    fields = {key: load(field) for key, field in (data.get("fields") or {}).items()}
    if data.get("joined"):
        return _Composed(data["msgid"], fields=fields)
    return Text(data["msgid"], data.get("plural"), data.get("count"), fields)


def is_dumped(data: Any) -> bool:
    """Whether `data` is a sentence as `dump` keeps it."""
    return (isinstance(data, dict) and isinstance(data.get("msgid"), str)
            and data.keys() <= _SENTENCE_KEYS)


def dump_all(data: Any) -> Any:
    """`data` (nested dicts, lists and tuples) with every `Text` in it dumped: JSON-ready."""
    if isinstance(data, str):
        return dump(data)
    if isinstance(data, dict):
        return {key: dump_all(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [dump_all(value) for value in data]
    return data


def load_all(data: Any) -> Any:
    """`data` with every sentence `dump_all` kept in it made a `Text` again."""
    if is_dumped(data):
        return load(data)
    if isinstance(data, dict):
        return {key: load_all(value) for key, value in data.items()}
    if isinstance(data, list):
        return [load_all(value) for value in data]
    return data
