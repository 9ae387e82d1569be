"""<noscript> content that leaves SVG or MathML open, read by a browser without JavaScript.

For a browser with JavaScript, <noscript> holds raw text; without it, markup. The
rewriter reads that markup too, and drops content that would run on past `</noscript>`
in that reading (an unfinished comment, tag or raw text). It kept content that leaves
foreign content open: under a `<p>` or a `<div>` (special elements), `</noscript>` inside
SVG or MathML is ignored, the <noscript> stays open, and the page after it is read in
foreign content, where `<textarea>`/`<style>` are not raw text and an `<img>` breaks out.
Chromium 156 without JavaScript fetched the tracker "inside" the textarea through the
middleware, before any choice and after reject. Such content is now dropped, as the
other content that runs on is. The unit tests read the output with html5lib (scripting
on and off); the Chromium test loads the page without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from adversarial import oracle, visitors
from adversarial.visitors import Visitor
from helpers import require_chromium

_PIXEL = b"https://www.facebook.com/tr?id=1&amp;ev=PageView"
_HEAD = b"<!doctype html><html><head><title>t</title></head><body><p>a"


def _page(inside: bytes, after: bytes) -> list[bytes]:
    img = b'<img src="' + _PIXEL + b'">'
    return [_HEAD + b"<noscript>" + inside + b"</noscript>" + after.replace(b"IMG", img)]


# Names end in -nojs: the Chromium harness loads them without JavaScript.
PAGES: dict[str, list[bytes]] = {
    "math-under-div-then-textarea-nojs": _page(b"<div><math>", b"<textarea>IMG</textarea>"),
    "svg-under-p-then-textarea-nojs": _page(b"<p><svg>", b"<textarea>IMG</textarea>"),
    "svg-under-p-then-style-nojs": _page(b"<p><svg>", b"<style>IMG</style>"),
    "math-under-p-then-xmp-nojs": _page(b"<p><math>", b"<xmp>IMG</xmp>"),
}
ALL_VISITORS: tuple[Visitor, ...] = ("none", "reject")


@pytest.mark.parametrize("visitor", ALL_VISITORS)
@pytest.mark.parametrize("name", list(PAGES))
def test_noscript_content_leaving_foreign_content_open_holds_no_live_markup(
    name: str, visitor: Visitor
) -> None:
    assert oracle.find_leaks(b"".join(PAGES[name]), visitors.CATEGORIES), "proves nothing"
    out = visitors.serve(PAGES[name], visitor)
    assert [str(leak) for leak in oracle.find_leaks(out, visitors.CATEGORIES)] == []


@pytest.mark.parametrize(
    "inside", [b"<svg></svg>", b"<math><mi>x</mi></math>", b"<p>x", b"<div><svg></svg>"]
)
def test_noscript_content_that_closes_what_it_opens_is_kept(inside: bytes) -> None:
    page = _page(inside, b"<p>b")
    assert inside in visitors.serve(page, "none")


@pytest.fixture(scope="class")
def tracker_chromium() -> Iterator[Callable[[str], dict[str, list[str]]]]:
    require_chromium()
    from redteam.harness import chromium as open_chromium

    with open_chromium(PAGES) as load:
        yield load


@pytest.mark.browser
@pytest.mark.server
class TestNoscriptInChromium:
    @pytest.mark.parametrize("name", ["math-under-div-then-textarea-nojs"])
    def test_chromium_without_javascript_requests_no_tracker_through_the_middleware(
        self, tracker_chromium: Callable[[str], dict[str, list[str]]], name: str
    ) -> None:
        seen = tracker_chromium(name)
        raw = [url for url in seen["raw"] if not url.startswith("ERROR")]
        assert raw, f"{name}: the raw page requests no tracker, so it proves nothing: {seen['raw']}"
        assert seen["none"] == [] and seen["reject"] == []
