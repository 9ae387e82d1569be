"""Red-team findings against the scanner's skim (skim.py and its C twin in _scanner.c).

The skim steps over runs of text and unremarkable tags in one call, and counts the HTML
elements the run leaves open. Each page here is served through the middleware and read
as a browser reads it (html5lib, with scripting on and off); the Chromium runs of the
same pages are noted on each test. The unit tests compare the skim with the tag-by-tag
path it stands in for: the same tree state after the same input.
"""

from __future__ import annotations

import random

import pytest

from adversarial import oracle, visitors
from adversarial.visitors import CATEGORIES, DOCUMENT_URL, Visitor
from asgi_consent.scanner import ALL, GUARDED, Scanner

REFUSING: tuple[Visitor, ...] = ("none", "reject")
GA = b"https://www.google-analytics.com/collect"


def _leaks(chunks: list[bytes], visitor: Visitor) -> list[str]:
    out = visitors.serve(chunks, visitor)
    return [str(leak) for leak in oracle.find_leaks(out, CATEGORIES, DOCUMENT_URL)]


# -- the run's open elements ------------------------------------------------------------

# In the body while a <frameset> is still possible: "</div>" closes nothing, "<div>"
# opens one, so the "</div>" inside the SVG closes it (and the SVG). The <input> that
# follows is HTML and rules the frameset out; the <frameset> is ignored, and the <style>
# is raw text that ends at "</style>": the <img> after it is live. Had the skim counted
# the run "</div><div>" as no <div> open, the scanner would read the </div> as staying in
# SVG, the <input> as SVG, the <frameset> as honoured, and the <style> as an ignored
# start tag whose "<!--" hides the <img> (Chromium 156 requests it through the
# middleware).
_FRAMESET_AFTER_A_NETTED_RUN = (
    b"<!doctype html><p>",
    b'</div><div><svg></div><input><p><frameset><style><!--</style><img src="'
    + GA
    + b'">--></style>',
)


@pytest.mark.parametrize("visitor", REFUSING)
def test_an_end_tag_before_a_start_tag_of_its_name_in_one_run_closes_nothing(
    visitor: Visitor,
) -> None:
    assert not _leaks(list(_FRAMESET_AFTER_A_NETTED_RUN), visitor)


@pytest.mark.parametrize("visitor", REFUSING)
def test_the_same_run_in_one_piece_past_the_head_window_is_read_alike(visitor: Visitor) -> None:
    first, rest = _FRAMESET_AFTER_A_NETTED_RUN
    assert not _leaks([first + b" " * 5000 + rest], visitor)


def _open_after(page: bytes, skim: int, chunk: int) -> dict[bytes, int]:
    scanner = Scanner(
        hold=frozenset({b"script", b"style", b"noscript"}) if skim == GUARDED else frozenset()
    )
    buf = bytearray()
    for at in range(0, len(page), chunk):
        buf += page[at : at + chunk]
        scanner.skim = skim
        _, stop = scanner.scan(buf, 0, at + chunk >= len(page))
        del buf[:stop]
        scanner.shift(stop)
    return {name: n for name, n in scanner.tree.open.items() if n > 0}


_NAMES = (b"div", b"DIV", b"span", b"li", b"x-a", b"br", b"img")


def _tag_soup(rng: random.Random) -> bytes:
    tags = [b"<p>"]  # reported first: the skim runs from there on
    for _ in range(rng.randint(1, 30)):
        name = rng.choice(_NAMES)
        tags.append((b"</" if rng.random() < 0.45 else b"<") + name + b">")
        if rng.random() < 0.1:
            tags.append(rng.choice((b"<!-- c -->", b"x", b" ", b"<script>1</script>", b"<?x>")))
    return b"".join(tags)


@pytest.mark.parametrize("skim", [GUARDED, ALL], ids=["guarded", "all"])
def test_a_skimmed_run_leaves_the_elements_open_that_reading_tag_by_tag_does(skim: int) -> None:
    rng = random.Random(20261202)
    wrong = []
    for _ in range(600):
        page = _tag_soup(rng)
        expected = _open_after(page, 0, len(page))
        for chunk in (len(page), 3):
            if _open_after(page, skim, chunk) != expected:
                wrong.append((page, chunk))
    assert not wrong, wrong[:3]


# -- an end tag inside SVG that the tree model guesses closes it ------------------------

# Not the skim's: TreeModel leaves SVG or MathML at an end tag whenever an HTML element of
# that name was counted open around it, and stays in it otherwise. The count cannot see
# what the tree builder closed without an end tag (a <span> closed by its parent's
# </div>, an <li> by the next <li>), a scope boundary (<td>) in between, nor an element
# it opened unasked (<tbody>): where the browser stays in SVG, the scanner reads raw text,
# PLAINTEXT, HTML attribute readings and a frameset-ok killer as HTML; where the browser
# leaves, the scanner reads "<script/>" as an SVG script. Chromium 156 requests each
# tracker below through the middleware, but the script's: there guard.js stops what the
# script asks for (html5lib still reads a live inline tracker script).
_OBSCURED = b"https://www.google&#45;analytics.com/collect"  # no host in the raw text
_GUESSED_EXITS = {
    "span-closed-by-its-parent": b'<body><div><span></div><svg></span><style><img src="'
    + _OBSCURED
    + b'"></style>',
    "li-closed-by-the-next-li": b'<body><li><li></li><svg></li><style><img src="'
    + _OBSCURED
    + b'"></style>',
    "div-out-of-scope-past-td": b'<body><div><table><tr><td><svg></div><style><img src="'
    + _OBSCURED
    + b'"></style>',
    "plaintext": b'<body><div><span></div><svg></span><plaintext><img src="' + GA + b'">',
    "svg-only-attribute": b'<body><div><span></div><svg></span><feImage href="' + GA + b'"/>',
    # The other way: <tr> opened a <tbody> no tag names, so the scanner stays in SVG at
    # </tbody> and reads "<script/>" as an SVG script with no content; the browser has
    # left the SVG (the cell is closed) and runs the HTML script's text.
    "tbody-opened-by-tr": b'<body><table><tr><td><svg></tbody><script/>fbq("init", "1");</script>',
    # No <body> tag (it rules a frameset out). The scanner takes the <input> for HTML,
    # so no frameset any more; the browser, still in SVG, honours the <frameset>,
    # ignores the <textarea> and loads the <frame>.
    "frameset-killer-read-as-html": b"<p><div><span></div><svg></span><input><p><frameset>"
    b'<textarea><frame src="' + GA + b'"></textarea>',
}


@pytest.mark.parametrize("visitor", REFUSING)
@pytest.mark.parametrize("name", list(_GUESSED_EXITS))
def test_an_end_tag_the_browser_ignores_inside_svg_hides_no_tracker(
    name: str, visitor: Visitor
) -> None:
    assert not _leaks([b"<!doctype html>" + _GUESSED_EXITS[name]], visitor)


# -- chunking -----------------------------------------------------------------------------


def test_a_document_without_tags_gets_its_banner_however_it_is_cut() -> None:
    # A DOCTYPE makes it a document (the parser adds html, head and body); whether its
    # DOCTYPE came in an earlier chunk than the end must not decide that.
    page = b"<!doctype html>Hello"
    whole = visitors.serve([page], "none")
    assert whole == visitors.serve([page[:15], page[15:]], "none")
    assert b'id="asgi-consent"' in whole
