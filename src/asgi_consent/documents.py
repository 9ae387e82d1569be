"""Document or fragment: what the start of an HTML response says.

A response is a whole page when, after an optional byte order mark, white space,
comments, a DOCTYPE or `<?xml?>`, it starts with a DOCTYPE, `<html>`, `<head>`, `<body>`,
or what only a document's head holds; anything else is a fragment (README, "Fragment or
page"). The request's own headers are read elsewhere (`fragments.py`).
"""

from __future__ import annotations

import re

from .tags import Tag

# What may come before a document's first tag: BOM, spaces, comments, DOCTYPE, <?xml?>.
# (A comment runs to its first "-->", read a run of non-dashes at a time.)
_PROLOGUE = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:[\t\n\f\r ]++|<!--[^-]*+(?:-(?!->)[^-]*+)*+-->"
    rb"|<![dD][oO][cC][tT][yY][pP][eE][^>]*+>|<\?[^>]*+>)*+",
    re.S,
)
_DOCTYPE = re.compile(rb"<!doctype", re.I)
# A first tag that opens a document: <html>, <head>, <body>, or what only a document's
# head holds (a page without them starts "<meta charset=utf-8><title>").
_DOCUMENT_TAGS = frozenset({b"html", b"head", b"body", b"meta", b"title", b"base"})


def has_doctype(text: bytes) -> bool:
    """Whether `text` holds a DOCTYPE anywhere (the start of a page we could not place)."""
    return _DOCTYPE.search(text) is not None


def starts_document(before: bytes, tag: Tag) -> bool:
    """Whether the first tag (with `before` all that precedes it) opens a document."""
    prologue = _PROLOGUE.match(before)
    assert prologue is not None
    if _DOCTYPE.search(before, 0, prologue.end()):
        return True
    return prologue.end() == len(before) and not tag.is_end and tag.name in _DOCUMENT_TAGS
