"""Red-team findings, session 5: what a browser fetches that the rewriter did not read.

1. A `<style>` of another type (`text/plain`, `text/foo`, or one marked for consent.js):
   the rewriter left it alone, but Chromium's preload scanner fetches its `@import`
   whatever the type says, so before any choice and after reject Chromium 156 loaded
   the tracker's stylesheet. A marked one (`data-consent="analytics"`) was woken, by
   the server or consent.js, for a visitor who granted only that category, with the
   CSS unread (a `url()` to a marketing tracker). Streamed, a style too long to hold
   (its CSS, or its start tag, over 1 MB) was typed text/plain with its @import in place.
2. A `<meta>` whose `http-equiv` is written `data-consent-http-equiv`, with a mark of a
   granted category: the server read its `content` only with a live `http-equiv`, and
   consent.js gives both back, so a visitor who granted analytics only was sent to
   the Meta pixel by the refresh.
3. `Link` and `Refresh` headers (and 103 Early Hints) were judged by path patterns only:
   a URL on a tracker's host that no pattern names (which the page's markup holds
   back) was preloaded, or navigated to, before any choice; and a Link header's
   `imagesrcset` parameter was not read at all (Chromium preloads one of its images).
4. A page with a Content-Encoding Chromium does not decode (`UTF-8`, `none`, `identity,
   identity`, `gzip, foo`) passed untouched as "compressed"; Chromium renders such a
   body as it is, and ran the page's Google tag before any choice.
5. A Content-Type Chromium reads as HTML where the Fetch standard's parsing finds no
   valid type ("text/html x", "text/html(x)": Chromium reads up to the first white
   space, ";" or "("), and a body with no type that starts with a vertical tab before
   "<script" (Chromium skips it as white space): both passed untouched, as a body that
   does not sniff as HTML, and Chromium ran the Google tag in them.
6. A 206 answer to a request that asked for no range: it passed untouched, and Chromium
   renders it as the page (the Google tag ran).

The unit tests read the middleware's output with the html5lib oracle (and, for a
partly granted visitor, after waking it as consent.js does); the Chromium test loads
each page with and without the middleware.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from typing import Any

import ada_url
import html5lib  # type: ignore[import-untyped]
import pytest

from adversarial import oracle, visitors
from adversarial.visitors import Visitor
from asgi_consent import ConsentMiddleware
from helpers import require_chromium

FB_CSS = "https://connect.facebook.net/en_US/x.css"
PIXEL = "https://www.facebook.com/tr?id=1"
_HEAD = "<!doctype html><html><head><title>t</title>"
_END = "</head><body><p>x</p></body></html>"
REFUSING: tuple[Visitor, ...] = ("none", "reject")

# -- 1. a style of another type: its @import fetched by the preload scanner ---------------

STYLES = {
    "style-typed-plain": _HEAD + f'<style type="text/plain">@import url({FB_CSS});</style>' + _END,
    "style-typed-other": _HEAD + f'<style type="text/foo">@import "{FB_CSS}";</style>' + _END,
    "style-marked": _HEAD
    + f'<style type="text/plain" data-consent="analytics">@import url({FB_CSS});</style>'
    + _END,
    "style-marked-vanilla": _HEAD
    + f'<style type="text/plain" data-category="analytics">@import url({FB_CSS});</style>'
    + _END,
    "style-typed-in-body": _HEAD
    + f'</head><body><style type="text/plain" media="print">@import url({FB_CSS});</style>'
    "<p>x</p></body></html>",
}



def _in_64k_chunks(page: str) -> list[bytes]:
    data = page.encode()
    return [data[at : at + 65536] for at in range(0, len(data), 65536)]


# Streamed, a style too long to hold (its content, or its start tag) is held unread: its
# type was made text/plain, its @import left in place for the preload scanner.
_PAD = "p{color:red}\n" * 90_000  # 1.2 MB of CSS
LONG_STYLES = {
    "long-style-content": _in_64k_chunks(
        _HEAD + f"<style>@import url({FB_CSS});\n{_PAD}</style>" + _END
    ),
    "long-style-tag": _in_64k_chunks(
        _HEAD + '<style data-pad="' + "x" * (1100 * 1024) + f'">@import url({FB_CSS});</style>'
        + _END
    ),
}


@pytest.mark.parametrize("visitor", REFUSING)
@pytest.mark.parametrize("name", [*STYLES, *LONG_STYLES])
def test_a_style_of_any_type_imports_no_tracker(name: str, visitor: Visitor) -> None:
    chunks = LONG_STYLES.get(name) or [STYLES[name].encode()]
    refused = frozenset(visitors.CATEGORIES)
    assert oracle.find_leaks(b"".join(chunks), refused), "the page fetches no tracker: no proof"
    assert oracle.find_leaks(visitors.serve(chunks, visitor), refused) == []


def test_a_held_style_of_another_type_is_never_woken() -> None:
    # A style no browser applies stays one: its CSS is put aside, with no mark to wake.
    out = visitors.serve([STYLES["style-typed-other"].encode()], "none")
    style = out.split(b"<style", 1)[1].split(b"</style>", 1)[0]
    assert b"data-consent=" not in style and b'type="text/foo"' in style


def test_a_style_without_a_tracker_keeps_its_css() -> None:
    page = (_HEAD + '<style type="text/plain">@import url(/own.css);</style>' + _END).encode()
    assert b"@import url(/own.css);</style>" in visitors.serve([page], "none")


# -- 2. a visitor who granted analytics only: what consent.js wakes ----------------------

ANALYTICS: dict[str, bytes] = {}  # the cookie of a visitor who saved analytics alone


def _analytics_cookie() -> bytes:
    if not ANALYTICS:
        ANALYTICS["cookie"] = visitors._choice_cookie("save&category=analytics")
    return ANALYTICS["cookie"]


PARTIAL = {
    "meta-refresh-renamed": _HEAD
    + '<meta data-consent="analytics" data-consent-http-equiv="refresh"'
    f' data-consent-content="0;url={PIXEL}">' + _END,
    "meta-refresh-renamed-live-content": _HEAD
    + f'<meta data-consent="analytics" data-consent-http-equiv="refresh" content="0;url={PIXEL}">'
    + _END,
    "style-marked-background": _HEAD
    + '</head><body><style type="text/plain" data-consent="analytics">'
    f"body{{background:url({PIXEL})}}</style><p>x</p></body></html>",
    "style-vanilla-background": _HEAD
    + '</head><body><style type="text/plain" data-category="analytics">'
    f"body{{background:url({PIXEL})}}</style><p>x</p></body></html>",
}

# consent.js: the names it gives back (RESTORABLE), and how it wakes an element.
_RESTORABLE = frozenset(
    "src srcset href xlink:href poster data background style srcdoc ping imagesrcset "
    "imagesizes attributionsrc http-equiv content action formaction manifest lowsrc "
    "longdesc codebase archive classid cite data-src".split()
)
_HTML = "{http://www.w3.org/1999/xhtml}"


def woken(page: bytes, granted: frozenset[str]) -> str:
    """`page` after consent.js woke what `granted` allows (its `wake`, `restore` and
    `recreate`), serialized: markup marked with categories all granted, inert."""
    tree = html5lib.parse(oracle.browser_text(page), treebuilder="etree")
    for element in tree.iter():
        attrs = element.attrib
        marked = attrs.get("data-consent", attrs.get("data-category"))
        needed = (marked or "").split()
        if not needed or not set(needed) <= granted:
            continue
        name = str(element.tag).removeprefix(_HTML)
        typed = name in ("script", "style")
        if typed and (attrs.get("type") or "").strip().lower() != "text/plain":
            continue
        for key in [key for key in attrs if key.startswith("data-consent-")]:
            original = key.removeprefix("data-consent-")
            if original in _RESTORABLE or (original.startswith("on") and original[2:].isalpha()):
                attrs[original] = attrs.pop(key)
        if typed:
            own = attrs.get("data-consent-type")
            vanilla = attrs.get("data-type") if "data-category" in attrs else None
            kind = own if own and own.strip().lower() != "text/plain" else vanilla
            attrs.pop("type")
            if kind:
                attrs["type"] = kind
            if name == "style" and not element.text and "data-consent-css" in attrs:
                element.text = attrs["data-consent-css"]
    return str(html5lib.serialize(tree, tree="etree", omit_optional_tags=False))


GRANTED = frozenset({"necessary", "analytics"})
REFUSED = frozenset(visitors.CATEGORIES) - GRANTED


def _serve_to_analytics(page: bytes) -> bytes:
    return visitors.serve([page], "none", headers=[(b"cookie", _analytics_cookie())])


@pytest.mark.parametrize("name", list(PARTIAL))
def test_what_consent_js_wakes_for_a_partial_grant_fetches_no_refused_tracker(name: str) -> None:
    page = PARTIAL[name].encode()
    assert oracle.find_leaks(woken(page, GRANTED), REFUSED), "nothing to wake: no proof"
    out = _serve_to_analytics(page)
    assert oracle.find_leaks(out, REFUSED) == []
    assert oracle.find_leaks(woken(out, GRANTED), REFUSED) == []


@pytest.mark.parametrize("name", list(PARTIAL))
def test_a_visitor_who_granted_everything_still_gets_it_woken(name: str) -> None:
    out = visitors.serve([PARTIAL[name].encode()], "accept")
    assert oracle.find_leaks(woken(out, frozenset(visitors.CATEGORIES)), REFUSED)


# -- 3. Link and Refresh headers, 103 Early Hints: a tracker's host, any path -------------

_ON_THE_HOST = {
    "link-preload-image": (b"link", b"<https://www.facebook.com/x.png>; rel=preload; as=image"),
    "link-preload-script": (
        b"link",
        b"<https://www.youtube.com/s/player/base.js>; rel=preload; as=script",
    ),
    "link-prefetch-relative-host": (b"link", b"<//www.facebook.com/y.js>; rel=prefetch"),
    "refresh": (b"refresh", b"0;url=https://www.facebook.com/x.html"),
    # Chromium preloads a candidate of a Link header's imagesrcset, as of <link imagesrcset>
    "link-imagesrcset": (
        b"link",
        b'</x.png>; rel=preload; as=image; imagesrcset="https://www.facebook.com/tr?id=1 1x,'
        b' https://www.facebook.com/tr?id=2 2x"; imagesizes="100px"',
    ),
    "link-imagesrcset-unquoted": (
        b"link",
        b"</y.png>; rel=preload; as=image; imagesrcset=https://www.facebook.com/tr?id=4",
    ),
}
HTML_TYPE = (b"content-type", b"text/html; charset=utf-8")


def _refused_targets(values: list[bytes], refused: frozenset[str]) -> list[str]:
    """The URLs in Link or Refresh values whose host a refused tracker is catalogued on."""
    found = []
    for value in values:
        text = value.decode("latin-1")
        urls = [part.partition(">")[0] for part in text.split("<")[1:]]
        for quoted, bare in re.findall(r'imagesrcset="([^"]*)"|imagesrcset=([^;,]*)', text):
            urls += [candidate.split()[0] for candidate in (quoted or bare).split(", ")]
        if not urls and "url=" in text.lower():
            urls = [oracle.refresh_url(text) or ""]
        for url in urls:
            parsed = oracle.resolve(url, visitors.DOCUMENT_URL)
            if parsed and oracle.tracker_categories(parsed.hostname) & refused:
                found.append(parsed.href)
    return found


def _sent(
    header: tuple[bytes, bytes],
    cookie: bytes | None,
    hint: bool = False,
    body: bytes = b"<!doctype html><p>x",
) -> list[dict[str, Any]]:
    """What the middleware sends for a page with `header` (after a 103 with it as a
    link, if `hint`), to a visitor with `cookie`."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if hint:
            await send({"type": "http.response.early_hint", "links": [header[1]]})
        await send({"type": "http.response.start", "status": 200, "headers": [HTML_TYPE, header]})
        await send({"type": "http.response.body", "body": body})

    middleware = ConsentMiddleware(app, secret_key=visitors.SECRET)
    scope = visitors._scope("/", "GET", [(b"cookie", cookie)] if cookie else [])
    return asyncio.run(visitors._run(scope, middleware=middleware))


