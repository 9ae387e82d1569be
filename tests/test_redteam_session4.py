"""Red-team findings, session 4: pages whose markup moves our own insertion elsewhere.

Our insertion's URLs are relative ("/_consent/..."): the middleware pins them to the
page's host when a <base href> names another origin. It read only the first HTML <base>
it reported as a tag, so a <base> that a browser reads where the scanner does not moved
our stylesheet, script and forms to the base's host: inside <noscript> (markup to a
browser without JavaScript), in SVG (Chromium's preload scanner takes any <base>), after
an end tag whose effect the tree model guessed wrong for a granted visitor (the browser
left the SVG, the scanner stayed in it), and a <base> tag too long to hold (streamed).
Chromium 156 loaded consent.css from the other host and posted our forms there, for a
visitor who accepted everything and, for the SVG and guessed ones, before any choice
and after reject too. The unit tests read the middleware's output with html5lib and a
WHATWG URL parser, as a browser does (scripting on and off); the Chromium test loads
each page with the middleware.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

import ada_url
import html5lib  # type: ignore[import-untyped]
import pytest

from adversarial import css as css_reader
from adversarial import oracle, visitors
from adversarial.visitors import Visitor
from helpers import require_chromium

HTML = "{http://www.w3.org/1999/xhtml}"
ELSEWHERE = "https://elsewhere.example/"
_BASE = f'<base href="{ELSEWHERE}">'
_HEAD = "<!doctype html><html><head><title>t</title>"
_LONG_BASE = (
    _HEAD + '<base data-pad="' + "x" * (1100 * 1024) + f'" href="{ELSEWHERE}">'
    "</head><body><p>x</p></body></html>"
).encode()

# name -> the page's chunks (as the app streams them)
PAGES: dict[str, list[bytes]] = {
    "base-in-noscript-in-head": [
        (_HEAD + f"<noscript>{_BASE}</noscript></head><body><p>x</p></body></html>").encode()
    ],
    "base-in-noscript-in-body": [
        (_HEAD + f"</head><body><p>x</p><noscript>{_BASE}</noscript></body></html>").encode()
    ],
    # The scanner stays in SVG at </tbody> (no <tbody> counted open); the browser closes
    # the cell, the row and the implied <tbody>, and the <base> is HTML.
    "base-after-a-guessed-svg-stay": [
        (
            _HEAD + f"</head><body><table><tr><td><svg></tbody>{_BASE}</table><p>x</p>"
            "</body></html>"
        ).encode()
    ],
    "base-in-svg": [(_HEAD + f"</head><body><svg>{_BASE}</svg><p>x</p></body></html>").encode()],
    "long-base-streamed": [_LONG_BASE[at : at + 65536] for at in range(0, len(_LONG_BASE), 65536)],
}
ALL_VISITORS: tuple[Visitor, ...] = ("accept", "none", "reject")


def _walk(element: Any, in_template: bool = False) -> Iterator[tuple[Any, bool]]:
    yield element, in_template
    for child in element:
        yield from _walk(child, in_template or element.tag == HTML + "template")


def moved_urls(out: bytes, document: str = visitors.DOCUMENT_URL) -> list[str]:
    """Our own URLs (src, href, action, formaction under /_consent/) that a browser
    resolves to another host than the page's, with the document's base URL (its first
    HTML <base href>; a script or stylesheet before it is fetched before it applies)."""
    moved = []
    for scripting in (True, False):
        parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"))
        elements = list(_walk(parser.parse(oracle.browser_text(out), scripting=scripting)))
        base, base_at = document, len(elements)
        for at, (element, in_template) in enumerate(elements):
            if element.tag == HTML + "base" and not in_template and element.get("href"):
                base, base_at = ada_url.URL(element.get("href"), base=document).href, at
                break
        for at, (element, in_template) in enumerate(elements):
            fetched_first = element.tag in (HTML + "script", HTML + "link") and at < base_at
            if in_template or fetched_first:
                continue
            for name in ("src", "href", "action", "formaction"):
                value = element.get(name) or ""
                if "/_consent/" in value:
                    url = ada_url.URL(value, base=base)
                    if url.host != urlsplit(document).netloc:
                        moved.append(f"{element.tag} {name} -> {url.href} (scripting={scripting})")
    return moved


@pytest.mark.parametrize("visitor", ALL_VISITORS)
@pytest.mark.parametrize("name", list(PAGES))
def test_a_base_the_scanner_does_not_read_as_the_documents_does_not_move_our_urls(
    name: str, visitor: Visitor
) -> None:
    out = visitors.serve(PAGES[name], visitor)
    assert moved_urls(out) == []


@pytest.mark.parametrize("cut", [1, 2, 3, 4, 5, 6])
def test_a_base_tag_cut_between_two_chunks_is_counted(cut: int) -> None:
    page = PAGES["base-in-noscript-in-body"][0]
    at = page.index(b"<base") + cut
    assert moved_urls(visitors.serve([page[:at], page[at:]], "accept")) == []


def test_a_same_origin_base_leaves_our_urls_unpinned() -> None:
    page = (_HEAD + '<base href="/static/"></head><body><p>x</p></body></html>').encode()
    out = visitors.serve([page], "accept")
    assert b'="/_consent/' in out and b'="//testserver/_consent/' not in out


# -- finding 2: raw text read as markup elsewhere, reported unread ----------------------

# A <noscript> (markup to a browser without JavaScript) or an SVG <style>, <textarea>,
# <title>, <xmp> (markup in SVG, raw text had the tree model been wrong) is read twice:
# as raw text and, its content held back whole, as markup. Past the hold limit (a
# streamed start tag or content over 1 MB) its content streamed through unread: the
# <img> or <image> in it was live in the markup reading. Chromium 156 requested the pixel
# through the middleware for each page (the <noscript> ones with JavaScript off).
_PIXEL = b"https://www.facebook.com/tr?id=1"
_PAD = b"x" * (1100 * 1024)
_BODY = b"<!doctype html><html><head><title>t</title></head><body><p>x</p>"


def _streamed(page: bytes) -> list[bytes]:
    return [page[at : at + 65536] for at in range(0, len(page), 65536)]


UNREAD: dict[str, list[bytes]] = {
    name: _streamed(_BODY + page + b"</body></html>")
    for name, page in {
        "noscript-long-start-tag-nojs": b'<noscript data-pad="' + _PAD + b'"><img src="'
        + _PIXEL + b'"></noscript>',
        "noscript-content-over-the-hold-limit-nojs": b"<noscript><p>" + _PAD + b'</p><img src="'
        + _PIXEL + b'"></noscript>',
        "svg-style-long-start-tag": b'<svg><style data-pad="' + _PAD + b'"><img src="' + _PIXEL
        + b'"></style></svg>',
        "svg-style-content-over-the-hold-limit": b"<svg><style>/*" + _PAD + b'*/<img src="'
        + _PIXEL + b'"></style></svg>',
        "svg-textarea-long-start-tag": b'<svg width=9 height=9><textarea data-pad="' + _PAD
        + b'"><image width=9 height=9 href="' + _PIXEL + b'"/></textarea></svg>',
        "svg-title-long-start-tag": b'<svg><title data-pad="' + _PAD + b'"><img src="' + _PIXEL
        + b'"></title></svg>',
        "svg-xmp-long-start-tag": b'<svg><xmp data-pad="' + _PAD + b'"><img src="' + _PIXEL
        + b'"></xmp></svg>',
        "svg-script-content-over-the-hold-limit": b"<svg><script>" + _PAD + b'<img src="'
        + _PIXEL + b'"></script></svg>',
        "math-style-content-over-the-hold-limit": b"<math><style>" + _PAD + b'<img src="'
        + _PIXEL + b'"></style></math>',
    }.items()
}  # fmt: skip
REFUSING: tuple[Visitor, ...] = ("none", "reject")


@pytest.mark.parametrize("visitor", REFUSING)
@pytest.mark.parametrize("name", list(UNREAD))
def test_raw_text_too_long_to_read_as_markup_holds_no_live_markup(
    name: str, visitor: Visitor
) -> None:
    out = visitors.serve(UNREAD[name], visitor)
    assert [str(leak) for leak in oracle.find_leaks(out, visitors.CATEGORIES)] == []


def test_the_unread_content_streams_as_text_and_ends_where_it_ended() -> None:
    out = visitors.serve(UNREAD["svg-style-long-start-tag"], "none")
    assert b'&lt;img src="' + _PIXEL + b'"></style></svg>' in out
    assert _PAD in out  # the rest of the page streams through as it was
    assert visitors.serve(UNREAD["svg-style-long-start-tag"], "accept").count(b"&lt;img") == 0


# -- finding 3: an XHTML page's xml-stylesheet processing instruction -----------------------

# The XML parser fetches the stylesheet an <?xml-stylesheet href="..."?> before the root
# names (CSS or XSLT); the scanner read every processing instruction as text. Chromium
# 156 requested both through the middleware.
_XHTML = [(b"content-type", b"application/xhtml+xml; charset=utf-8")]
_STYLESHEET = "https://connect.facebook.net/en_US/x.css"


def _xhtml(instruction: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{instruction}<!DOCTYPE html>'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>'
        "<body><p>hello</p></body></html>"
    ).encode()


STYLESHEETS: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]] = {
    "xhtml-stylesheet-css": (
        _xhtml(f'<?xml-stylesheet href="{_STYLESHEET}" type="text/css"?>'),
        _XHTML,
    ),
    "xhtml-stylesheet-xslt": (
        _xhtml('<?xml-stylesheet type="text/xsl" href="https://connect.facebook.net/x.xsl"?>'),
        _XHTML,
    ),
}


def _serve_xhtml(chunks: list[bytes], visitor: Visitor) -> bytes:
    """The body the middleware sends `visitor` for an XHTML page streamed in `chunks`."""
    return visitors.serve(chunks, visitor, content_type=_XHTML[0][1])


def _live_stylesheets(out: bytes) -> list[str]:
    """The href of every xml-stylesheet instruction an XML parser finds in `out`."""
    from xml.dom import minidom

    document = minidom.parseString(out)
    return [
        node.data
        for node in document.childNodes
        if node.nodeType == node.PROCESSING_INSTRUCTION_NODE and node.target == "xml-stylesheet"
    ]


@pytest.mark.parametrize("cut", [None, 40, 44, 50, 60, 70])
@pytest.mark.parametrize("visitor", REFUSING)
@pytest.mark.parametrize("name", list(STYLESHEETS))
def test_an_xml_stylesheet_instruction_naming_a_tracker_is_held_back(
    name: str, visitor: Visitor, cut: int | None
) -> None:
    page, _ = STYLESHEETS[name]
    out = _serve_xhtml([page] if cut is None else [page[:cut], page[cut:]], visitor)
    assert [data for data in _live_stylesheets(out) if "facebook" in data] == []
    assert b"/_consent/static/consent." in out  # still a document, with our insertion


def test_an_xml_stylesheet_instruction_too_long_to_hold_is_held_back() -> None:
    page = _xhtml(f'<?xml-stylesheet title="{"x" * (1100 * 1024)}" href="{_STYLESHEET}"?>')
    out = _serve_xhtml(_streamed(page), "none")
    assert [data for data in _live_stylesheets(out) if "facebook" in data] == []


def test_a_granted_visitor_keeps_the_xml_stylesheet_instruction() -> None:
    out = _serve_xhtml([STYLESHEETS["xhtml-stylesheet-css"][0]], "accept")
    assert any("facebook" in data for data in _live_stylesheets(out))


# -- finding 4: a stylesheet in a data: URL, read as CSS reads it -------------------------

# The server read a data: URL's body with the catalogue's markers, as bytes: a stylesheet
# there (a <link rel=stylesheet> or an @import of a data: URL; in a quirks-mode page of
# any MIME type) spells its tracker's URL with CSS escapes ("connect\\2e facebook"), a
# percent-encoded dot or a fullwidth letter, which CSS and the URL parser read as the
# tracker's host. Chromium 156 fetched each stylesheet through the middleware.
_IMPORT = r"@import 'https://connect.faceb\6f ok.net/en_US/x.css';"


def _head_page(head: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>t</title>{head}</head>"
        "<body><p>hello</p></body></html>"
    )


DATA_STYLESHEETS: dict[str, str] = {
    "link-escaped-host": _head_page(
        '<link rel=stylesheet href="data:text/css,'
        + quote(r"@import url(https://connect\2e facebook\2e net/en_US/x.css);") + '">'
    ),
    "link-escaped-letter-base64": _head_page(
        '<link rel=stylesheet href="data:text/css;base64,'
        + base64.b64encode(_IMPORT.encode()).decode() + '">'
    ),
    "style-import-of-a-data-url": _head_page(
        f'<style>@import url("data:text/css,{quote(_IMPORT)}");</style>'
    ),
    "link-escaped-background": _head_page(
        '<link rel=stylesheet href="data:text/css,'
        + quote(r"body{background:url(https://www.faceb\6f ok.com/tr?id=1)}") + '">'
    ),
    "link-fullwidth-letter": _head_page(
        '<link rel=stylesheet href="data:text/css,'
        + quote("@import url(https://connect.\uff46acebook.net/en_US/x.css);") + '">'
    ),
    "link-percent-encoded-dot": _head_page(
        '<link rel=stylesheet href="data:text/css,'
        + quote("@import url(https://connect%2efacebook.net/en_US/x.css);") + '">'
    ),
    "quirks-link-image-type": "<html><head><title>t</title><link rel=stylesheet "
    f'href="data:image/png,{quote(_IMPORT)}"></head><body><p>x</p></body></html>',
}  # fmt: skip


def _data_body_text(url: str) -> str:
    header, _, data = url.partition(",")
    raw = base64.b64decode(data) if header.lower().endswith(";base64") else unquote_to_bytes(data)
    return raw.decode("utf-8", "replace")


def _stylesheet_hosts(css: str, depth: int = 0) -> set[str]:
    """Every host a stylesheet fetches from, data: stylesheets in it included, read with
    the oracle's CSS tokenizer and a WHATWG URL parser."""
    hosts: set[str] = set()
    for value in css_reader.urls(css):
        url = oracle.resolve(value, visitors.DOCUMENT_URL)
        if url is None:
            continue
        if url.protocol == "data:" and depth < 3:
            hosts |= _stylesheet_hosts(_data_body_text(url.href), depth + 1)
        elif url.protocol in ("http:", "https:"):
            hosts.add(url.hostname)
    return hosts


