"""Link header fields (RFC 8288) read the way a browser may read them, and the
link-values of refused trackers taken out."""

from __future__ import annotations

import re
from collections.abc import Callable

from .attribute_urls import srcset_urls

_REL = re.compile(rb"""(?:^|;)[ \t]*rel[ \t]*=[ \t]*(?:"([^"]*)"|([^;,]*))""", re.IGNORECASE)
# A preload's image candidates (Chromium preloads one of them, as from <link imagesrcset>).
_SRCSET = re.compile(
    rb"""(?:^|;)[ \t]*imagesrcset[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^;,]*))""", re.I | re.S
)


def split_link_values(value: bytes) -> list[bytes]:
    """The link-values of one Link header: commas outside `<...>` and quoted strings."""
    parts: list[bytes] = []
    start = position = 0
    end = len(value)
    while position < end:
        byte = value[position]
        if byte == 0x3C:  # "<": a URI reference runs to ">"
            close = value.find(b">", position)
            position = end if close < 0 else close + 1
            continue
        if byte == 0x22:  # a quoted string, with backslash escapes
            position += 1
            while position < end and value[position] != 0x22:
                position += 2 if value[position] == 0x5C else 1
        elif byte == 0x2C:
            parts.append(value[start:position])
            start = position + 1
        position += 1
    parts.append(value[start:])
    return [part.strip(b" \t") for part in parts if part.strip(b" \t")]


def link_targets(link_value: bytes) -> tuple[list[str], frozenset[str]]:
    """(every URL a browser might read in one link-value, its rel tokens).

    Every `<...>` counts, not only the first: where our split and a browser's disagree,
    the URL is still seen; so does every candidate of an `imagesrcset` parameter. Non-ASCII
    bytes are read both as UTF-8 and as Latin-1.
    """
    urls: list[str] = []
    position = link_value.find(b"<")
    while position >= 0:
        close = link_value.find(b">", position + 1)
        raw = link_value[position + 1 : close if close >= 0 else len(link_value)]
        urls.append(raw.decode("utf-8", "replace"))
        if not raw.isascii():
            urls.append(raw.decode("latin-1"))
        position = link_value.find(b"<", position + 1)
    rels: set[str] = set()
    params = link_value[link_value.rfind(b">") + 1 :] if b">" in link_value else link_value
    for found in _SRCSET.finditer(link_value):  # all of it: a quoted value may hold ">"
        raw = found.group(1) if found.group(1) is not None else found.group(2)
        urls += srcset_urls(re.sub(rb"\\(.)", rb"\1", raw, flags=re.S).decode("utf-8", "replace"))
    for found in _REL.finditer(params):
        text = (found.group(1) if found.group(1) is not None else found.group(2)) or b""
        rels.update(text.decode("latin-1").lower().split())
    return urls, frozenset(rels)


def filter_link_header(
    value: bytes, refused: Callable[[str, frozenset[str]], bool]
) -> bytes | None:
    """`value` without the link-values whose URL `refused(url, rels)` says is refused;
    None when nothing is left. Unchanged values come back as the same object."""
    parts = split_link_values(value)
    kept = []
    for part in parts:
        urls, rels = link_targets(part)
        if not any(refused(url, rels) for url in urls):
            kept.append(part)
    if len(kept) == len(parts):
        return value
    return b", ".join(kept) if kept else None