@pytest.mark.parametrize("visitor", REFUSING)
@pytest.mark.parametrize("name", list(_ON_THE_HOST))
def test_a_header_to_a_trackers_host_is_dropped(name: str, visitor: Visitor) -> None:
    refused = frozenset(visitors.CATEGORIES)
    header = _ON_THE_HOST[name]
    assert _refused_targets([header[1]], refused), "no tracker's host in the header: no proof"
    sent = _sent(header, visitors.COOKIES[visitor], hint=header[0] == b"link")
    values = [v for m in sent if m["type"] == "http.response.start" for k, v in m["headers"]]
    values += [v for m in sent if m["type"] == "http.response.early_hint" for v in m["links"]]
    assert _refused_targets(values, refused) == []


@pytest.mark.parametrize("name", list(_ON_THE_HOST))
def test_a_granted_visitor_keeps_the_header(name: str) -> None:
    header = _ON_THE_HOST[name]
    sent = _sent(header, visitors.COOKIES["accept"], hint=False)
    assert header in sent[0]["headers"]


# -- 4. a Content-Encoding the browser does not decode: it renders the bytes as they are --

GTAG_PAGE = (
    _HEAD + '<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>' + _END
)
CODINGS = {
    "coding-charset": b"UTF-8",  # a common mistake: a charset given as a coding
    "coding-none": b"none",
    "coding-identity-twice": b"identity, identity",
    "coding-gzip-and-unknown": b"gzip, foo",  # Chromium decodes nothing then
}


