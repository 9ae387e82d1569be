"""The run-time guard's script: static/guard.js with the server's own rules baked in.

The guard (see guard.js) classifies URLs, inline code and cookie names in the browser
the way `TrackerRules` does on the server. It is given the very tables the server looks
up, written out as JSON into the script text, so there is one rule set, generated at
start-up from the catalogue and the config's `tracker_*` entries; and the content hash
of the script changes whenever the rules do.
"""

from __future__ import annotations

import json

from .config import NECESSARY
from .fetchtable import DOCUMENT, ELEMENT_ATTRIBUTES, FOREIGN_ELEMENT, FRAME, LINK, SRCSET, URL
from .rules import TrackerRules

#: Where guard.js expects its rules; replaced once, at start-up.
RULES_SLOT = b"/*RULES*/null"


# Elements page code may add that fetch by themselves (fetchtable.py's table, less what
# a script cannot add to a live page: <base>, <html manifest>; and data-src, which
# nothing fetches). SVG elements fetch through href and xlink:href.
_NOT_ADDED = (b"base", b"html")
_FETCH_KINDS = (URL, SRCSET, FRAME, LINK, DOCUMENT)


def fetching_elements() -> dict[str, object]:
    """{"html": [[element, [attribute...]]...], "svg": [attribute...], "srcset": [...],
    "documents": [...]} (srcset: a list of URLs; documents: markup, iframe srcdoc)"""
    html = [
        [
            name.decode(),
            [
                a.decode()
                for a, kind in attrs.items()
                if kind in _FETCH_KINDS and not a.startswith(b"data-")
            ],
        ]
        for name, attrs in ELEMENT_ATTRIBUTES.items()
        if name not in _NOT_ADDED
    ]
    srcset = {
        a.decode()
        for attrs in ELEMENT_ATTRIBUTES.values()
        for a, kind in attrs.items()
        if kind == SRCSET
    }
    documents = {
        a.decode()
        for attrs in ELEMENT_ATTRIBUTES.values()
        for a, kind in attrs.items()
        if kind == DOCUMENT
    }
    return {
        "html": [row for row in html if row[1]],
        "documents": sorted(documents),
        "svg": [a.decode() for a, kind in FOREIGN_ELEMENT.items() if kind == URL],
        "srcset": sorted(srcset),
    }


def guard_rules_json(rules: TrackerRules) -> str:
    """The rules as a JSON object literal, safe inside a script (no "</script")."""
    data = {"necessary": NECESSARY, "elements": fetching_elements(), **rules.as_data()}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True, sort_keys=False)
    return text.replace("<", "\\u003c")


def guard_script(template: bytes, rules: TrackerRules) -> bytes:
    """guard.js with `rules` in its slot."""
    if template.count(RULES_SLOT) != 1:
        raise ValueError("guard.js must hold its rules slot exactly once")
    return template.replace(RULES_SLOT, guard_rules_json(rules).encode("ascii"))
