"""What a browser would fetch or run from a page: the judge of the differential tests.

The page is parsed with html5lib (a spec-compliant HTML parser) twice: with scripting on
(`<noscript>` content is text, scripts run) and with scripting off (`<noscript>` content is
markup, nothing runs). Every URL an element would fetch is resolved with ada-url (the
WHATWG URL parser) against the document URL and the page's first `<base href>`, both,
because a browser fetches what comes before the base against the document URL. A fetch is
a leak when its host is a catalogued tracker host of a refused category. Live inline code
(scripts of a type that runs, event handler attributes) is a leak when it names a
catalogued tracker URL or carries a catalogued inline marker. `srcdoc` and `data:` frames
are read the same way, recursively.

Nothing here imports the middleware's scanner, URL reader or rules: only the catalogue.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urlsplit
from xml.etree.ElementTree import Element

import ada_url
import html5lib  # type: ignore[import-untyped]
from html5lib import _tokenizer
from html5lib.constants import tokenTypes  # type: ignore[import-untyped]

from asgi_consent.trackers import CATALOGUE

from . import css

HTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
MATHML = "{http://www.w3.org/1998/Math/MathML}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# https://mimesniff.spec.whatwg.org/#javascript-mime-type
JS_MIME_TYPES = frozenset(
    [
        "application/ecmascript",
        "application/javascript",
        "application/x-ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/javascript",
        *(f"text/javascript1.{n}" for n in range(6)),
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    ]
)
SCRIPT_KINDS = {"module": "module", "importmap": "importmap", "speculationrules": "rules"}
LINK_FETCHES = frozenset(
    ["stylesheet", "icon", "preload", "modulepreload", "prefetch", "preconnect",
     "dns-prefetch", "manifest", "prerender"]
)  # fmt: skip
BACKGROUND_ELEMENTS = frozenset(["body", "table", "thead", "tbody", "tfoot", "tr", "td", "th"])
ASCII_WHITESPACE = " \t\n\r\x0c"
# Handlers of other events (onclick, ...) run on any element once the visitor acts; load
# and error fire only on these (an unknown element such as <img\0> never loads).
LOAD_EVENT_ELEMENTS = frozenset(
    ["body", "frameset", "img", "script", "link", "style", "iframe", "frame", "embed",
     "object", "video", "audio", "source", "track", "input", "svg", "image", "feImage"]
)  # fmt: skip
URL_LIST_ELEMENTS = {
    "ping": frozenset(["a", "area"]),
    "attributionsrc": frozenset(["a", "area", "img", "script"]),
}
MAX_DEPTH = 3
_C0_SPACE = "".join(map(chr, range(0x21)))


def _catalogue_tables() -> tuple[dict[str, set[str]], list[tuple[re.Pattern[str], str]]]:
    hosts: dict[str, set[str]] = {}
    texts: list[tuple[re.Pattern[str], str]] = []
    for tracker in CATALOGUE:
        for pattern in (*tracker.script_urls, *tracker.iframe_urls, *tracker.pixel_urls):
            host, slash, path = pattern.lower().partition("/")
            hosts.setdefault(host, set()).add(tracker.category)
            tail = re.escape(slash + path) if slash else r"(?![a-z0-9-]|\.[a-z0-9])"
            texts.append((re.compile(r"(?<![a-z0-9-])" + re.escape(host) + tail), tracker.category))
        for marker in tracker.inline_markers:
            texts.append((re.compile(re.escape(marker.lower())), tracker.category))
    return hosts, texts


TRACKER_HOSTS, TEXT_PATTERNS = _catalogue_tables()


def tracker_hosts(host: str) -> list[str]:
    """The catalogued tracker hosts that `host` is or is under (most specific first)."""
    labels = host.lower().rstrip(".").split(".")
    suffixes = (".".join(labels[start:]) for start in range(len(labels) - 1))
    return [suffix for suffix in suffixes if suffix in TRACKER_HOSTS]


def tracker_categories(host: str) -> set[str]:
    """The categories of the catalogued tracker host `host` is (or is under); else empty."""
    return {category for known in tracker_hosts(host) for category in TRACKER_HOSTS[known]}


def hosts_named(code: str) -> set[str]:
    """The catalogued tracker hosts a piece of code names."""
    text = code.lower().replace("\\/", "/")
    return {host for host in TRACKER_HOSTS if re.search(rf"(?<![a-z0-9-]){re.escape(host)}", text)}


def code_categories(code: str) -> set[str]:
    """Categories whose tracker URL or inline marker a piece of live code names."""
    text = code.lower().replace("\\/", "/")
    return {category for pattern, category in TEXT_PATTERNS if pattern.search(text)}


@dataclass(frozen=True)
class Leak:
    """One live fetch (or live code) of a tracker a visitor refused."""

    what: str
    target: str  # the URL fetched, or the live code
    scripting: bool
    code: bool = False

    @property
    def hosts(self) -> set[str]:
        """The catalogued tracker hosts this leak reaches (those its code names)."""
        if self.code:
            return hosts_named(self.target)
        return set(tracker_hosts(urlsplit(self.target).hostname or ""))

    def __str__(self) -> str:
        mode = "scripting on" if self.scripting else "scripting off"
        return f"{self.what} -> {self.target[:160]!r} ({mode})"


def find_leaks(
    page: bytes | str, refused: frozenset[str], document_url: str = "http://testserver/"
) -> list[Leak]:
    """Every leak in `page`, parsed as a browser with scripting on and one with it off."""
    text = browser_text(page) if isinstance(page, bytes) else page
    leaks: set[Leak] = set()
    for scripting in (True, False):
        _Reader(refused, scripting, leaks).document(text, [document_url], 0)
    return sorted(leaks, key=str)


_BYTE_ORDER_MARKS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def browser_text(page: bytes) -> str:
    """A page sent as UTF-8, decoded as a browser does: a byte order mark wins."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if page.startswith(mark):
            return page[len(mark) :].decode(encoding, "replace")
    return page.decode("utf-8", "replace")