@pytest.mark.parametrize("visitor", REFUSING)
@pytest.mark.parametrize("name", list(CODINGS))
def test_a_page_whose_coding_the_browser_ignores_is_rewritten(name: str, visitor: Visitor) -> None:
    page = GTAG_PAGE.encode()
    refused = frozenset(visitors.CATEGORIES)
    assert oracle.find_leaks(page, refused), "the page fetches no tracker: no proof"
    sent = _sent((b"content-encoding", CODINGS[name]), visitors.COOKIES[visitor], body=page)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert oracle.find_leaks(body, refused) == []


# (gzip, deflate or br alone are decoded and rewritten: tests/test_compressed_pages.py)
@pytest.mark.parametrize("codings", [b"zstd", b"br, gzip", b"GZIP ,zstd", b"zstd,"])
def test_a_body_the_browser_decodes_passes_untouched(codings: bytes) -> None:
    sent = _sent((b"content-encoding", codings), None, body=b"\x1f\x8b<script src=x>")
    assert sent[1]["body"] == b"\x1f\x8b<script src=x>"


# -- 5. a Content-Type as Chromium reads it, and sniffing past a vertical tab -------------

_TEXT_FIRST = (
    'hello<script async src="https://www.googletagmanager.com/gtag/js?id=G-9"></script><p>x'
)
TYPES = {
    # Chromium reads the type up to the first white space, ";" or "(" (the last value
    # with a "/" wins); the Fetch standard finds no valid type there, and the body, whose
    # first bytes are no HTML signature, was not sniffed as HTML.
    "type-junk-after-space": ([(b"content-type", b"text/html x")], _TEXT_FIRST),
    "type-comment": ([(b"content-type", b"text/html(x)")], _TEXT_FIRST),
    "type-junk-then-charset": ([(b"content-type", b"text/html x; charset=utf-8")], _TEXT_FIRST),
    "type-plain-then-junk": ([(b"content-type", b"text/plain, text/html x")], _TEXT_FIRST),
    # No type: Chromium skips a vertical tab before the signature, as white space.
    "sniffed-after-vertical-tab": ([(b"x-frame-options", b"DENY")], "\x0b" + GTAG_PAGE),
}


