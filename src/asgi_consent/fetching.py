"""Every element and attribute that makes a browser fetch, and what one tag needs.

The table follows the HTML standard (and SVG): which attributes of which elements hold
a URL the browser fetches or navigates to by itself, and how their value is read
(one URL, a srcset, CSS, script, a nested document). `needed()` is a pure function of
one tag: the consent categories it needs before it may load anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, unquote_to_bytes

from .css import css_urls
from .memo import Memo
from .rules import TrackerRules
from .tags import Attribute, Tag, attribute
from .urls import (
    Url,
    data_url_body,
    data_url_parts,
    decode_attribute,
    is_relative,
    meta_refresh_url,
    parse_url,
    srcset_urls,
)

URL, SRCSET, CSS, HANDLER, DOCUMENT, FRAME, REFRESH, URL_LIST, LINK, NONE = range(10)

_BACKGROUND = {b"background": URL}
ELEMENT_ATTRIBUTES: dict[bytes, dict[bytes, int]] = {
    b"script": {b"src": URL, b"data-src": URL},
    b"img": {b"src": URL, b"srcset": SRCSET},
    b"image": {b"src": URL, b"srcset": SRCSET},  # the parser turns <image> into <img>
    b"iframe": {b"src": FRAME, b"srcdoc": DOCUMENT},
    b"frame": {b"src": FRAME},
    b"embed": {b"src": FRAME},
    b"object": {b"data": FRAME},
    b"video": {b"src": URL, b"poster": URL},
    b"audio": {b"src": URL},
    b"source": {b"src": URL, b"srcset": SRCSET},
    b"track": {b"src": URL},
    b"input": {b"src": URL},
    b"link": {b"href": LINK, b"imagesrcset": SRCSET},
    b"meta": {b"content": REFRESH},
    b"a": {b"ping": URL_LIST},
    b"area": {b"ping": URL_LIST},
    b"html": {b"manifest": URL},
    b"base": {b"href": URL},
    b"body": _BACKGROUND,
    b"table": _BACKGROUND,
    b"thead": _BACKGROUND,
    b"tbody": _BACKGROUND,
    b"tfoot": _BACKGROUND,
    b"tr": _BACKGROUND,
    b"td": _BACKGROUND,
    b"th": _BACKGROUND,
}
_NAVIGATES = {b"href": NONE, b"xlink:href": NONE}  # a click, not a fetch
_ANIMATION = {b"to": URL_LIST, b"from": URL_LIST, b"by": URL_LIST, b"values": URL_LIST}
ELEMENT_ATTRIBUTES.update(
    {b"a": {**_NAVIGATES, b"ping": URL_LIST}, b"area": {**_NAVIGATES, b"ping": URL_LIST}}
)
ELEMENT_ATTRIBUTES.update({name: _ANIMATION for name in (b"set", b"animate", b"animatetransform")})
# On any element, whether the scanner reads it as HTML or SVG (where the two readings could
# differ, both count): SVG elements fetch through href and xlink:href (image, use, feImage,
# script) and through url() in presentation attributes.
_PRESENTATION = (b"fill", b"stroke", b"filter", b"mask", b"clip-path", b"cursor",
                 b"marker-start", b"marker-mid", b"marker-end")  # fmt: skip
ANY_ELEMENT = {
    b"style": CSS,
    b"attributionsrc": URL_LIST,
    b"href": URL,
    b"xlink:href": URL,
    **dict.fromkeys(_PRESENTATION, CSS),
}
FOREIGN_ELEMENT = ANY_ELEMENT
PREFIX = b"data-consent-"
STASHED_CSS = b"data-consent-css"
# Attributes consent.js gives back their name on waking: fetching them is deferred only.
_SPACES = " \t\n\f\r"
_CONNECT_RELS = frozenset({"preconnect", "dns-prefetch"})
_DOCUMENT_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml")
# An absolute http(s) URL written plainly: lower-case scheme, "//", a host of ASCII
# letters, digits, hyphens and dots whose last label is no number, then a path, query or
# fragment. The URL parser takes exactly this host from it, whatever follows (nothing to
# strip, decode or map, and nothing after it can fail the parse): when no entry names
# the host, the URL needs no category and its path is never read.
_PLAIN_ORIGIN = re.compile(r"https?://((?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*)(?:[/?#]|\Z)")
# A relative URL as the parser reads it: a fragment, a query, or a path that does not
# start with two slashes or backslashes (tabs and newlines would be dropped first).
_PLAIN_RELATIVE = re.compile(r"[#?]|/[^/\\\t\n\r]")
# A page repeats its URLs: up to 512 verdicts kept per page in each of two memos, for
# URLs of up to 256 characters (at most 256 K characters of keys per page).
_VERDICTS = 512
_LONGEST_URL = 256


Verdict = tuple[frozenset[str], str | None]


def _verdicts() -> Memo[str, Verdict]:
    return Memo(size=_VERDICTS, longest=_LONGEST_URL)


@dataclass(slots=True)
class Context:
    """What the per-tag decisions need to know about the document being read."""

    rules: TrackerRules
    document_url: Url | None
    every_category: frozenset[str]
    encoding: str = "utf-8"
    base: Url | None = None
    base_seen: bool = False
    cross_origin_base: bool = False
    skip_relative: bool = False  # relative URLs stay on a host no entry names
    xml: bool = False  # an XHTML page (read by an XML parser)
    provider: str = ""  # the provider of the last tracker matched (placeholder text)
    nested: list[bytes] = field(default_factory=list)  # documents in srcdoc or data:
    # What a URL needs (its categories, and the provider it matched), read against
    # `verdicts_for` (base, document URL); preconnect hints, read by host, apart.
    verdicts: Memo[str, Verdict] = field(default_factory=_verdicts)
    host_verdicts: Memo[str, Verdict] = field(default_factory=_verdicts)
    verdicts_for: tuple[Url | None, Url | None] = (None, None)
    known_hosts: Memo[str, bool] = field(default_factory=lambda: Memo(size=256, longest=253))

    @property
    def base_url(self) -> Url | None:
        return self.base or self.document_url


def attribute_kind(tag_name: bytes, attribute: bytes, foreign: bool) -> int | None:
    """How `attribute` of `tag_name` fetches, or None if it does not."""
    if b":" not in attribute and not attribute.startswith((b"on", PREFIX)):
        # most names: one lookup in the tables merged below (the same answers)
        tables = _FOREIGN_KINDS if foreign else _HTML_KINDS
        return tables.get(tag_name, tables[b""]).get(attribute)
    return _attribute_kind(tag_name, attribute, foreign)


def _attribute_kind(tag_name: bytes, attribute: bytes, foreign: bool) -> int | None:
    if attribute == STASHED_CSS:
        return CSS  # consent.js puts it back into the <style>
    if attribute.startswith(PREFIX):
        attribute = attribute[len(PREFIX) :]  # consent.js would turn it back into this
    if b":" in attribute and attribute != b"xlink:href":
        attribute = attribute.rpartition(b":")[2]  # XML: any prefix may name XLink
    if attribute.startswith(b"on") and len(attribute) > 2:
        return HANDLER
    if foreign:  # SVG/MathML: href fetches; the HTML readings count too (fail closed)
        found = FOREIGN_ELEMENT.get(attribute)
        if found is not None:
            return found
    table = ELEMENT_ATTRIBUTES.get(tag_name)
    if table is not None:
        found = table.get(attribute)
        if found is not None:
            return None if found == NONE else found
    return ANY_ELEMENT.get(attribute)


def _merged(foreign: bool) -> dict[bytes, dict[bytes, int | None]]:
    """`_attribute_kind` for every name the tables know, per element (b"": any other
    element); a name in none of them does not fetch."""
    names = set(ANY_ELEMENT) | set(FOREIGN_ELEMENT)
    for table in ELEMENT_ATTRIBUTES.values():
        names |= set(table)
    return {
        element: {
            name: kind
            for name in names
            if (kind := _attribute_kind(element, name, foreign)) is not None
        }
        for element in [b"", *ELEMENT_ATTRIBUTES]
    }


_HTML_KINDS = _merged(False)
_FOREIGN_KINDS = _merged(True)


def url_categories(value: str, ctx: Context, *, host_only: bool = False) -> set[str]:
    """The categories one URL (attribute text, already decoded) needs."""
    if ctx.skip_relative and (_PLAIN_RELATIVE.match(value) or is_relative(value)):
        return set()  # a path on this site, which no entry names
    plain = _PLAIN_ORIGIN.match(value)
    if plain is not None and not ctx.known_hosts.get(plain.group(1), ctx.rules.knows_host):
        return set()  # a host no entry names, whatever the base and the path
    if ctx.verdicts_for[0] is not ctx.base or ctx.verdicts_for[1] is not ctx.document_url:
        ctx.verdicts_for = (ctx.base, ctx.document_url)  # a <base href> moved every URL
        ctx.verdicts, ctx.host_verdicts = _verdicts(), _verdicts()
    memo = ctx.host_verdicts if host_only else ctx.verdicts
    found, provider = memo.get(value, lambda text: _verdict(text, ctx, host_only))
    if provider is not None:
        ctx.provider = provider
    return set(found)


def _verdict(value: str, ctx: Context, host_only: bool) -> Verdict:
    """What `value` needs read against the base and, when a <base> moved it, against the
    page's own URL too (fail closed); and the provider of the last tracker it matched."""
    found, provider = _resolved_categories(value, ctx.base_url, ctx, host_only)
    if ctx.base is not None:
        more, other = _resolved_categories(value, ctx.document_url, ctx, host_only)
        found, provider = found | more, other or provider
    return frozenset(found), provider


