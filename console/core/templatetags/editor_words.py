"""The words of the YAML editor (static/editor/editor.bundle.js) in the request's language.

`{% editor_words %}` writes them as JSON in `<script type="application/json" id="editor-words">`,
which the bundle reads when it builds an editor; a page without it gets the bundle's English.
Counted words go as two forms, the first for a count of one, the second for any other count.
CodeMirror's own phrases (search, go to line, the problem list, folding) mark a number with `$`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString
from django.utils.translation import ngettext, pgettext

register = template.Library()


def _forms(say: Callable[[int], str]) -> list[str]:
    """The form for a count of one and the form for other counts."""
    return [say(1), say(2)]


def _codemirror(text: str) -> str:
    """A phrase with its `{name}` placeholder written the way CodeMirror fills it."""
    return re.sub(r"\{\w+\}", "$", text)


def _phrases() -> dict[str, str]:
    """CodeMirror's phrases, by their English text, that the bundled packages show."""
    return {
        # The search panel (Ctrl-F).
        "Find": pgettext("YAML editor", "Find"),
        "Replace": pgettext("YAML editor", "Replace"),
        "next": pgettext("YAML editor", "next"),
        "previous": pgettext("YAML editor", "previous"),
        "all": pgettext("YAML editor", "all"),
        "match case": pgettext("YAML editor", "match case"),
        "regexp": pgettext("YAML editor", "regexp"),
        "by word": pgettext("YAML editor", "by word"),
        "replace": pgettext("YAML editor", "replace"),
        "replace all": pgettext("YAML editor", "replace all"),
        "close": pgettext("YAML editor", "close"),
        "current match": pgettext("YAML editor", "current match"),
        "on line": pgettext("YAML editor", "on line"),
        "replaced match on line $": _codemirror(pgettext("YAML editor", "replaced match on line {line}")),
        "replaced $ matches": _codemirror(pgettext("YAML editor", "replaced {count} matches")),
        # Go to line (Ctrl-Alt-G).
        "Go to line": pgettext("YAML editor", "Go to line"),
        "go": pgettext("YAML editor", "go"),
        # The problem list (Ctrl-Shift-M).
        "Diagnostics": pgettext("YAML editor", "Problems"),
        "No diagnostics": pgettext("YAML editor", "No problems"),
        # Folding.
        "Fold line": pgettext("YAML editor", "Fold line"),
        "Unfold line": pgettext("YAML editor", "Unfold line"),
        "folded code": pgettext("YAML editor", "folded code"),
        "unfold": pgettext("YAML editor", "unfold"),
        "Folded lines": pgettext("YAML editor", "Folded lines"),
        "Unfolded lines": pgettext("YAML editor", "Unfolded lines"),
        "to": pgettext("YAML editor", "to"),
        # Screen reader announcements and markers.
        "Selection deleted": pgettext("YAML editor", "Selection deleted"),
        "Control character": pgettext("YAML editor", "Control character"),
    }


def words() -> dict[str, object]:
    """Every word the editor shows, in the active language; placeholders are `{name}`."""
    return {
        "position": pgettext("YAML editor", "Line {line}, column {column}"),
        "errors": _forms(lambda n: ngettext("{count} error", "{count} errors", n)),
        "warnings": _forms(lambda n: ngettext("{count} warning", "{count} warnings", n)),
        "notes": _forms(lambda n: ngettext("{count} note", "{count} notes", n)),
        "separator": pgettext("list separator", ", "),
        "hint": pgettext("YAML editor", "Tab indents. Press Esc then Tab to leave the editor. "
                                  "Ctrl-F searches, F8 jumps to the next problem."),
        "readOnlyHint": pgettext("YAML editor", "Read-only. Tab moves to the next control."),
        "phrases": _phrases(),
    }


@register.simple_tag
def editor_words() -> SafeString:
    """The editor's words as a JSON script element with the id the bundle looks for."""
    return json_script(words(), "editor-words")