def resolve(value: str, base: str) -> ada_url.URL | None:
    try:
        return ada_url.URL(value, base=base)
    except ValueError:
        return None


def split_srcset(value: str) -> list[str]:
    """The URLs of a srcset (https://html.spec.whatwg.org/#parse-a-srcset-attribute)."""
    found = []
    at = 0
    while at < len(value):
        while at < len(value) and (value[at] in ASCII_WHITESPACE or value[at] == ","):
            at += 1
        start = at
        while at < len(value) and value[at] not in ASCII_WHITESPACE:
            at += 1
        url = value[start:at]
        if url.endswith(","):
            found.append(url.rstrip(","))
            continue
        if url:
            found.append(url)
        depth = 0  # descriptors, up to a comma outside parentheses
        while at < len(value) and (value[at] != "," or depth):
            depth += {"(": 1, ")": -1}.get(value[at], 0)
            at += 1
    return found


def refresh_url(content: str) -> str | None:
    """The URL of a meta refresh (https://html.spec.whatwg.org/#shared-declarative-refresh-steps)."""
    at = len(content) - len(content.lstrip(ASCII_WHITESPACE))
    start = at
    while at < len(content) and content[at].isdigit():
        at += 1
    if at == start and not content.startswith(".", at):
        return None
    while at < len(content) and (content[at].isdigit() or content[at] == "."):
        at += 1
    if at >= len(content):
        return None
    if content[at] not in ";," + ASCII_WHITESPACE:
        return None
    rest = content[at:].lstrip(ASCII_WHITESPACE)
    rest = rest[1:].lstrip(ASCII_WHITESPACE) if rest[:1] in (";", ",") else rest
    if rest[:3].lower() == "url":
        after = rest[3:].lstrip(ASCII_WHITESPACE)
        if after.startswith("="):
            rest = after[1:].lstrip(ASCII_WHITESPACE)
    quote = rest[:1] if rest[:1] in ("'", '"') else ""
    if quote:
        rest = rest[1:].partition(quote)[0]
    return rest or None


