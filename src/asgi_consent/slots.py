"""Slots in our cached markup: the per-request values (the `next` path, the consent id)
filled into a template rendered once per language and choice, as HTML or as the inside
of a JSON string."""

from __future__ import annotations

import json
import re
from html import escape
from urllib.parse import quote

NEXT = "\x00next\x00"  # slot for the per-request `next` path; never in escaped text
NEXT_QUERY = "\x00query\x00"  # the same path, as the `next` query of a link
ID = "\x00id\x00"  # slot for the visitor's consent id, after a choice


def html_escaped(text: str) -> str:
    """`text` escaped for HTML text and quoted attribute values."""
    return escape(text, quote=True)


def slot_values(next_path: str, consent_id: str | None) -> dict[str, str]:
    """What goes into each slot for this request: the `next` path and consent id, escaped."""
    shown = ""
    if consent_id:
        shown = f'<p class="asgi-consent__id">ID: <code>{html_escaped(consent_id)}</code></p>'
    return {
        NEXT_QUERY: html_escaped(quote(next_path, safe="/")),
        NEXT: html_escaped(next_path),
        ID: shown,
    }


def fill(template: str, next_path: str, consent_id: str | None) -> str:
    """`template` with the request's `next` path and consent id (if any) in their slots."""
    values = slot_values(next_path, consent_id)
    return (
        template.replace(NEXT_QUERY, values[NEXT_QUERY])
        .replace(NEXT, values[NEXT])
        .replace(ID, values[ID])
    )


_SLOT = re.compile("(" + "|".join(map(re.escape, (NEXT_QUERY, NEXT, ID))) + ")")


def json_text(text: str) -> str:
    """`text` as the inside of a JSON string, as `json.dumps(..., ensure_ascii=False)`
    writes it (each character on its own: the pieces of a text join into the whole)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def json_pieces(template: str) -> list[str]:
    """`template` split at its slots, each text already a JSON string's inside: a slot
    (odd places) is filled per request, the 4 KB around it is escaped once."""
    return [
        piece if index % 2 else json_text(piece)
        for index, piece in enumerate(_SLOT.split(template))
    ]