def _live_stylesheet_trackers(out: bytes) -> set[str]:
    tree = html5lib.parse(out.decode(), treebuilder="etree", namespaceHTMLElements=False)
    sheets = [
        _data_body_text(link.get("href"))
        for link in tree.iter("link")
        if "stylesheet" in (link.get("rel") or "") and (link.get("href") or "").startswith("data:")
    ]
    sheets += [style.text or "" for style in tree.iter("style") if style.get("type") is None]
    return {
        host
        for sheet in sheets
        for host in _stylesheet_hosts(sheet)
        if oracle.tracker_categories(host) & visitors.CATEGORIES
    }


@pytest.mark.parametrize("visitor", REFUSING)
@pytest.mark.parametrize("name", list(DATA_STYLESHEETS))
def test_a_data_stylesheet_is_read_as_css_reads_it(name: str, visitor: Visitor) -> None:
    out = visitors.serve([DATA_STYLESHEETS[name].encode()], visitor)
    assert _live_stylesheet_trackers(out) == set()


def test_a_data_stylesheet_with_an_embedded_font_is_left_alone() -> None:
    font = "data:font/woff2;base64," + base64.b64encode(b"wOF2 not really").decode()
    css = "@font-face{font-family:x;src:url(" + font + ")}body{color:red}"
    page = _head_page(f'<link rel=stylesheet href="data:text/css,{quote(css)}">').encode()
    head = visitors.serve([page], "none").split(b"<title>")[1].split(b"</head>")[0]
    assert b"data-consent" not in head


