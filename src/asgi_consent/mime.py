"""MIME types as the browser reads them (the MIME Sniffing and Fetch standards): which
type a response has, whether the browser sniffs it, and whether it sniffs as HTML."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .contentcoding import codings, decoded, readable_coding
from .memo import Memo

logger = logging.getLogger("asgi_consent")

# Turbo Streams are HTML fragments (<turbo-stream><template>...) whose scripts Turbo runs.
TURBO_STREAM = "text/vnd.turbo-stream.html"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", TURBO_STREAM})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_QUOTED_STRING_TEXT = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_HTTP_WHITESPACE = "\t\n\r "


@dataclass(frozen=True, slots=True)
class MimeType:
    """A parsed MIME type: lower-case type and subtype, parameters by lower-case name."""

    type: str
    subtype: str
    parameters: dict[str, str] = field(default_factory=dict)
    essence: str = field(init=False, compare=False)  # "type/subtype", asked on every response

    def __post_init__(self) -> None:
        object.__setattr__(self, "essence", f"{self.type}/{self.subtype}")

    def serialize(self) -> bytes:
        """The MIME Sniffing standard's serialization (values quoted where needed), with
        a space after each ";" as servers usually write it."""
        out = self.essence
        for name, value in self.parameters.items():
            if not value or not _TOKEN.fullmatch(value):
                value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            out += f"; {name}={value}"
        return out.encode("latin-1")


def parse_mime_type(text: str) -> MimeType | None:
    """The MIME Sniffing standard's "parse a MIME type"; None for failure.

    >>> parse_mime_type(' Text/HTML ; Charset="utf-8"').parameters
    {'charset': 'utf-8'}
    """
    text = text.strip(_HTTP_WHITESPACE)
    type_, slash, rest = text.partition("/")
    if not slash or not _TOKEN.fullmatch(type_):
        return None
    subtype_end = _find_any(rest, ";", 0)
    subtype = rest[:subtype_end].rstrip(_HTTP_WHITESPACE)
    if not _TOKEN.fullmatch(subtype):
        return None
    mime = MimeType(type_.lower(), subtype.lower())
    position = len(type_) + 1 + subtype_end  # at the ";" before the parameters
    while position < len(text):
        position += 1  # past ";"
        while position < len(text) and text[position] in _HTTP_WHITESPACE:
            position += 1
        stop = _find_any(text, ";=", position)
        name = text[position:stop].lower()
        position = stop
        if position < len(text) and text[position] == ";":
            continue
        position += 1  # past "="
        if position >= len(text):
            break
        if text[position] == '"':
            value, position = _quoted_string(text, position, extract=True)
            position = _find_any(text, ";", position)
        else:
            stop = _find_any(text, ";", position)
            value = text[position:stop].rstrip(_HTTP_WHITESPACE)
            position = stop
            if not value:
                continue
        if (
            _TOKEN.fullmatch(name)
            and _QUOTED_STRING_TEXT.fullmatch(value)
            and name not in mime.parameters
        ):
            mime.parameters[name] = value
    return mime


_FINDERS: dict[str, Callable[[str, int], re.Match[str] | None]] = {}


def _find_any(text: str, chars: str, start: int) -> int:
    """The first index at or after `start` of any of `chars`, else len(text)."""
    search = _FINDERS.get(chars)
    if search is None:
        search = _FINDERS[chars] = re.compile(f"[{re.escape(chars)}]").search
    found = search(text, start)
    return found.start() if found else len(text)


def _quoted_string(text: str, position: int, *, extract: bool) -> tuple[str, int]:
    """Fetch's "collect an HTTP quoted string" from the `"` at `position`."""
    start = position
    value = []
    position += 1
    while True:
        stop = _find_any(text, '"\\', position)
        value.append(text[position:stop])
        position = stop
        if position >= len(text):
            break
        char = text[position]
        position += 1
        if char == "\\":
            if position >= len(text):
                value.append("\\")
                break
            value.append(text[position])
            position += 1
        else:
            break
    return ("".join(value) if extract else text[start:position]), position


