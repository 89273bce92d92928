"""Two languages: every visible template string is marked for translation, every message has a
Simplified Chinese translation, and pages answer in the language the browser or the header's
switcher asks for."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "templates"
CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# Templates not converted yet (pending their feature's i18n pass); none are left.
PENDING: tuple[str, ...] = ()

# Attributes a user reads or hears; every other attribute value is for machines.
SPOKEN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "aria-description"}
# Literal arguments of {% include ... with key="..." %} that the included template shows.
SPOKEN_INCLUDE_ARGUMENTS = {"title", "purpose", "label", "heading", "empty", "text_label"}
# Text that is not language: code, and what a template wrote for a machine.
UNSPOKEN_ELEMENTS = {"script", "style", "code", "kbd", "samp", "pre", "textarea"}
LETTERS = re.compile(r"[A-Za-z]")

BLOCK_TRANSLATE = re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
TEMPLATE_COMMENT = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
TAG_OR_VARIABLE = re.compile(r"{%.*?%}|{{.*?}}", re.S)
INCLUDE_LITERALS = re.compile(r"{%\s*include\b(.*?)%}", re.S)
LITERAL_ARGUMENT = re.compile(r"""(\w+)=(?:"([^"]*)"|'([^']*)')""")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.unspoken_depth = 0
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in UNSPOKEN_ELEMENTS:
            self.unspoken_depth += 1
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value and LETTERS.search(value):
                self.found.append(f'{name}="{value}"')

    def handle_endtag(self, tag):
        if tag in UNSPOKEN_ELEMENTS and self.unspoken_depth:
            self.unspoken_depth -= 1

    def handle_data(self, data):
        if not self.unspoken_depth and LETTERS.search(data):
            self.found.append(data.strip())


def unmarked_strings(source: str) -> list[str]:
    """The user-facing text of a template outside translate tags: text nodes and spoken
    attributes with letters in them, once tags, variables and comments are taken out, plus
    literal strings handed to included templates that show them."""
    found = []
    for include in INCLUDE_LITERALS.findall(source):
        for key, double, single in LITERAL_ARGUMENT.findall(include):
            value = double or single
            if key in SPOKEN_INCLUDE_ARGUMENTS and LETTERS.search(value):
                found.append(f'{key}="{value}"')
    text = TEMPLATE_COMMENT.sub(" ", source)
    text = BLOCK_TRANSLATE.sub(" ", text)
    text = TAG_OR_VARIABLE.sub(" ", text)
    parser = _VisibleText()
    parser.feed(text)
    parser.close()
    return found + parser.found


def owned_templates() -> list[Path]:
    return sorted(path for path in TEMPLATES.rglob("*.html")
                  if not path.relative_to(TEMPLATES).as_posix().startswith(PENDING))


def test_the_checker_finds_unmarked_text_and_accepts_marked_text():
    assert unmarked_strings("<p>Hello</p>") == ["Hello"]
    assert unmarked_strings('<a title="Open it" href="/x">{% translate "Go" %}</a>') == ['title="Open it"']
    assert unmarked_strings('{% include "h.html" with title="Members" %}') == ['title="Members"']
    assert unmarked_strings(
        '{% load i18n %}<p class="x" data-a="b">{% translate "Hello" %} {{ name }} — 3</p>'
        '{% blocktranslate count counter=n %}{{ counter }} pod{% plural %}{{ counter }} pods'
        '{% endblocktranslate %}<code>kube-system</code><script>var a = 1;</script>'
        '{# a note #}<span aria-label="{% translate \'Close\' %}"></span>') == []


@pytest.mark.parametrize("template", owned_templates(),
                         ids=lambda path: path.relative_to(TEMPLATES).as_posix())
def test_every_visible_template_string_is_marked_for_translation(template):
    assert unmarked_strings(template.read_text()) == []