# -- in Chromium --------------------------------------------------------------------------


def _app(pages: dict[str, list[bytes]]) -> Any:
    from asgi_consent import ConsentMiddleware
    from redteam.harness import SECRET

    async def raw(scope: Any, receive: Any, send: Any) -> None:
        chunks = pages[scope["path"].rpartition("/")[2]]
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    return ConsentMiddleware(raw, secret_key=SECRET)


Load = Callable[[str, Visitor, bool], list[str]]


@pytest.fixture(scope="class")
def chromium() -> Iterator[Load]:
    """`load(name, visitor, javascript)`: the requests for our own files that went to
    another host, and the other hosts our forms post to."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    from redteam.harness import ARGS, LOOPBACK, Server, fake

    def elsewhere(url: str) -> bool:
        return (urlsplit(url).hostname or "") not in LOOPBACK

    with Server(_app(PAGES)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        contexts = {}
        for visitor in ALL_VISITORS:
            for javascript in (True, False):
                context = browser.new_context(java_script_enabled=javascript)
                context.set_default_timeout(10_000)
                context.route("**/*", fake)
                if visitor != "none":
                    context.request.post(
                        base + "/_consent/choice",
                        form={"choice": visitor},
                        headers={"Origin": base},
                        max_redirects=0,
                    )
                contexts[visitor, javascript] = context

        def load(name: str, visitor: Visitor, javascript: bool) -> list[str]:
            page = contexts[visitor, javascript].new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            try:
                page.goto(base + "/page/" + name)
                page.wait_for_timeout(400)
                targets = page.evaluate(
                    "() => [...document.querySelectorAll('form, [formaction]')]"
                    ".map(f => f.formAction || f.action)"
                )
            finally:
                page.close()
            ours = [url for url in requests if "/_consent/" in url and elsewhere(url)]
            return ours + [url for url in targets if elsewhere(url)]

        try:
            yield load
        finally:
            browser.close()


# One browser at a time: the Playwright sync API runs its own event loop (no asyncio.run
# beside it), so every Chromium test comes last, and each fixture ends with its class.


@pytest.mark.browser
@pytest.mark.server
class TestOurUrlsInChromium:
    @pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
    @pytest.mark.parametrize("visitor", ALL_VISITORS)
    @pytest.mark.parametrize("name", list(PAGES))
    def test_chromium_loads_and_posts_ours_on_the_pages_host_only(
        self, chromium: Load, name: str, visitor: Visitor, javascript: bool
    ) -> None:
        assert chromium(name, visitor, javascript) == []


@pytest.fixture(scope="class")
def tracker_chromium() -> Iterator[Callable[[str], dict[str, list[str]]]]:
    """`load(name)`: an UNREAD, STYLESHEETS or DATA_STYLESHEETS page's tracker
    requests, by visitor."""
    require_chromium()
    from redteam.harness import chromium as open_chromium

    with open_chromium({**UNREAD, **STYLESHEETS, **DATA_STYLESHEETS}) as load:
        yield load


@pytest.mark.browser
@pytest.mark.server
class TestTrackersInChromium:
    @pytest.mark.parametrize("name", [*UNREAD, *STYLESHEETS, *DATA_STYLESHEETS])
    def test_chromium_requests_no_tracker_through_the_middleware(
        self, tracker_chromium: Callable[[str], dict[str, list[str]]], name: str
    ) -> None:
        seen = tracker_chromium(name)
        raw = [url for url in seen["raw"] if not url.startswith("ERROR")]
        assert raw, f"{name}: the raw page requests no tracker, so it proves nothing: {seen['raw']}"
        assert seen["none"] == [] and seen["reject"] == []


# -- not fixed: code the server cannot read, in a realm the run-time guard does not reach --

# An obfuscated loader (the URL built at run time) is the run-time guard's to stop: the
# server cannot see it, and guard.js holds it back in the page itself ("in-page", the
# control). It is not there to hold it back in a new realm: a srcdoc, data: or
# javascript: frame, an about:blank frame the page writes into, a worker; nor on a
# page without a DOCTYPE whose first tag is not <html>, <head> or <body> (read as a
# fragment: no insertion at all). In the page, it does not wrap import(), worklets,
# EventSource, new Audio(), new FontFace(), CSSOM style properties, insertRule or
# constructed style sheets. Chromium 156 requests the tracker through the middleware
# in each, before a choice and after reject.
_LOADER = (
    "var s=document.createElement('script');"
    "s.src='https://www.google'+'tagmanager.com/gtag/js?id=G-ABC123';document.head.appendChild(s);"
)


def _page(body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>t</title></head>"
        f"<body><p>hello</p>{body}</body></html>"
    )


GUARD_GAPS: dict[str, str] = {
    "about-blank-frame-written": _page(
        "<iframe id=f></iframe><script>var d=document.getElementById('f').contentDocument;"
        "d.open();d.write('<scr'+'ipt>" + _LOADER.replace("'", "\\'") + "</scr'+'ipt>');"
        "d.close();</script>"
    ),
    "worker": _page(
        "<script>new Worker(URL.createObjectURL(new Blob([\"importScripts('https://www.goo'+"
        "'gletagmanager.com/gtag/js?id=G-ABC123')\"])));</script>"
    ),
    # ... and in the page, ways to fetch that no wrapper reaches: import() is syntax, and
    # Chromium sets a style's named properties through an interceptor, not an accessor:
    "style-property": _page("<script>document.body.style.backgroundImage='image-set(\"https://"
                            "www.face'+'book.com/tr?id=1\" 1x)';</script>"),
    "dynamic-import": _page("<script>import('https://www.google'+'tagmanager.com/gtag/js?id=G-1')"
                            ".catch(()=>0);</script>"),
}  # fmt: skip
GUARDED_IN_PAGE = {
    "in-page": _page(f"<script>{_LOADER}</script>"),
    # data: and javascript: frames run code in a realm the guard cannot enter: held.
    "data-frame": _page(f'<iframe src="data:text/html,{quote("<script>" + _LOADER + "</script>")}">'
                        "</iframe>"),
    "javascript-frame": _page(
        '<iframe src="javascript:'
        + html.escape(quote("'<script>" + _LOADER.replace("'", '"') + "</scr' + 'ipt>'"))
        + '"></iframe>'
    ),
    # A srcdoc document is a realm of its own: the server gives it the guard first.
    "srcdoc-frame": _page(f'<iframe srcdoc="{html.escape("<script>" + _LOADER + "</script>")}">'
                          "</iframe>"),
    # A page without DOCTYPE, <html> or <head> that starts with its <meta> was read as a
    # fragment (no guard, no banner); it is a page now.
    "no-doctype-first-tag-meta": f"<meta charset=utf-8><title>t</title><script>{_LOADER}</script>",
    # APIs the guard did not wrap (red-team session 4); it does now:
    "paint-worklet": _page("<script>CSS.paintWorklet.addModule('https://www.google'+"
                           "'tagmanager.com/gtag/js?id=G-1').catch(()=>0);</script>"),
    "event-source": _page("<script>new EventSource('https://www.google'+"
                          "'-analytics.com/g/collect?v=2');</script>"),
    "audio-constructor": _page("<script>new Audio('https://www.face'+'book.com/tr?id=1');</script>"),
    "font-face-constructor": _page("<script>new FontFace('x','url(https://www.face'+"
                                   "'book.com/tr?id=1)').load().catch(()=>0);</script>"),
    "sheet-insert-rule": _page("<style id=st></style><script>document.getElementById('st').sheet"
                               ".insertRule('body{background:url(https://www.face'+"
                               "'book.com/tr?id=1)}');</script>"),
    "constructed-sheet": _page("<script>var s=new CSSStyleSheet();s.replaceSync('body{background:"
                               "url(https://www.face'+'book.com/tr?id=1)}');"
                               "document.adoptedStyleSheets=[s];</script>"),
}  # fmt: skip


@pytest.fixture(scope="class")
def guard_chromium() -> Iterator[Callable[[str], dict[str, list[str]]]]:
    require_chromium()
    from redteam.harness import chromium as open_chromium

    with open_chromium({**GUARD_GAPS, **GUARDED_IN_PAGE}) as load:
        yield load


@pytest.mark.browser
@pytest.mark.server
class TestGuardGapsInChromium:
    @pytest.mark.parametrize("name", list(GUARDED_IN_PAGE))
    def test_the_guard_holds_back_an_obfuscated_loader_in_the_page(
        self, guard_chromium: Callable[[str], dict[str, list[str]]], name: str
    ) -> None:
        seen = guard_chromium(name)
        assert seen["raw"] and seen["none"] == [] and seen["reject"] == []

    @pytest.mark.xfail(
        strict=True,
        reason="run-time guard gap (red-team session 4): an obfuscated loader in a realm "
        "guard.js does not reach, on a page read as a fragment, or an API it does not wrap",
    )
    @pytest.mark.parametrize("name", list(GUARD_GAPS))
    def test_an_obfuscated_loader_the_guard_misses_is_held_back(
        self, guard_chromium: Callable[[str], dict[str, list[str]]], name: str
    ) -> None:
        seen = guard_chromium(name)
        raw = [url for url in seen["raw"] if not url.startswith("ERROR")]
        assert raw, f"{name}: the raw page requests no tracker, so it proves nothing"
        assert seen["none"] == [] and seen["reject"] == []