def split_header_values(value: str) -> list[str]:
    """Fetch's "getting, decoding, and splitting": commas outside quoted strings."""
    values = []
    position = 0
    current = ""
    while True:
        stop = _find_any(value, '",', position)
        current += value[position:stop]
        position = stop
        if position < len(value):
            if value[position] == '"':
                quoted, position = _quoted_string(value, position, extract=False)
                current += quoted
                if position < len(value):
                    continue
            else:
                position += 1
        values.append(current.strip("\t "))
        current = ""
        if position >= len(value):
            return values


def extract_mime_type(headers: Iterable[bytes]) -> MimeType | None:
    """Fetch's "extract a MIME type" over every Content-Type header value: the last
    valid type wins, keeping an earlier charset for the same essence. None for failure."""
    joined = b", ".join(headers).decode("latin-1")
    charset: str | None = None
    essence: str | None = None
    found: MimeType | None = None
    for value in split_header_values(joined):
        mime = parse_mime_type(value)
        if mime is None or mime.essence == "*/*":
            continue
        found = mime
        if mime.essence != essence:
            charset = mime.parameters.get("charset")
            essence = mime.essence
        elif "charset" not in mime.parameters and charset is not None:
            mime.parameters["charset"] = charset
    return found


class ContentTypes:
    """Responses' Content-Type values read as Fetch reads them, remembering the few short
    ones an app repeats (one per middleware). A type it returns is shared: read it, never
    change it."""

    def __init__(self) -> None:
        self._types: Memo[bytes, MimeType | None] = Memo(size=256, longest=200)
        self._warned = False  # about a page in a coding we cannot decode

    def scan_response(
        self, method: str, status: int, headers: Iterable[tuple[bytes, bytes]]
    ) -> tuple[str | None, bool, bytes | None]:
        """`scan_response`, with this memo; an HTML page in a coding we cannot decode
        passes untouched, and is logged (the first, per middleware)."""
        kind, filtered, coding = scan_response(method, status, headers, self._types)
        if kind == UNREADABLE:
            if not self._warned:
                self._warned = True
                logger.error(
                    "asgi_consent: an HTML page came compressed (%s) in a coding we cannot "
                    "decode: it passes without banner or blocking. Compress outside "
                    "ConsentMiddleware (README: Middleware order with compression).",
                    b", ".join(v for k, v in headers if k.lower() == b"content-encoding")
                    .decode("latin-1"),
                )
            return None, filtered, None
        return kind, filtered, coding

    def of(self, values: Sequence[bytes]) -> MimeType | None:
        """`extract_mime_type(values)`, remembered: the page's type is asked again by the
        charset decision and the plan."""
        joined = values[0] if len(values) == 1 else b", ".join(values)
        return self._types.get(joined, _extract_joined)


def _extract_joined(joined: bytes) -> MimeType | None:
    """`extract_mime_type` of Content-Type values already joined with ", "."""
    return extract_mime_type((joined,))


def with_charset(values: Sequence[bytes], charset: str) -> bytes:
    """One Content-Type value for a page we send as HTML: the type the browser extracts
    from `values` (text/html when it would have sniffed), with `charset`."""
    mime = extract_mime_type(values)
    if mime is None or mime.essence not in HTML_TYPES:
        mime = MimeType("text", "html")
    parameters = {k: v for k, v in mime.parameters.items() if k != "charset"}
    parameters["charset"] = charset
    return MimeType(mime.type, mime.subtype, parameters).serialize()


def page_kind(mime: MimeType | None, options: Sequence[bytes]) -> str | None:
    """"html" for a response whose (extracted) MIME type makes it a page we may rewrite,
    "sniff" for one the browser sniffs (HTML if its first bytes say so: no usable type,
    and no `nosniff` among the X-Content-Type-Options `options`), else None."""
    if mime is not None and mime.essence in HTML_TYPES:
        return "html"
    return "sniff" if needs_sniffing(mime) and not nosniff(options) else None


_FILTERED = (b"set-cookie", b"link", b"refresh")
# The kind of an HTML page in a coding we cannot decode (ContentTypes logs it, once).
UNREADABLE = "unreadable"
_NO_BODY = (204, 206, 304)