def _served(headers: list[tuple[bytes, bytes]], body: bytes, cookie: bytes | None) -> bytes:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    middleware = ConsentMiddleware(app, secret_key=visitors.SECRET)
    scope = visitors._scope("/", "GET", [(b"cookie", cookie)] if cookie else [])
    sent = asyncio.run(visitors._run(scope, middleware=middleware))
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("visitor", REFUSING)
@pytest.mark.parametrize("name", list(TYPES))
def test_a_page_chromium_reads_as_html_is_rewritten(name: str, visitor: Visitor) -> None:
    headers, page = TYPES[name]
    refused = frozenset(visitors.CATEGORIES)
    assert oracle.find_leaks(page.encode(), refused), "the page fetches no tracker: no proof"
    out = _served(headers, page.encode(), visitors.COOKIES[visitor])
    assert oracle.find_leaks(out, refused) == []


@pytest.mark.parametrize(
    "value", [b"text/html x, text/plain", b"text/html, text/plain", b"application/json x"]
)
def test_a_type_chromium_does_not_read_as_html_passes(value: bytes) -> None:
    body = _TEXT_FIRST.encode()
    assert _served([(b"content-type", value)], body, None) == body


# -- 6. a 206 that answers no Range request: Chromium renders it as the page --------------


def _partial(request_headers: list[tuple[bytes, bytes]], cookie: bytes | None) -> list[Any]:
    page = GTAG_PAGE.encode()
    headers = [HTML_TYPE, (b"content-range", b"bytes 0-%d/%d" % (len(page) - 1, len(page)))]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 206, "headers": headers})
        await send({"type": "http.response.body", "body": page})

    middleware = ConsentMiddleware(app, secret_key=visitors.SECRET)
    cookies = [(b"cookie", cookie)] if cookie else []
    scope = visitors._scope("/", "GET", [*request_headers, *cookies])
    return asyncio.run(visitors._run(scope, middleware=middleware))