def _resolved_categories(
    value: str, base: Url | None, ctx: Context, host_only: bool
) -> tuple[set[str], str | None]:
    url = parse_url(value, base)
    if url is None:
        # Refused by the browser, or a host we cannot read (a code point newer than our
        # Unicode tables): either way we cannot say it is safe.
        return (set(ctx.every_category) if value.strip(_SPACES) else set()), None
    if url.scheme == "javascript":
        code = unquote(url.path + ("?" + url.query if url.query is not None else ""))
        return set(ctx.rules.inline_categories(code.encode("utf-8", "replace"))), None
    if url.scheme == "data":  # a script, stylesheet or document in the URL itself
        parts = data_url_parts(url.href())
        if parts is None:
            return set(ctx.every_category), None
        return set(ctx.rules.inline_categories(parts[1])), None
    found = ctx.rules.match_host(url) if host_only else ctx.rules.match_url(url)
    if found is None:
        return set(ctx.rules.host_categories(url)), None
    return {found.category}, found.provider


def value_categories(kind: int, value: str, ctx: Context, rel: str = "") -> set[str]:
    """The categories an attribute value of `kind` needs."""
    if kind == URL:
        return url_categories(value, ctx)
    if kind == SRCSET:
        return _union(url_categories(u, ctx) for u in srcset_urls(value))
    if kind == CSS:
        return _union(url_categories(u, ctx) for u in css_urls(value))
    if kind == HANDLER:
        return set(ctx.rules.inline_categories(value.encode("utf-8", "replace")))
    if kind == URL_LIST:  # space-separated (ping), or ";" (an animation's values)
        return _union(url_categories(u, ctx) for u in value.replace(";", " ").split())
    if kind == LINK:
        return url_categories(value, ctx, host_only=bool(_CONNECT_RELS & set(rel.split())))
    if kind == REFRESH:
        target = meta_refresh_url(value)
        return url_categories(target, ctx) if target else set()
    if kind == DOCUMENT:
        ctx.nested.append(value.encode("utf-8", "replace"))
        return set()
    return _frame_categories(value, ctx)


