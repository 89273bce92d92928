"""How wide the diagrams' text is drawn, and how it wraps and shortens to fit.

Widths are estimates for the 12px sans-serif face the diagrams use, made on the text as shown
(in the reader's language): a Chinese character or full-width sign is about twice as wide as a
Latin letter, and Chinese lines break between characters, since Chinese has no spaces.
"""

from __future__ import annotations

import unicodedata

CHAR_WIDTH = 6.4  # average advance of the 12px sans-serif face, for wrapping and boxes
# Closing punctuation of CJK text stays on the line of the character before it, opening
# punctuation on the line of the one after.
_CLOSING = set("，。、；：！？）」』》】")
_OPENING = set("（「『《【")


def _is_wide(ch: str) -> bool:
    """A character drawn about twice as wide as a Latin one (Chinese, full-width forms)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def columns(text: str) -> int:
    """The width of `text` in Latin character cells: a wide character takes two."""
    return sum(2 if _is_wide(ch) else 1 for ch in text)


def _take(text: str, cells: int) -> str:
    """The longest start of `text` within `cells` Latin character cells (at least one character)."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if _is_wide(ch) else 1
        if used > cells:
            return text[:max(index, 1)]
    return text


def _pieces(word: str) -> list[str]:
    """`word` cut where a line may break inside it: around each wide character, its closing
    punctuation kept with the character before and its opening one with the one after; a word
    without wide characters stays whole."""
    pieces: list[str] = []
    for ch in word:
        if pieces and (ch in _CLOSING or pieces[-1][-1] in _OPENING
                       or not (_is_wide(ch) or _is_wide(pieces[-1][-1]))):
            pieces[-1] += ch
        else:
            pieces.append(ch)
    return pieces or [word]


def wrap(text: str, width_px: float) -> list[str]:
    """Lines of `text` no wider than `width_px`, broken at spaces and between wide characters
    (Chinese has no spaces); a word longer than a line is cut."""
    text = str(text)
    limit = max(12, int(width_px / CHAR_WIDTH))
    lines: list[str] = []
    current = ""
    for word in text.split():
        for index, piece in enumerate(_pieces(word)):
            while columns(piece) > limit:
                if current:
                    lines.append(current)
                    current = ""
                head = _take(piece, limit)
                lines.append(head)
                piece = piece[len(head):]
            glue = " " if index == 0 and current and piece else ""
            candidate = f"{current}{glue}{piece}" if current else piece
            if columns(candidate) > limit and current:
                lines.append(current)
                current = piece
            else:
                current = candidate
    if current:
        lines.append(current)
    return lines or [""]


def clip(text: str, chars: int) -> str:
    """`text` within `chars` Latin cells, shortened with an ellipsis at the end."""
    text = str(text)
    return text if columns(text) <= chars else _take(text, chars - 1) + "…"


_NARROW = set("iljtfr.,:;|!'()[]/ ")
_WIDE = set("mwMW@%")


def text_width(text: str, size: int = 12, bold: bool = False) -> float:
    """An estimate of the rendered width of `text` in the sans-serif face, in px: wide enough
    that boxes and columns sized by it hold the text in the common browsers' fonts."""
    em = 0.0
    for ch in str(text):
        if _is_wide(ch):
            em += 1.0
        elif ch in _NARROW:
            em += 0.32
        elif ch in _WIDE:
            em += 0.88
        elif ch.isupper():
            em += 0.68
        else:  # digits and lower case
            em += 0.6
    return em * size * (1.08 if bold else 1.0)


def fit(text: str, width_px: float, size: int = 12, bold: bool = False,
         middle: bool = False) -> str:
    """`text` shortened with an ellipsis (at the end, or in the middle) to fit `width_px`."""
    text = str(text)
    if text_width(text, size, bold) <= width_px:
        return text
    for chars in range(columns(text) - 1, 3, -1):
        short = _clip_middle(text, chars) if middle else clip(text, chars)
        if text_width(short, size, bold) <= width_px:
            return short
    return clip(text, 4)


def _clip_middle(text: str, chars: int) -> str:
    """Shortened in the middle, so a pod's distinguishing suffix stays visible."""
    if len(text) <= chars:
        return text
    head = (chars - 1) // 2
    return text[:head] + "…" + text[len(text) - (chars - 1 - head):]