@pytest.mark.parametrize("visitor", REFUSING)
def test_a_206_no_range_asked_for_is_rewritten(visitor: Visitor) -> None:
    refused = frozenset(visitors.CATEGORIES)
    assert oracle.find_leaks(GTAG_PAGE.encode(), refused), "no tracker: no proof"
    sent = _partial([], visitors.COOKIES[visitor])
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert oracle.find_leaks(body, refused) == []
    assert b"content-range" not in dict(sent[0]["headers"])  # it describes the app's bytes


def test_the_answer_to_a_range_request_passes_untouched() -> None:
    sent = _partial([(b"range", b"bytes=0-")], None)
    assert sent[1]["body"] == GTAG_PAGE.encode()


# -- not fixed: XML documents ------------------------------------------------------------

# Chromium renders text/xml, application/xml, image/svg+xml (any +xml) as XML documents,
# and a body with no type that starts "<?xml" (after white space) is sniffed as text/xml
# (the MIME Sniffing standard's table; our sniffing reads only its HTML rows). Script and
# image elements in the XHTML or SVG namespace fetch and run there. The middleware reads
# only HTML types and passes these untouched: Chromium 156 ran the Google tag and loaded
# the Meta pixel before any choice. Holding back in them needs an XML reading that knows
# namespaces (an Atom feed's <link href> to YouTube is no HTML link; renaming it would
# break every feed reader), so it is left to a design decision.
_XHTML_DOC = (
    '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title>'
    '<script src="https://www.googletagmanager.com/gtag/js?id=G-2"></script></head>'
    "<body><p>x</p></body></html>"
)
_SVG_DOC = (
    '<svg xmlns="http://www.w3.org/2000/svg"><script href="https://www.googletagmanager.com/'
    'gtag/js?id=G-3"/><image href="https://www.facebook.com/tr?id=5" width="1" height="1"/></svg>'
)
XML_DOCUMENTS = {
    "xml-sniffed": (_XHTML_DOC, [(b"x-frame-options", b"SAMEORIGIN")]),
    "xml-text-xml": (_XHTML_DOC, [(b"content-type", b"text/xml")]),
    "xml-application-xml": (_XHTML_DOC, [(b"content-type", b"application/xml")]),
    "xml-svg-document": (_SVG_DOC, [(b"content-type", b"image/svg+xml")]),
}
_FETCHING_IN_XML = {
    "{http://www.w3.org/1999/xhtml}script": ("src",),
    "{http://www.w3.org/1999/xhtml}img": ("src",),
    "{http://www.w3.org/2000/svg}script": ("href", "{http://www.w3.org/1999/xlink}href"),
    "{http://www.w3.org/2000/svg}image": ("href", "{http://www.w3.org/1999/xlink}href"),
}


