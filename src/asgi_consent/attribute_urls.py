"""The URLs inside attribute values that are more than one URL: srcset candidates and the
content of a meta refresh. `urls.py` re-exports both.

Both follow the HTML standard's parsing algorithms, but where the standard would drop a
candidate for bad descriptors we still return its URL: a URL we look at needlessly costs
nothing, one we miss could be a tracker.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_to_bytes

# "parse a srcset attribute": skip whitespace and commas, the URL runs to whitespace, then
# descriptors run to a comma outside parentheses (an unclosed one runs to the end).
_CANDIDATE_URL = re.compile(r"[\t\n\f\r ,]*+([^\t\n\f\r ]*+)")
_DESCRIPTORS = re.compile(r"(?:[^,(]++|\([^)]*+\)?+)*+,?")
_REFRESH = re.compile(r"[\t\n\f\r ]*+([0-9]*+)([0-9.]*+)")
_WHITESPACE = "\t\n\f\r "


def srcset_urls(value: str) -> list[str]:
    """The URL of every candidate in a srcset (or imagesrcset) value, in order.

    Example: srcset_urls("a.png 1x, b,c.png 2x,d.png") == ["a.png", "b,c.png", "d.png"].
    """
    if "," not in value:  # one candidate: its URL, and descriptors to the end
        first = _CANDIDATE_URL.match(value)
        return [first.group(1)] if first is not None and first.group(1) else []
    urls: list[str] = []
    at = 0
    while True:
        match = _CANDIDATE_URL.match(value, at)
        url = match.group(1) if match else ""
        if not url or match is None:
            return urls
        at = match.end()
        if url.endswith(","):
            urls.append(url.rstrip(","))  # "a.png," has no descriptors
            continue
        urls.append(url)
        descriptors = _DESCRIPTORS.match(value, at)
        at = descriptors.end() if descriptors else len(value)


def meta_refresh_url(content: str) -> str | None:
    """The URL a <meta http-equiv="refresh" content="..."> navigates to, as written;
    None when it only reloads the page or the content is not a refresh.

    Follows the HTML "shared declarative refresh steps": "5;URL='x'", "0, x" and "0 x"
    all navigate to "x"; "1.5" and "0; url=" only reload.
    """
    timing = _REFRESH.match(content)
    if timing is None:
        return None
    at = timing.end()
    if not timing.group(1) and not timing.group(2).startswith("."):
        return None
    if at < len(content):
        if content[at] not in ";," + _WHITESPACE:
            return None
        at = _skip_whitespace(content, at)
        if content[at : at + 1] in (";", ","):
            at = _skip_whitespace(content, at + 1)
    url = content[at:]
    if content[at : at + 3].lower() == "url":
        after = _skip_whitespace(content, at + 3)
        if content[after : after + 1] == "=":
            url = _unquote(content[_skip_whitespace(content, after + 1) :])
    elif content[at : at + 1].lower() != "u":
        url = _unquote(url)
    return url or None


def _skip_whitespace(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def _unquote(text: str) -> str:
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        return text[1:end] if end > 0 else text[1:]
    return text


_MAX_DATA_BODY = 4 * 1024 * 1024
_BASE64_TAIL = re.compile(r";\x20*base64$", re.IGNORECASE)
_MIME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def data_url_parts(href: str) -> tuple[str, bytes] | None:
    """(MIME type essence, body bytes) of a parsed data: URL's `href`, as fetch's data:
    URL processor reads it; None if its base64 is broken or the body passes 4 MB."""
    mime, comma, encoded = href[5:].partition(",")
    if not comma:
        return None
    body = unquote_to_bytes(encoded)
    mime = mime.strip(" \t\n\f\r")
    tail = _BASE64_TAIL.search(mime)
    if tail:
        decoded = _forgiving_base64(body)
        if decoded is None:
            return None
        body, mime = decoded, mime[: tail.start()]
    if len(body) > _MAX_DATA_BODY:
        return None
    essence = _MIME.fullmatch(mime.partition(";")[0].strip(" \t\n\r"))
    return (essence.group().lower() if essence else "text/plain"), body


def _forgiving_base64(data: bytes) -> bytes | None:
    data = re.sub(rb"[\t\n\f\r ]+", b"", data)
    if len(data) % 4 == 0 and data.endswith(b"="):
        data = data[:-2] if data.endswith(b"==") else data[:-1]
    if len(data) % 4 == 1 or re.search(rb"[^A-Za-z0-9+/]", data):
        return None
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        return None
