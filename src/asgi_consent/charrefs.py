"""Attribute values as the HTML tokenizer hands them to the DOM.

https://html.spec.whatwg.org/multipage/parsing.html#character-reference-state, with the
return state "attribute value": `https&#58;//`, `&#47;&#47;` and `www&#46;example&#46;com`
are the URLs a browser fetches, so every URL is read after this step. `urls.py` re-exports
`decode_attribute`.
"""

from __future__ import annotations

import re
from html.entities import html5

# Numeric references to C1 controls mean the windows-1252 character (the tokenizer's table).
_WINDOWS_1252 = {
    byte: ord(bytes([byte]).decode("cp1252"))
    for byte in range(0x80, 0xA0)
    if byte not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)  # the five cp1252 leaves undefined
}
_LONGEST_NAME = max(map(len, html5))
_REFERENCE = re.compile(r"&(?:#[xX]([0-9A-Fa-f]+);?|#([0-9]+);?|([A-Za-z0-9]+)(;?))")
_NEWLINES = re.compile(r"\r\n?")


def decode_attribute(raw: bytes, encoding: str = "utf-8") -> str:
    """The DOM value of an attribute whose bytes in the page are `raw`.

    Decodes with `encoding` (unknown names fall back to UTF-8; bad bytes become U+FFFD),
    normalizes newlines, replaces NUL, then expands character references the way the
    tokenizer does inside an attribute value: "&copy=1" stays, "&amp" and "&#58" expand.

    Example: decode_attribute(b"https&#58;&#x2F;/a&#46;b?x=1&copy=2") == "https://a.b?x=1&copy=2".
    """
    try:
        text = raw.decode(encoding, "replace")
    except (LookupError, ValueError):  # not a text encoding, or one that cannot replace
        text = raw.decode("utf-8", "replace")
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if "&" not in text:
        return text
    return _REFERENCE.sub(lambda match: _expand(match, text), text)


def _expand(match: re.Match[str], text: str) -> str:
    hexadecimal, decimal, name, semicolon = match.groups()
    if name is None:
        return _numeric(hexadecimal or decimal, 16 if hexadecimal else 10)
    if semicolon and name + ";" in html5:
        return html5[name + ";"]
    # The longest name without ';' that prefixes the run ("&notin" is "&not" + "in").
    for length in range(min(len(name), _LONGEST_NAME), 1, -1):
        if name[:length] in html5:
            break
    else:
        return match.group()
    if length < len(name):
        following = name[length]
    else:
        following = semicolon or text[match.end() : match.end() + 1]
    if following == "=" or following.isascii() and following.isalnum():
        return match.group()  # "&copy=1" in an attribute is kept for old query strings
    return html5[name[:length]] + name[length:] + semicolon


def _numeric(digits: str, radix: int) -> str:
    digits = digits.lstrip("0")
    if len(digits) > 8:
        return "\ufffd"  # far above U+10FFFF; skip converting a huge number
    code = int(digits or "0", radix)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(_WINDOWS_1252.get(code, code))
