"""The table of every element and attribute that makes a browser fetch, and its lookup.

It follows the HTML standard (and SVG): which attributes of which elements hold a URL
the browser fetches or navigates to by itself, and how their value is read (one URL, a
srcset, CSS, script, a nested document). fetching.py decides what a tag needs from it;
guard_rules.py writes it into the run-time guard.
"""

from __future__ import annotations

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


def attribute_kind(tag_name: bytes, attribute: bytes, foreign: bool) -> int | None:
    """How `attribute` of `tag_name` fetches, or None if it does not."""
    if is_plain(attribute):
        return plain_kinds(tag_name, foreign).get(attribute)
    return _attribute_kind(tag_name, attribute, foreign)


def plain_kinds(tag_name: bytes, foreign: bool) -> dict[bytes, int]:
    """`attribute_kind` of `tag_name` for every name that fetches and `is_plain`, in
    one dict (the tables merged below): a plain name missing from it does not fetch."""
    tables = _FOREIGN_KINDS if foreign else _HTML_KINDS
    found = tables.get(tag_name)
    return tables[b""] if found is None else found


def is_plain(attribute: bytes) -> bool:
    """Read by its name alone: no XML prefix, no handler, none of our renamed ones."""
    return b":" not in attribute and not attribute.startswith(NOT_PLAIN)


NOT_PLAIN = (b"on", PREFIX)  # the starts of names that are not plain (and ":" anywhere)


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


def _merged(foreign: bool) -> dict[bytes, dict[bytes, int]]:
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
