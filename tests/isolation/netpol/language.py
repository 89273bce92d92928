"""The console's Simplified Chinese catalog as the domain's translator, for tests of how its
sentences read in another language (this module holds no tests)."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from isolation import text

CATALOG = Path(__file__).resolve().parents[3] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"


@contextmanager
def said_in_chinese() -> Iterator[None]:
    """Every `Text` is said through the committed zh_Hans catalog until the block ends."""
    catalog = gettext.GNUTranslations(CATALOG.open("rb"))
    kept = text._translators
    text.set_translator(catalog.gettext, catalog.ngettext)
    try:
        yield
    finally:
        text._translators = kept
