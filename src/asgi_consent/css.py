"""Every URL a browser could fetch from CSS text, read the way the CSS tokenizer reads it.

https://drafts.csswg.org/css-syntax-3/#tokenization. A stylesheet fetches through url()
tokens and through strings (@import "x", image-set("x" 1x), src: "x" in some engines).
Comments, strings and escapes have to be read in one pass, in order: "/*" inside a string
does not open a comment, and "\\2f\\2a" is an escaped "/*" that does not open one either.
Anything that could be a URL is returned (fail closed); a bad url() or an unterminated
string still counts.
"""

from __future__ import annotations

import re

_NEWLINES = re.compile(r"\r\n?|\f")
_NAME = r"(?:[-\w\u0080-\U0010ffff]|\\(?:[0-9a-fA-F]{1,6}[ \t\n]?|[^\n0-9a-fA-F]))++"
# What yields nothing, stepped over in one match: characters that start no token (a "/"
# that opens no comment, a "\\" that starts no escape), and names not followed by "(".
_NOTHING = r"""(?:[^"'/\\\w\u0080-\U0010ffff-]++|/(?!\*)|\\(?=\n|\Z)|""" + _NAME + r"(?!\())*+"
_TOKEN = re.compile(
    _NOTHING
    + r"""(?:/\*.*?(?:\*/|\Z)"""  # a comment; an unterminated one runs to the end
    r"""|"((?:[^"\\\n]|\\.)*+)"?"""  # a string ends at its quote, a raw newline or the end
    r"""|'((?:[^'\\\n]|\\.)*+)'?"""
    r"""|(""" + _NAME + r""")(\())""",  # a function: its name and "("
    re.DOTALL,
)
_URL_BODY = re.compile(r"((?:[^)\\]|\\.)*+)\)?", re.DOTALL)
_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n]?|(\n)|(.))", re.DOTALL)
_WHITESPACE = " \t\n"


def css_urls(text: str) -> list[str]:
    r"""The values of every url(...) token and every string in `text` (a stylesheet or a
    style="" value), escapes decoded, in order.

    Example: css_urls(r'@import "a.css"; b { background: \75 rl( x.png ) }')
    == ["a.css", "x.png"].
    """
    if "(" not in text and '"' not in text and "'" not in text:
        return []  # no string and no url(: an escaped quote or "(" would be part of a name
    if "\r" in text or "\f" in text:
        text = _NEWLINES.sub("\n", text)
    text = text.replace("\x00", "\ufffd")
    urls: list[str] = []
    at = 0
    while True:
        token = _TOKEN.match(text, at)
        if token is None:
            return urls
        at = token.end()
        double, single, name, paren = token.groups()
        if double is not None or single is not None:
            urls.append(_unescape(double if double is not None else single))
        elif paren and _unescape(name).lower() == "url":
            start = at
            while start < len(text) and text[start] in _WHITESPACE:
                start += 1
            if text[start : start + 1] in ('"', "'"):
                continue  # url("x") is a function holding a string, read next
            body = _URL_BODY.match(text, start)
            if body is not None:
                at = body.end()
                urls.append(_unescape(body.group(1).rstrip(_WHITESPACE)))


def _unescape(text: str) -> str:
    return _ESCAPE.sub(_escaped, text) if "\\" in text else text


def _escaped(match: re.Match[str]) -> str:
    digits, newline, char = match.groups()
    if digits is not None:
        code = int(digits, 16)
        return "\ufffd" if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF else chr(code)
    return "" if newline is not None else char