def _frame_categories(value: str, ctx: Context) -> set[str]:
    found = url_categories(value, ctx)
    if _PLAIN_ORIGIN.match(value):
        return found  # http(s): not a data: URL
    url = parse_url(value, ctx.base_url)
    if url is not None and url.scheme == "data":
        # The URL standard drops tabs and newlines; Chromium keeps them inside a data:
        # URL's body. Both readings are scanned.
        body = data_url_body(url.href())
        if body is None:
            return set(ctx.every_category)  # cannot read it: fail closed
        mime, payload = body
        if mime in _DOCUMENT_TYPES or "xml" in mime or "html" in mime:
            ctx.nested.append(payload)
            written = unquote_to_bytes(value.partition(",")[2])
            if written != payload and ";base64" not in value.partition(",")[0].lower():
                ctx.nested.append(written)
    return found


def _union(parts: Iterable[set[str]]) -> set[str]:
    out: set[str] = set()
    for part in parts:
        out |= part
    return out


def decode(value: bytes, ctx: Context) -> str:
    return decode_attribute(value, ctx.encoding)


# -- one tag ------------------------------------------------------------------------

Edit = tuple[int, int, bytes]  # replace buf[start:stop] with the bytes
_JS_TYPES = frozenset(
    [
        "",
        "module",
        "importmap",
        "speculationrules",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "application/x-ecmascript",
        "text/ecmascript",
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    ]
    + [f"text/javascript1.{n}" for n in range(6)]
)
RUNS, MARKED, INERT = 0, 1, 2


