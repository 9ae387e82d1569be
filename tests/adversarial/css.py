"""The URLs a style sheet may fetch, read with the CSS Syntax tokenizer's rules.

Only what decides where a URL is: comments, strings (escapes, line continuations, a raw
newline making a bad string), identifiers with escapes (`u\\72l(` is `url(`), and url
tokens (whitespace inside, quotes or parentheses make a bad url that fetches nothing).
A string counts inside a function that takes an image or URL (`url("...")`,
`image-set("...")`) or right after `@import`; anywhere else it fetches nothing.
"""

from __future__ import annotations

_WHITESPACE = " \t\n\r\x0c"
FETCHING_FUNCTIONS = frozenset(
    ["url", "src", "image", "image-set", "-webkit-image-set", "cross-fade", "-webkit-cross-fade"]
)
_HEX = "0123456789abcdefABCDEF"


def _is_name(char: str) -> bool:
    return char.isalnum() and char.isascii() or char in "-_" or ord(char) >= 0x80


def _valid_escape(css: str, at: int) -> bool:
    return css.startswith("\\", at) and at + 1 < len(css) and css[at + 1] not in "\n\r\x0c"


def _escape(css: str, at: int) -> tuple[str, int]:
    """Decode the escape whose backslash is at `at`; return (char, position after it)."""
    at += 1
    if at >= len(css):
        return "\ufffd", at
    digits = ""
    while at < len(css) and len(digits) < 6 and css[at] in _HEX:
        digits += css[at]
        at += 1
    if not digits:
        return css[at], at + 1
    if at < len(css) and css[at] in _WHITESPACE:
        at += 2 if css.startswith("\r\n", at) else 1
    code = int(digits, 16)
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return "\ufffd", at
    return chr(code), at


def _string(css: str, at: int) -> tuple[str | None, int]:
    """A string token from its opening quote; None for a bad string (raw newline)."""
    quote = css[at]
    at += 1
    out: list[str] = []
    while at < len(css):
        char = css[at]
        if char == quote:
            return "".join(out), at + 1
        if char in "\n\r\x0c":
            return None, at
        if char == "\\":
            if at + 1 >= len(css):
                at += 1
            elif css[at + 1] in "\n\r\x0c":
                at += 3 if css.startswith("\r\n", at + 1) else 2  # line continuation
            else:
                decoded, at = _escape(css, at)
                out.append(decoded)
            continue
        out.append(char)
        at += 1
    return "".join(out), at


def _name(css: str, at: int) -> tuple[str, int]:
    out = []
    while at < len(css):
        if _valid_escape(css, at):
            decoded, at = _escape(css, at)
            out.append(decoded)
        elif _is_name(css[at]):
            out.append(css[at])
            at += 1
        else:
            break
    return "".join(out), at


def _url_token(css: str, at: int) -> tuple[str | None, int]:
    """An unquoted url( ... ) from after the "("; None for a bad url."""
    while at < len(css) and css[at] in _WHITESPACE:
        at += 1
    out: list[str] = []
    while at < len(css):
        char = css[at]
        if char == ")":
            return "".join(out), at + 1
        if char in _WHITESPACE:
            while at < len(css) and css[at] in _WHITESPACE:
                at += 1
            if at >= len(css) or css[at] == ")":
                return "".join(out), at + 1
            return None, _skip_bad_url(css, at)
        if char in "\"'(" or ord(char) < 0x09 or 0x0E <= ord(char) < 0x20 or ord(char) == 0x7F:
            return None, _skip_bad_url(css, at)
        if char == "\\":
            if not _valid_escape(css, at):
                return None, _skip_bad_url(css, at)
            decoded, at = _escape(css, at)
            out.append(decoded)
            continue
        out.append(char)
        at += 1
    return "".join(out), at


def _skip_bad_url(css: str, at: int) -> int:
    while at < len(css) and css[at] != ")":
        at += 2 if _valid_escape(css, at) else 1
    return at + 1


def _quoted_url_follows(css: str, at: int) -> bool:
    while at < len(css) and css[at] in _WHITESPACE:
        at += 1
    return at < len(css) and css[at] in "\"'"


def import_urls(css: str) -> list[str]:
    """The URLs of the @import rules at the start of `css`: what Chromium's preload scanner
    fetches from a `<style>` whatever its type. It reads past white space, comments and
    @charset and @layer statements, and stops at the first other rule."""
    found: list[str] = []
    at = 0
    while at < len(css):
        if css[at] in _WHITESPACE:
            at += 1
        elif css.startswith("/*", at):
            end = css.find("*/", at + 2)
            at = len(css) if end < 0 else end + 2
        elif css[at] == "@":
            name, after = _name(css, at + 1)
            end = _statement_end(css, after)
            if name.lower() not in ("import", "charset", "layer") or css[end : end + 1] == "{":
                break
            found += urls(css[at:end], imports_only=True)
            at = end + 1
        else:
            break
    return found


def _statement_end(css: str, at: int) -> int:
    """Where the at-rule whose prelude starts at `at` ends: its ";" or "{" (or the end)."""
    depth = 0
    while at < len(css):
        char = css[at]
        if char in "\"'":
            _, at = _string(css, at)
            continue
        if css.startswith("/*", at):
            end = css.find("*/", at + 2)
            at = len(css) if end < 0 else end + 2
            continue
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char in ";{" and not depth:
            return at
        at += 1
    return at


def urls(css: str, *, imports_only: bool = False) -> list[str]:
    """Every URL `css` may fetch: url tokens, and strings inside url(), image-set() and
    the like or right after @import; escapes decoded. `imports_only`: those in the
    prelude of an @import rule only."""
    found: list[str] = []
    functions: list[str] = []  # the open functions and parentheses, innermost last
    after_import = in_import = False
    at = 0
    while at < len(css):
        char = css[at]
        if css.startswith("/*", at):
            end = css.find("*/", at + 2)
            at = len(css) if end < 0 else end + 2
        elif char in "\"'":
            text, at = _string(css, at)
            fetched = after_import or FETCHING_FUNCTIONS.intersection(functions)
            if text is not None and fetched and (in_import or not imports_only):
                found.append(text)
            after_import = False
        elif char == "@":
            name, at = _name(css, at + 1)
            after_import = in_import = name.lower() == "import"
        elif _is_name(char) or _valid_escape(css, at):
            name, at = _name(css, at)
            if not css.startswith("(", at):
                continue
            if name.lower() == "url" and not _quoted_url_follows(css, at + 1):
                text, at = _url_token(css, at + 1)
                if text is not None and (in_import or not imports_only):
                    found.append(text)
                after_import = False
            else:
                functions.append(name.lower())
                at += 1
        else:
            if char == "(":
                functions.append("")
            elif char == ")" and functions:
                functions.pop()
            elif char in ";{}":
                after_import = in_import = False
            at += 1
    return found