def _catalog_entries(text: str) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr[...] joined, and flags."""
    entries, entry, field = [], None, None
    for line in text.splitlines() + [""]:
        line = line.strip()
        if not line:
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": "", "msgid": "", "msgid_plural": None, "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] += line[2:]
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid_plural "):
            field = "msgid_plural"
            entry[field] = _unquote(line.split(" ", 1)[1])
        elif line.startswith("msgid "):
            field = "msgid"
            entry[field] = _unquote(line.split(" ", 1)[1])
        elif line.startswith("msgstr"):
            field = line.split(" ", 1)[0]
            entry["msgstr"][field] = _unquote(line.split(" ", 1)[1])
        elif line.startswith('"'):
            if field in ("msgid", "msgid_plural"):
                entry[field] += _unquote(line)
            else:
                entry["msgstr"][field] += _unquote(line)
    return [e for e in entries if e["msgid"] or e["msgstr"]]


def _unquote(quoted: str) -> str:
    return quoted.strip()[1:-1]


def test_every_message_has_a_simplified_chinese_translation():
    entries = [e for e in _catalog_entries(CATALOG.read_text()) if e["msgid"]]
    assert len(entries) > 100
    missing = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert missing == [], f"no zh-Hans translation for: {missing[:20]}"
    assert fuzzy == [], f"fuzzy (unchecked) zh-Hans translations: {fuzzy[:20]}"


def test_the_committed_compiled_catalog_matches_the_translations(tmp_path):
    """The .mo is committed (the image and `make run` need no gettext): it must be the .po's."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "msgfmt not found: run `make services` to install gettext"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(CATALOG)], check=True)
    with fresh.open("rb") as new, CATALOG.with_suffix(".mo").open("rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(new)._catalog, (
            "locale/zh_Hans/LC_MESSAGES/django.mo is out of date: run `make messages`")


def test_the_catalog_parser_sees_an_empty_translation():
    po = 'msgid "Pods"\nmsgstr ""\n\n#, fuzzy\nmsgid "Sign in"\nmsgstr "登录"\n'
    entries = _catalog_entries(po)
    assert [(e["msgid"], e["msgstr"]["msgstr"], "fuzzy" in e["flags"]) for e in entries] == [
        ("Pods", "", False), ("Sign in", "登录", True)]


def test_the_login_page_speaks_english_by_default(client):
    response = client.get(reverse("login"))
    assert '<html lang="en"' in response.text
    assert "Sign in" in response.text


def test_the_login_page_speaks_chinese_to_a_chinese_browser(client):
    response = client.get(reverse("login"), headers={"accept-language": "zh-Hans"})
    assert '<html lang="zh-hans"' in response.text
    assert "登录" in response.text
    assert "Sign in" not in response.text


def test_a_browser_asking_for_zh_cn_gets_simplified_chinese(client):
    response = client.get(reverse("login"), headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-hans"' in response.text


@pytest.mark.django_db
def test_a_signed_in_page_answers_in_chinese(demo_cluster, personas, login_as):
    client = login_as("alice")
    response = client.get(reverse("workspace_list"), headers={"accept-language": "zh-Hans"})
    assert response.status_code == 200
    assert "企业空间" in response.text
    assert "网络隔离" in response.text
    english = client.get(reverse("workspace_list"))
    assert "Workspaces" in english.text and "企业空间" not in english.text


@pytest.mark.django_db
def test_the_switcher_sets_the_language_and_it_is_remembered(demo_cluster, personas, login_as):
    client = login_as("alice")
    page = client.get(reverse("workspace_list"))
    assert 'action="/i18n/setlang/"' in page.text and 'value="zh-hans"' in page.text
    response = client.post(reverse("set_language"),
                           {"language": "zh-hans", "next": reverse("workspace_list")})
    assert response.status_code == 302 and response.url == reverse("workspace_list")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    # Remembered across requests (and over an English-speaking browser's Accept-Language).
    page = client.get(reverse("workspace_list"), headers={"accept-language": "en"})
    assert '<html lang="zh-hans"' in page.text and "企业空间" in page.text
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert '<html lang="en"' in client.get(reverse("workspace_list")).text


def test_the_switcher_works_before_sign_in(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    assert response.status_code == 302 and response.url == reverse("login")
    assert "登录" in client.get(reverse("login")).text