def script_kind(attrs: dict[str, str]) -> str | None:
    """classic, module, importmap, rules, or None for a script that never runs."""
    kind = attrs.get("type")
    language = attrs.get("language")
    if kind == "" or (kind is None and not language):
        essence = "text/javascript"
    elif kind is not None:
        essence = kind.strip(ASCII_WHITESPACE)
    else:
        essence = "text/" + str(language)
    essence = essence.lower()
    if essence in JS_MIME_TYPES:
        return "classic"
    return SCRIPT_KINDS.get(essence)


class _Tokenizer(_tokenizer.HTMLTokenizer):  # type: ignore[misc]
    """Keeps every value of a repeated attribute (the tree keeps only the first) under
    "duplicate <name>", NUL-separated: Chromium's preload scanner reads the last `rel` and
    `type` (seen: <link rel=author rel=preload href> and <script type=text/plain
    type=text/javascript src> both fetch)."""

    def emitCurrentToken(self) -> None:
        token = self.currentToken
        values: dict[str, list[str]] = {}
        if token["type"] == tokenTypes["StartTag"]:
            for name, value in token["data"]:
                values.setdefault(name, []).append(value)
        super().emitCurrentToken()
        for name, found in values.items():
            if len(found) > 1:
                token["data"]["duplicate " + name] = "\x00".join(found)


class _Parser(html5lib.HTMLParser):  # type: ignore[misc]
    def _parse(
        self, stream: str, innerHTML: bool = False, container: str = "div",
        scripting: bool = False, **kwargs: object,
    ) -> None:  # fmt: skip
        self.innerHTMLMode = innerHTML
        self.container = container
        self.scripting = scripting
        self.tokenizer = _Tokenizer(stream, parser=self, **kwargs)
        self.reset()
        self.mainLoop()  # no re-parse: the input is text, its encoding is settled


def every_value(attrs: dict[str, str], name: str) -> list[str]:
    """All values a start tag gave `name`, first (the one the DOM keeps) first."""
    if "duplicate " + name in attrs:
        return attrs["duplicate " + name].split("\x00")
    return [attrs[name]] if name in attrs else []


def child_text(element: Element) -> str:
    """An element's child text content (what an SVG script runs and an SVG style reads):
    its Text children only. Not ElementTree's itertext(), which (in C) also yields the
    text of comments: `<svg><script><!--...` is a comment to Chromium, not code."""
    return (element.text or "") + "".join(child.tail or "" for child in element)


def _is_base(element: Element, namespaces: tuple[str, ...]) -> bool:
    namespace = str(element.tag).rpartition("}")[0] + "}"
    return namespace in namespaces and element.tag.endswith("}base") and "href" in element.attrib


def _walk(root: Element) -> Iterator[Element]:
    """Elements in tree order; a template's content is inert and skipped."""
    stack = [root]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str):
            continue
        yield element
        if element.tag != HTML + "template":
            stack.extend(reversed(list(element)))


