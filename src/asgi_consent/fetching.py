"""What one tag needs before it may fetch: its URLs read and matched against the rules.

The table itself is fetchtable.py (the HTML standard's and SVG's fetching attributes
and how their values are read). `tag_needs()` is a pure function of one tag: the
consent categories it needs before it may load anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, unquote_to_bytes

from .css import css_urls
from .fetchtable import (
    CSS,
    DOCUMENT,
    HANDLER,
    LINK,
    NOT_PLAIN,
    PREFIX,
    REFRESH,
    SRCSET,
    URL,
    URL_LIST,
    attribute_kind,
    plain_kinds,
)
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

_SPACES = " \t\n\f\r"
_CONNECT_RELS = frozenset({"preconnect", "dns-prefetch"})
_DOCUMENT_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml")
# An absolute http(s) URL written plainly: lower-case scheme, "//", a host of ASCII
# letters, digits, hyphens and dots whose last label is no number, then a path, query or
# fragment. The URL parser takes exactly this host from it, whatever follows (nothing to
# strip, decode or map, and nothing after it can fail the parse): when no entry names
# the host, the URL needs no category and its path is never read.
# Markup that may run code: a script element, an event handler, a javascript: URL (bytes
# of a data: document; over-reading is holding back, which is safe).
_RUNS_SCRIPT = re.compile(rb"(?i)<script|[\t\n\f\r /\"']on[a-z]+[\t\n\f\r ]*=|javascript:")
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
    data_depth: int = 0  # data: stylesheets being read, one inside the other
    # What a URL needs (its categories, and the provider it matched), read against
    # `verdicts_for` (base, document URL); preconnect hints, read by host, apart.
    verdicts: Memo[str, Verdict] = field(default_factory=_verdicts)
    host_verdicts: Memo[str, Verdict] = field(default_factory=_verdicts)
    verdicts_for: tuple[Url | None, Url | None] = (None, None)

    @property
    def base_url(self) -> Url | None:
        return self.base or self.document_url


def url_categories(value: str, ctx: Context, *, host_only: bool = False) -> set[str]:
    """The categories one URL (attribute text, already decoded) needs."""
    plain = _PLAIN_ORIGIN.match(value)
    if plain is not None:  # no base can move it
        if not ctx.rules.knows_host(plain.group(1)):
            return set()  # a host no entry names, whatever the path
        needs = ctx.rules.absolute_needs(value, host_only=host_only)
        found, provider = needs if needs is not None else (ctx.every_category, None)
    elif ctx.skip_relative and (_PLAIN_RELATIVE.match(value) or is_relative(value)):
        return set()  # a path on this site, which no entry names
    else:
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
) -> tuple[frozenset[str], str | None]:
    url = parse_url(value, base)
    if url is None:
        # Refused by the browser, or a host we cannot read (a code point newer than our
        # Unicode tables): either way we cannot say it is safe.
        return (ctx.every_category if value.strip(_SPACES) else frozenset()), None
    if url.scheme == "javascript":
        code = unquote(url.path + ("?" + url.query if url.query is not None else ""))
        return frozenset(ctx.rules.inline_categories(code.encode("utf-8", "replace"))), None
    if url.scheme == "data":  # a script, stylesheet or document in the URL itself
        parts = data_url_parts(url.href())
        if parts is None:
            return ctx.every_category, None
        found = frozenset(ctx.rules.inline_categories(parts[1]))
        return found | _data_stylesheet(*parts, ctx), None
    return ctx.rules.needs(url, host_only=host_only)


def value_categories(kind: int, value: str, ctx: Context, rel: str = "") -> set[str]:
    """The categories an attribute value of `kind` needs."""
    if kind == URL:
        return url_categories(value, ctx)
    if kind == SRCSET:
        return _union_of_urls(srcset_urls(value), ctx)
    if kind == CSS:
        return _union_of_urls(css_urls(value), ctx)
    if kind == HANDLER:
        return set(ctx.rules.inline_categories(value.encode("utf-8", "replace")))
    if kind == URL_LIST:  # space-separated (ping), or ";" (an animation's values)
        return _union_of_urls(value.replace(";", " ").split(), ctx)
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
    if url is not None and url.scheme == "javascript":
        # Its document is what its code returns, in a realm the run-time guard does not
        # reach: held for every category (held, the frame shows about:blank, as the
        # common javascript:false or javascript:'' placeholders do).
        return set(ctx.every_category)
    if url is not None and url.scheme == "data":
        # The URL standard drops tabs and newlines; Chromium keeps them inside a data:
        # URL's body. Both readings are scanned.
        body = data_url_body(url.href())
        if body is None:
            return set(ctx.every_category)  # cannot read it: fail closed
        mime, payload = body
        if mime in _DOCUMENT_TYPES or "xml" in mime or "html" in mime:
            readings = [payload]
            written = unquote_to_bytes(value.partition(",")[2])
            if written != payload and ";base64" not in value.partition(",")[0].lower():
                readings.append(written)
            if any(_RUNS_SCRIPT.search(reading) for reading in readings):
                # Code in a data: document runs in a realm of its own (an opaque origin)
                # that the run-time guard does not reach: it could build any URL.
                return set(ctx.every_category)
            ctx.nested.extend(readings)
    return found


def _data_stylesheet(mime: str, body: bytes, ctx: Context) -> set[str]:
    """A data: URL's body read as the stylesheet it may be (text/css, or any type in a
    quirks-mode page): CSS escapes ("\\2e"), percent signs and other letters can spell a
    tracker's URL that no marker finds in its bytes. Three data: URLs deep at most."""
    if mime != "text/css":
        try:  # a binary body (an image) is no stylesheet anyone wrote
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return set()
        if body.isascii() and b"\\" not in body and b"%" not in body:
            return set()  # the markers have read it as it is
    else:
        text = body.decode("utf-8", "replace")
    if ctx.data_depth >= _DATA_DEPTH:
        return set(ctx.every_category)
    ctx.data_depth += 1
    try:
        return _union_of_urls(css_urls(text), ctx)
    finally:
        ctx.data_depth -= 1


_DATA_DEPTH = 3


def _union_of_urls(urls: Iterable[str], ctx: Context) -> set[str]:
    out: set[str] = set()
    for url in urls:
        out |= url_categories(url, ctx)
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
    kinds = plain_kinds(tag.name, tag.foreign)
    for attr in attrs:
        kind = kinds.get(attr.name)
        if kind is None:
            # most attributes (class, alt, width, ...): plain names that do not fetch
            if b":" not in attr.name and not attr.name.startswith(NOT_PLAIN):
                continue
            kind = attribute_kind(tag.name, attr.name, tag.foreign)
            if kind is None:
                continue
        if kind == URL:
            found = url_categories(decode(attr.value, ctx), ctx)
        elif kind == REFRESH and not _is_refresh(attrs, ctx):
            continue
        else:
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
    """Whether a <meta> refreshes, now or once consent.js gives back a held one's
    http-equiv (data-consent-http-equiv: page markup may write it too)."""
    return any(
        decode(a.value, ctx).strip(_SPACES).lower() == "refresh"
        for a in attrs
        if a.name in (b"http-equiv", PREFIX + b"http-equiv")
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
    return _union_of_urls(css_urls(text), ctx)


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