def script_state(tag: Tag, attrs: list[Attribute], ctx: Context) -> int:
    """RUNS if a browser runs this script (or applies this style); MARKED if it is inert
    but consent.js may wake it (it names a category); INERT otherwise.

    Every `type` counts, not only the first the DOM keeps: Chromium's preload scanner
    reads the last one and fetches the script's src when that one is JavaScript."""
    types = [decode(a.value, ctx) for a in attrs if a.name == b"type"]
    if not types or (tag.foreign and tag.name == b"script"):
        return RUNS  # Chromium fetches an SVG script's href whatever its type
    applies = _runs if tag.name == b"script" else _is_css
    if any(applies(value) for value in types):
        return RUNS
    return MARKED if page_mark(attrs, ctx, script=True) else INERT


def _is_css(style_type: str) -> bool:
    return style_type.strip(_SPACES).lower() in ("", "text/css")


def _runs(script_type: str) -> bool:
    essence = script_type.strip(" \t\n\f\r").lower()
    # parameters ("text/javascript; charset=utf-8"): a browser may run it, so we assume so
    return essence in _JS_TYPES or essence.split(";")[0].strip() in _JS_TYPES


def page_mark(attrs: list[Attribute], ctx: Context, *, script: bool) -> set[str]:
    """The categories the page itself claims for an element (data-consent, or for a
    script the vanilla-cookieconsent style data-category naming one of ours)."""
    marked = attribute(attrs, b"data-consent")
    if marked is not None:
        return set(decode(marked.value, ctx).split())
    foreign = attribute(attrs, b"data-category") if script else None
    if foreign is not None:
        category = decode(foreign.value, ctx).strip()
        if category in ctx.rules.categories:
            return {category}
    return set()


def tag_needs(tag: Tag, buf: bytes, ctx: Context) -> tuple[set[str], list[Attribute]]:
    """The categories a start tag's attributes need, and the attributes to rename when it
    is held back: its URL attributes, and a style or handler that itself needs consent."""
    needed: set[str] = set()
    live: list[Attribute] = []
    attrs = tag.attributes(buf)
    name = tag.name
    for attr in attrs:
        kind = attribute_kind(name, attr.name, tag.foreign)
        if kind is None:
            continue
        if kind == REFRESH and not _is_refresh(attrs, ctx):
            continue
        # every rel, not the first only: Chromium's preload scanner reads the last one
        rel = _rel(attrs, ctx) if kind == LINK else ""
        found = value_categories(kind, decode(attr.value, ctx), ctx, rel)
        needed |= found
        if not attr.name.startswith(PREFIX) and (found or kind not in (CSS, HANDLER)):
            live.append(attr)
    return needed, live


def _rel(attrs: list[Attribute], ctx: Context) -> str:
    return " ".join(decode(a.value, ctx).lower() for a in attrs if a.name == b"rel")


def _is_refresh(attrs: list[Attribute], ctx: Context) -> bool:
    return any(
        decode(a.value, ctx).strip(_SPACES).lower() == "refresh"
        for a in attrs
        if a.name == b"http-equiv"
    )


def content_needs(tag: Tag, buf: bytes, ctx: Context) -> set[str]:
    """The categories the content of an inline <script> or <style> needs."""
    span = content_span(tag, buf)
    if span is None:
        return set(ctx.every_category)  # too long or not text: fail closed
    text = decode(buf[span[0] : span[1]], ctx) if tag.foreign else buf[span[0] : span[1]].decode(
        ctx.encoding, "replace"
    )
    if tag.name == b"script":
        return set(ctx.rules.inline_categories(text.encode("utf-8", "replace")))
    return _union(url_categories(u, ctx) for u in css_urls(text))


def content_span(tag: Tag, buf: bytes) -> tuple[int, int] | None:
    """Where the content of a <script> or <style> lies in `buf`, if it can be read: raw
    text in HTML; in SVG, text up to its end tag when no "<" comes first (as in every
    icon a design tool exports: markup there would be tags, not text)."""
    if not tag.foreign or tag.content_end is not None:
        return None if tag.content_end is None else (tag.end, tag.content_end)
    closer = re.compile(rb"</" + re.escape(tag.name) + rb"[\t\n\f\r />]", re.I)
    end = closer.search(buf, tag.end)
    if end is None or b"<" in buf[tag.end : end.start()]:
        return None
    return tag.end, end.start()