class _Reader:
    """One parse of one document (and its nested srcdoc/data: documents)."""

    def __init__(self, refused: frozenset[str], scripting: bool, leaks: set[Leak]) -> None:
        self.refused = refused
        self.scripting = scripting
        self.leaks = leaks
        self.unfinished: set[int] = set()  # id() of scripts cut by the end of the file

    def document(self, text: str, fallback_bases: list[str], depth: int) -> None:
        parser = _Parser(tree=html5lib.getTreeBuilder("etree"))
        root = parser.parse(text, scripting=self.scripting)
        elements = list(_walk(root))
        # A script still open at the end of the file is never run (the parser marks it
        # "already started"); it is the last script element the parser made.
        if any(
            code == "expected-named-closing-tag-but-got-eof" and data.get("name") == "script"
            for _, code, data in parser.errors
        ):
            scripts = [e for e in elements if e.tag == HTML + "script"]
            if scripts:
                self.unfinished.add(id(scripts[-1]))
        bases = list(fallback_bases)
        # The document's base is its first HTML <base href>; Chromium's preload scanner
        # also takes an SVG or MathML one (it fetched through <svg><base href>).
        for namespaces in ((HTML,), (HTML, SVG, MATHML)):
            first = next((e for e in elements if _is_base(e, namespaces)), None)
            for fallback in fallback_bases if first is not None else ():
                frozen = resolve(first.attrib["href"], fallback)  # type: ignore[union-attr]
                if frozen is not None and frozen.href not in bases:
                    bases.append(frozen.href)
        for element in elements:
            self.element(element, bases, depth)

    # -- what fetches -------------------------------------------------------------

    def fetch(self, what: str, value: str | None, bases: list[str], depth: int) -> None:
        if value is None:
            return
        seen = set()
        for base in bases:
            url = resolve(value, base)
            if url is None or url.href in seen:
                continue
            seen.add(url.href)
            if url.protocol in ("http:", "https:"):
                if tracker_categories(url.hostname) & self.refused:
                    self.leaks.add(Leak(what, url.href, self.scripting))
            elif url.protocol == "data:" and what.split()[0] in ("<iframe", "<frame", "<object"):
                self.data_document(url.href, depth)
                # Chromium keeps tabs and newlines inside a data: URL (the URL standard
                # drops them), so its document is read as written too.
                written = value.strip(_C0_SPACE)
                if written[:5].lower() == "data:" and written != url.href:
                    self.data_document(written, depth)

    def data_document(self, href: str, depth: int) -> None:
        meta, comma, body = href[5:].partition(",")
        if not comma or depth >= MAX_DEPTH:
            return
        content = unquote_to_bytes(body.partition("#")[0])
        mime = meta.strip(ASCII_WHITESPACE).lower()
        if mime.endswith(";base64") or mime.endswith("; base64"):
            mime = mime.rpartition(";")[0]
            try:
                content = base64.b64decode(re.sub(rb"[\t\n\x0c\r ]", b"", content) + b"==")
            except ValueError:
                return
        if mime.partition(";")[0].strip() == "text/html":
            # An opaque data: document has no base URL: only absolute URLs fetch.
            self.document(content.decode("utf-8", "replace"), [href], depth + 1)

    def code(self, what: str, text: str) -> None:
        categories = code_categories(text) & self.refused
        if categories:
            self.leaks.add(Leak(what, text, self.scripting, code=True))

    def style(self, what: str, text: str, bases: list[str], depth: int) -> None:
        for url in css.urls(text):
            self.fetch(what, url, bases, depth)

    # -- per element --------------------------------------------------------------

    def element(self, element: Element, bases: list[str], depth: int) -> None:
        tag = element.tag
        attrs = element.attrib
        namespace, _, name = str(tag).rpartition("}")
        label = f"<{name}"
        if "style" in attrs:
            self.style(label + " style>", attrs["style"], bases, depth)
        if self.scripting:
            for attr, value in attrs.items():
                if re.fullmatch("on[a-z]+", attr) and (
                    attr not in ("onload", "onerror") or name in LOAD_EVENT_ELEMENTS
                ):
                    self.code(f"{label} {attr}>", value)
        if namespace + "}" == HTML:
            self.html_element(name, element, bases, depth)
        else:
            if namespace + "}" == SVG:
                self.svg_element(name, element, bases, depth)
            self.preloaded_in_foreign_content(name, attrs, bases, depth)

    def preloaded_in_foreign_content(
        self, name: str, attrs: dict[str, str], bases: list[str], depth: int
    ) -> None:
        """What Chromium's preload scanner fetches from SVG or MathML elements that carry
        an HTML element's name (it reads tag names, not namespaces): link, input of type
        image, video's poster, and a picture's source (seen fetched after a </body>
        inside <svg>)."""
        if name == "link":
            self.link(attrs, bases, depth)
        elif name == "input" and "image" in map(str.lower, every_value(attrs, "type")):
            self.fetch("<foreign input src>", attrs.get("src"), bases, depth)
        elif name == "video":
            self.fetch("<foreign video poster>", attrs.get("poster"), bases, depth)
        elif name == "source":
            for url in split_srcset(attrs.get("srcset", "")):
                self.fetch("<foreign source srcset>", url, bases, depth)

    def html_element(self, name: str, element: Element, bases: list[str], depth: int) -> None:
        attrs = element.attrib
        label = f"<{name}"
        get = attrs.get
        if name == "script":
            text = "" if id(element) in self.unfinished else element.text or ""
            self.script(label, attrs, text, get("src"), bases, depth)
        elif name in ("img", "source"):
            self.fetch(label + " src>", get("src"), bases, depth)
            for url in split_srcset(get("srcset", "")):
                self.fetch(label + " srcset>", url, bases, depth)
        elif name in ("video", "audio", "track", "embed"):
            self.fetch(label + " src>", get("src"), bases, depth)
            self.fetch(label + " poster>", get("poster"), bases, depth)
        elif name in ("iframe", "frame"):
            self.fetch(label + " src>", get("src"), bases, depth)
            if name == "iframe" and "srcdoc" in attrs and depth < MAX_DEPTH:
                self.document(attrs["srcdoc"], bases, depth + 1)
        elif name == "object":
            self.fetch(label + " data>", get("data"), bases, depth)
        elif name == "input" and "image" in map(str.lower, every_value(attrs, "type")):
            self.fetch(label + " src>", get("src"), bases, depth)
        elif name == "link":
            self.link(attrs, bases, depth)
        elif name in BACKGROUND_ELEMENTS:
            self.fetch(label + " background>", get("background"), bases, depth)
        elif name == "style" and get("type", "").lower() in ("", "text/css"):
            self.style("<style>", element.text or "", bases, depth)
        elif name == "style":  # Chromium's preload scanner reads it whatever its type
            for url in css.import_urls(element.text or ""):
                self.fetch("<style> @import (another type)", url, bases, depth)
        elif name == "meta" and get("http-equiv", "").lower() == "refresh":
            self.fetch("<meta refresh>", refresh_url(get("content", "")), bases, depth)
        self.url_lists(name, label, attrs, bases, depth)

    def url_lists(
        self, name: str, label: str, attrs: dict[str, str], bases: list[str], depth: int
    ) -> None:
        for attr in ("ping", "attributionsrc"):
            if name in URL_LIST_ELEMENTS[attr]:
                for url in attrs.get(attr, "").split():
                    self.fetch(f"{label} {attr}>", url, bases, depth)

    def script(
        self,
        label: str,
        attrs: dict[str, str],
        text: str,
        src: str | None,
        bases: list[str],
        depth: int,
    ) -> None:
        if not self.scripting:
            return
        if src is not None:
            # The DOM runs the first type; the preload scanner fetches by the last.
            kinds = {script_kind({**attrs, "type": t}) for t in every_value(attrs, "type")}
            if {"classic", "module"} & (kinds | {script_kind(attrs)}):
                self.fetch(label + " src>", src, bases, depth)
        elif script_kind(attrs) is not None:
            self.code(f"inline {label}>", text)

    def link(self, attrs: dict[str, str], bases: list[str], depth: int) -> None:
        rel = {token for value in every_value(attrs, "rel") for token in value.lower().split()}
        if not rel & LINK_FETCHES:
            return
        self.fetch(f"<link rel={' '.join(sorted(rel))}>", attrs.get("href"), bases, depth)
        for url in split_srcset(attrs.get("imagesrcset", "")):
            self.fetch("<link imagesrcset>", url, bases, depth)

    def svg_element(self, name: str, element: Element, bases: list[str], depth: int) -> None:
        attrs = element.attrib
        href = attrs.get("href", attrs.get(XLINK_HREF))
        if name == "script":
            text = child_text(element)
            self.script("<svg:script", attrs, text, href, bases, depth)
            # Chromium fetches an SVG script's href whatever its type (text/plain too).
            if self.scripting and script_kind(attrs) is None:
                self.fetch("<svg:script href>", href, bases, depth)
        elif name in ("image", "feImage", "use"):
            self.fetch(f"<svg:{name} href>", href, bases, depth)
        elif name == "style" and attrs.get("type", "").lower() in ("", "text/css"):
            self.style("<svg:style>", child_text(element), bases, depth)