def _live_xml_trackers(document: bytes, refused: frozenset[str]) -> list[str]:
    """Refused trackers that XHTML and SVG scripts and images of an XML document fetch."""
    import xml.etree.ElementTree as ElementTree

    found = []
    for element in ElementTree.fromstring(document).iter():
        for name in _FETCHING_IN_XML.get(str(element.tag), ()):
            url = oracle.resolve(element.get(name) or "", visitors.DOCUMENT_URL)
            if url and oracle.tracker_categories(url.hostname) & refused:
                found.append(url.href)
    return found


@pytest.mark.xfail(strict=True, reason="XML documents are not read (see above)")
@pytest.mark.parametrize("name", list(XML_DOCUMENTS))
def test_an_xml_document_fetches_no_refused_tracker(name: str) -> None:
    page, headers = XML_DOCUMENTS[name]
    refused = frozenset(visitors.CATEGORIES)
    assert _live_xml_trackers(page.encode(), refused), "the document fetches nothing: no proof"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": page.encode()})

    middleware = ConsentMiddleware(app, secret_key=visitors.SECRET)
    sent = asyncio.run(visitors._run(visitors._scope("/", "GET", []), middleware=middleware))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert _live_xml_trackers(body, refused) == []


# -- in Chromium ----------------------------------------------------------------------------

CHROMIUM_PAGES: dict[str, Any] = {
    **STYLES,
    **LONG_STYLES,
    **PARTIAL,
    **{
        name: (_HEAD + _END, [HTML_TYPE, header])
        for name, header in _ON_THE_HOST.items()
        if name != "link-prefetch-relative-host"  # a prefetch Chromium may skip headless
    },
    **{
        name: (GTAG_PAGE, [HTML_TYPE, (b"content-encoding", coding)])
        for name, coding in CODINGS.items()
    },
    **{name: (page, headers) for name, (headers, page) in TYPES.items()},
    "partial-content": (GTAG_PAGE, [HTML_TYPE], 206),
}


@pytest.fixture(scope="class")
def tracker_chromium() -> Iterator[Callable[..., dict[str, list[str]]]]:
    """`load(name, proof="raw")`: a page's tracker requests by visitor, raw and through
    the middleware (no choice, reject, analytics alone, accept)."""
    require_chromium()
    from redteam.harness import chromium as open_chromium

    seen = ("raw", "none", "reject", "analytics", "accept")
    with open_chromium(CHROMIUM_PAGES, visitors=seen) as load:
        yield load


def _hosts(urls: list[str]) -> set[str]:
    return {ada_url.URL(url).hostname for url in urls if not url.startswith("ERROR")}


@pytest.fixture(scope="class")
def xml_chromium() -> Iterator[Callable[[str], dict[str, list[str]]]]:
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        pytest.skip(reason="/usr/bin/chromium is missing (apt-get install chromium)")
    from redteam.harness import chromium as open_chromium

    with open_chromium(XML_DOCUMENTS) as load:
        yield load


