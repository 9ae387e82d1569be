"""URLs in CSS, read the way the CSS tokenizer reads them: every url() and every string,
escapes decoded, comments skipped, and nothing a browser could fetch left out."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asgi_consent import css as css_module
from asgi_consent.css import css_urls
from helpers import fastest_in_turns

TRACKER = "https://www.googletagmanager.com/gtag/js"


def test_url_tokens_quoted_or_not_are_found() -> None:
    css = "a{background:url(x.png)} b{background:URL( 'y.png' )} c{cursor:url(\"z.cur\"),auto}"
    assert css_urls(css) == ["x.png", "y.png", "z.cur"]


def test_import_image_set_and_font_strings_are_found() -> None:
    css = '@import "a.css" screen; b{background:image-set("b.png" 1x)} @font-face{src:"c.woff"}'
    assert css_urls(css) == ["a.css", "b.png", "c.woff"]


def test_escapes_spell_url_and_its_value() -> None:
    assert css_urls(r"a{background:\75 rl(x)}") == ["x"]
    assert css_urls(r"a{background:U\52 L(x)}") == ["x"]
    assert css_urls(r"a{background:url(https:\2f\2fwww.example\2e com/\)x)}") == [
        "https://www.example.com/)x"
    ]
    assert css_urls(
        r'@import "a\"b\
c\000041";'
    ) == ['a"bcA']


def test_comments_are_skipped_but_only_outside_strings() -> None:
    assert css_urls("/* url(no) */ a{b:url(yes)}") == ["yes"]
    assert css_urls(f'a{{content:"/*"}} b{{background:url({TRACKER})}} c{{content:"*/"}}') == [
        "/*",
        TRACKER,
        "*/",
    ]


def test_an_escaped_comment_opener_opens_no_comment() -> None:
    assert TRACKER in css_urls(rf"a{{x:\2f\2a}} b{{background:url({TRACKER})}} c{{x:\2a\2f}}")


def test_a_newline_ends_a_string_and_what_follows_is_read() -> None:
    assert css_urls(f'a{{content:"open\nb{{background:url({TRACKER})}}') == ["open", TRACKER]


def test_unterminated_comments_strings_and_urls_run_to_the_end() -> None:
    assert css_urls("a{} /* url(x)") == []
    assert css_urls("@import 'x.css") == ["x.css"]
    assert css_urls("a{background:url(  x.png  ") == ["x.png"]


def test_bad_urls_are_still_reported() -> None:
    assert css_urls("a{background:url(a b)} c{background:url(d(e)}") == ["a b", "d(e"]


def test_only_the_name_url_makes_a_url_token() -> None:
    assert css_urls("a{b:xurl(x) -url(y) url-x(z)}") == []
    assert css_urls("a{b:.url(x)}") == ["x"]


def test_carriage_returns_form_feeds_and_nul_are_normalized() -> None:
    assert css_urls('a{content:"x\r\nb{background:url(y)}\f') == ["x", "y"]
    assert css_urls("a{b:url(x\x00)}") == ["x\ufffd"]


# -- generated stylesheets ---------------------------------------------------------------

FILLER = ["a{", "}", ";", " ", "\n", "color:red", "/**/", "/* url(c) */", "(", ")", "\\\n"]
FILLER += ["x", "-", "1", "@media screen{", "'s'", '"t"', "#id", ".c", ",", "\\2f", "\\2a"]
VALUE = st.text(alphabet=st.sampled_from(list("abc/:.?=&%-_ ()'\"\\,;é{}*")), max_size=12)


def spell_url(value: str, form: int) -> str:
    escaped = "".join(f"\\{ord(c):x} " if c in "()'\"\\ \n" else c for c in value)
    quoted = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return [
        f"url({escaped})",
        f'url( "{quoted}" )',
        f'@import "{quoted}";',
        f"\\75 rl({escaped})",
        f'image-set("{quoted}" 1x)',
    ][form]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.sampled_from(FILLER), max_size=4), VALUE, st.integers(0, 4)),
        max_size=6,
    )
)
def test_every_url_written_into_a_stylesheet_is_found(
    pieces: list[tuple[list[str], str, int]],
) -> None:
    css = []
    planted = []
    for filler, value, form in pieces:
        # Filler is kept from opening a comment or string that would swallow the URL.
        text = "".join(filler)
        if text.count("'") % 2 or text.count('"') % 2 or text.endswith(("/", "\\")):
            text += ";"
        css += [text, "; ", spell_url(value, form), " "]
        planted.append(value)
    found = css_urls("".join(css))
    for value in planted:
        assert value in found


@given(st.text())
def test_any_text_is_read_without_error(text: str) -> None:
    assert isinstance(css_urls(text), list)


# The reading one token at a time (what css_urls() steps over in one match: characters
# that start no token, and names not followed by "("), kept as the reference.
_REFERENCE_TOKEN = re.compile(
    r"""/\*.*?(?:\*/|\Z)"""
    r"""|"((?:[^"\\\n]|\\.)*+)"?"""
    r"""|'((?:[^'\\\n]|\\.)*+)'?"""
    r"""|((?:[-\w\u0080-\U0010ffff]|\\(?:[0-9a-fA-F]{1,6}[ \t\n]?|[^\n0-9a-fA-F]))++)(\()?""",
    re.DOTALL,
)


def reference_css_urls(text: str) -> list[str]:
    text = re.sub(r"\r\n?|\f", "\n", text).replace("\x00", "\ufffd")
    urls: list[str] = []
    at = 0
    while (token := _REFERENCE_TOKEN.search(text, at)) is not None:
        at = token.end()
        double, single, name, paren = token.groups()
        if double is not None or single is not None:
            urls.append(css_module._unescape(double if double is not None else single))
        elif paren and css_module._unescape(name).lower() == "url":
            start = at
            while start < len(text) and text[start] in " \t\n":
                start += 1
            if text[start : start + 1] in ('"', "'"):
                continue
            body = re.compile(r"((?:[^)\\]|\\.)*+)\)?", re.DOTALL).match(text, start)
            assert body is not None
            at = body.end()
            urls.append(css_module._unescape(body.group(1).rstrip(" \t\n")))
    return urls


CSS_PIECES = [
    *"urlURL()\"'/*\\\n\r\f \taf7-_:;{}\x00é",
    "url(", "\\75 ", "/*", "*/", "var(", "\\\n", "\\\"", "\U0001f600", "2e",
]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(CSS_PIECES), max_size=40))
def test_stepping_over_what_yields_nothing_finds_what_the_token_reading_finds(
    pieces: list[str],
) -> None:
    text = "".join(pieces)
    assert css_urls(text) == reference_css_urls(text)


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "a(" * n,
        lambda n: "a b/" * n,
        lambda n: "/*" * n,
        lambda n: "url(" * n,
        lambda n: '"\\' * n,
        lambda n: "\\75 rl(" * n,
        lambda n: "a" * n,
        lambda n: "'" * n,
        lambda n: "(" * n,
    ],
)
def test_pathological_stylesheets_take_linear_time(make: Callable[[int], str]) -> None:
    texts = {n: make(n) for n in (5_000, 50_000)}
    small, large = fastest_in_turns(lambda n: css_urls(texts[n]), sorted(texts))
    assert large < 0.5 and large < 40 * max(small, 0.001)