def scan_response(
    method: str,
    status: int,
    headers: Iterable[tuple[bytes, bytes]],
    types: Memo[bytes, MimeType | None] | None = None,
) -> tuple[str | None, bool, bytes | None]:
    """One pass over a response's headers: (its page kind, see `mime.page_kind`, None
    when it has no body we could read; a HEAD answer has the kind its GET would have,
    when its headers alone tell; whether a Set-Cookie or Link header needs filtering;
    the content coding of a page that we decode, see `contentcoding`). Names may be in
    any case: ASGI asks for lower case, Django sends "Content-Type". `types` remembers
    what Content-Type values mean, if given."""
    filtered = False
    values: list[bytes] = []  # of Content-Type
    options: list[bytes] = []
    encodings: list[bytes] = []
    for key, value in headers:
        key = key.lower()
        if key in _FILTERED:
            filtered = True
        elif key == b"content-type":
            values.append(value)
        elif key == b"content-encoding":
            encodings.append(value)
        elif key == b"x-content-type-options":
            options.append(value)
    if status < 200 or status in _NO_BODY:
        return None, filtered, None
    joined = values[0] if len(values) == 1 else b", ".join(values)
    mime = types.get(joined, _extract_joined) if types is not None else _extract_joined(joined)
    kind = page_kind(mime, options)
    if kind != "html" and b"html" in joined.lower() and reads_as_html(joined):
        kind = "html"  # Chromium's reading of the type: an HTML page all the same
    coding = None
    if encodings and decoded(named := codings(encodings)):  # compressed: a page if we decode it
        coding = readable_coding(named)
        if coding is None:
            return (UNREADABLE if kind == "html" else None), filtered, None
        if kind == "sniff":  # not sniffed: HTML is what the app says it sends
            return None, filtered, None
    if method == "HEAD" and kind == "sniff":  # no bytes to sniff: not known to be a page
        return None, filtered, None
    return kind, filtered, coding


# Chromium reads a Content-Type value's type up to the first white space, ";" or "("
# (net::HttpUtil::ParseContentType): "text/html x" and "text/html(x)" are HTML there.
_CHROMIUM_TYPE = re.compile(r"[\t ]*+([^\t ;(]*)")


def reads_as_html(joined: bytes) -> bool:
    """Whether Chromium reads these Content-Type values (joined with ", ") as an HTML
    type: the last value with a "/" that is not "*/*" wins there, read to its first white
    space, ";" or "(", where the Fetch standard's parsing may find none or another."""
    found = ""
    for value in split_header_values(joined.decode("latin-1")):
        if "/" in value and value != "*/*":
            typed = _CHROMIUM_TYPE.match(value)
            assert typed is not None  # it matches the empty string
            found = typed.group(1).lower()
    return found in HTML_TYPES


# -- MIME sniffing: a response without a type that the browser renders as HTML ---------

_HTML_SIGNATURES = (
    b"<!doctype html", b"<html", b"<head", b"<script", b"<iframe", b"<h1", b"<div",
    b"<font", b"<table", b"<a", b"<style", b"<title", b"<b", b"<body", b"<br", b"<p",
    b"<!--",
)  # fmt: skip
_SNIFF_WHITESPACE = b"\t\n\x0b\x0c\r "  # and vertical tab: Chromium skips it too
SNIFF_BYTES = 1445  # the standard's resource header


def needs_sniffing(mime: MimeType | None) -> bool:
    """Whether the browser sniffs a response of this (extracted) type: none at all, or
    one of the standard's "unknown" types."""
    return mime is None or mime.essence in ("unknown/unknown", "application/unknown")


def nosniff(headers: Iterable[bytes]) -> bool:
    """Fetch's "determine nosniff" over the X-Content-Type-Options values."""
    values = split_header_values(b", ".join(headers).decode("latin-1"))
    return bool(values) and values[0].lower() == "nosniff"


def sniffs_as_html(data: bytes, *, complete: bool = True) -> bool:
    """The HTML rows of the MIME Sniffing standard's "rules for identifying an unknown
    MIME type": after whitespace, one of the signatures then a space or `>`.

    With `complete=False` (more of the body is still to come) a start that could still
    grow into a signature counts as HTML: the browser waits for more, we cannot.
    """
    head = data[:SNIFF_BYTES].lstrip(_SNIFF_WHITESPACE).lower()
    for signature in _HTML_SIGNATURES:
        if head.startswith(signature) and head[len(signature) : len(signature) + 1] in (
            b" ",
            b">",
        ):
            return True
        if not complete and len(head) <= len(signature) and signature.startswith(head):
            return True
    return False