@pytest.mark.browser
@pytest.mark.server
class TestXmlDocumentsInChromium:
    @pytest.mark.xfail(strict=True, reason="XML documents are not read (see above)")
    @pytest.mark.parametrize("name", list(XML_DOCUMENTS))
    def test_chromium_requests_no_tracker_from_an_xml_document(
        self, xml_chromium: Callable[[str], dict[str, list[str]]], name: str
    ) -> None:
        seen = xml_chromium(name)
        assert _hosts(seen["raw"]), f"{name}: the raw document requests no tracker: {seen}"
        assert seen["none"] == [] and seen["reject"] == []


# Not fixed: the run-time guard holds no <meta http-equiv=refresh> that page code adds
# (fetchtable's REFRESH kind is not among the guard's fetching attributes). A script whose
# URL is built at run time (so the server cannot read it) navigates the page to the Meta
# pixel before any choice in Chromium 156, through markup as text or the DOM; an Image
# made the same way is held (the control).
_RUNTIME = "<!doctype html><html><head><title>t</title></head><body><p>x</p><script>{}</script>"
_BUILT = "'https://www.face'+'book.com/tr?id={}'"
RUNTIME_REFRESH = {
    "guard-meta-refresh-markup": _RUNTIME.format(
        f"var u={_BUILT.format(6)};document.head.insertAdjacentHTML("
        "'beforeend','<meta http-equiv=refresh content=\"0;url='+u+'\">');"
    ),
    "guard-meta-refresh-dom": _RUNTIME.format(
        "var m=document.createElement('meta');m.httpEquiv='refresh';"
        f"m.content='0;url='+{_BUILT.format(7)};document.head.appendChild(m);"
    ),
}
RUNTIME_CONTROL = {
    "guard-image-control": _RUNTIME.format(
        f"var i=new Image();i.src={_BUILT.format(5)};document.body.appendChild(i);"
    ),
}


@pytest.fixture(scope="class")
def runtime_chromium() -> Iterator[Callable[[str], dict[str, list[str]]]]:
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        pytest.skip(reason="/usr/bin/chromium is missing (apt-get install chromium)")
    from redteam.harness import chromium as open_chromium

    with open_chromium({**RUNTIME_REFRESH, **RUNTIME_CONTROL}) as load:
        yield load


@pytest.mark.browser
@pytest.mark.server
class TestRuntimeRefreshInChromium:
    @pytest.mark.parametrize(
        "name",
        [
            *(
                pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="not guarded"))
                for name in RUNTIME_REFRESH
            ),
            *RUNTIME_CONTROL,
        ],
    )
    def test_the_guard_holds_what_page_code_adds(
        self, runtime_chromium: Callable[[str], dict[str, list[str]]], name: str
    ) -> None:
        seen = runtime_chromium(name)
        assert _hosts(seen["raw"]), f"{name}: the raw page requests no tracker: {seen}"
        assert seen["none"] == [] and seen["reject"] == []


@pytest.mark.browser
@pytest.mark.server
class TestSessionFiveInChromium:
    @pytest.mark.parametrize("name", list(CHROMIUM_PAGES))
    def test_chromium_requests_no_refused_tracker_through_the_middleware(
        self, tracker_chromium: Callable[..., dict[str, list[str]]], name: str
    ) -> None:
        # The proof that the page fetches a tracker: the raw page does, or (markup only
        # consent.js wakes) the page of a visitor who granted everything does.
        seen = tracker_chromium(name, proof="accept" if name in PARTIAL else "raw")
        proof = seen["accept"] if name in PARTIAL else seen["raw"]
        assert _hosts(proof), f"{name}: no tracker requested, so it proves nothing: {seen}"
        assert seen["none"] == [] and seen["reject"] == []
        assert [url for url in seen["analytics"] if _needs(url) & REFUSED] == []


def _needs(url: str) -> frozenset[str]:
    """The categories a requested URL needs, as the catalogue says (every one, unread)."""
    from asgi_consent.urls import parse_url
    from redteam.harness import RULES

    parsed = parse_url(url)
    return RULES.needs(parsed)[0] if parsed is not None else frozenset(visitors.CATEGORIES)
