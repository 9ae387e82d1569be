"""Byte-level HTML pieces for the rewriter: where tags that matter start and end, the
attributes of one tag, edits to one tag, and the checks around raw text and </body>.

All of it works on bytes and on a lower-cased copy with the same offsets.
"""

from __future__ import annotations

import re

HOLD_LIMIT = 64 * 1024

# Start or end of a tag that matters, in the lower-cased buffer. The lookahead needs
# one byte after the name, so a name cut by a chunk boundary is simply not matched yet.
MARKER = re.compile(
    rb"<(?:!--|(/)(body)(?=[\s/>])"  # of end tags only </body> matters
    rb"|()(s(?:cript|tyle)|i(?:mg|frame)|noscript|link|body|head|t(?:itle|extarea)|xmp)"
    rb"(?=[\s/>]))"
)
# The rest of a tag after its name: quotes count only as attribute values.
TAG_REST = re.compile(rb"""(?:[^>"'=]++|=\s*+(?:"[^"]*+"|'[^']*+'|(?!["']))|["'])*+>""")
ATTRIBUTE = re.compile(
    rb"""([^\s"'>/=][^\s"'>/=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?"""
)
COMMENT_END = re.compile(rb"--!?>")
TAG_NAME_END = frozenset(b" \t\n\r\f/>")


class Attributes:
    """The attributes of one tag (values from the lower-cased copy; first one wins)."""

    __slots__ = ("values", "_tag", "_start")

    def __init__(self, lower_tag: bytes, start: int) -> None:
        self._tag = lower_tag
        self._start = start
        self.values: dict[bytes, bytes] = {}
        for name, double, single, bare in ATTRIBUTE.findall(lower_tag, start):
            if name not in self.values:
                self.values[name] = (double or single or bare).strip()

    def get(self, name: bytes) -> bytes | None:
        return self.values.get(name)

    def __contains__(self, name: bytes) -> bool:
        return name in self.values

    def span(self, name: bytes) -> tuple[int, int]:
        """Where attribute `name` (name and value) sits in the tag; only for edits."""
        for m in ATTRIBUTE.finditer(self._tag, self._start):
            if m.group(1) == name:
                return m.start(), m.end()
        raise KeyError(name)


def escape_attr(value: bytes) -> bytes:
    return value.replace(b"&", b"&amp;").replace(b'"', b"&quot;").replace(b"<", b"&lt;")


def edit_tag(
    tag: bytes,
    attrs: Attributes,
    name_length: int,
    *,
    rename: dict[bytes, bytes],
    add: bytes,
) -> bytes:
    """`tag` with some attribute names renamed and `add` put right after the tag name."""
    edits = sorted(
        (at, at + len(old), new)
        for old, new in rename.items()
        if old in attrs
        for at in (attrs.span(old)[0],)
    )
    out = [tag[: 1 + name_length], add]
    at = 1 + name_length
    for start, end, replacement in edits:
        out += (tag[at:start], replacement)
        at = end
    out.append(tag[at:])
    return b"".join(out)


def set_script_type(tag: bytes, attrs: Attributes, script_type: bytes) -> bytes:
    start, end = attrs.span(b"type")
    if script_type:
        return tag[:start] + b'type="' + escape_attr(script_type) + b'"' + tag[end:]
    return tag[:start].rstrip() + tag[end:]


RAW_TEXT_PAIRS = (
    (b"<!--", b"-->"),
    (b"<!--", b"--!>"),
    (b"<script", b"</script"),
    (b"<style", b"</style"),
    (b"<textarea", b"</textarea"),
    (b"<title", b"</title"),
    (b"<xmp", b"</xmp"),
)


# How much of the page after a </body> is read to judge whether it is the real one.
BODY_END_WINDOW = 4096


def judge_body_end(data: bytes, at: int, final: bool) -> bool | None:
    """Whether the "</body" at `at` is a real end tag (True), lies inside a comment or
    raw text (False: something after it closes one it did not open), or cannot be told
    yet (None: fewer than BODY_END_WINDOW bytes follow it and more may come)."""
    window = data[at : at + BODY_END_WINDOW].lower()
    if closes_unopened(window, 0):
        return False
    return True if final or len(window) == BODY_END_WINDOW else None


def closes_unopened(lower: bytes, start: int) -> bool:
    """Whether lower[start:] ends a comment or raw-text element it did not open, i.e.
    `start` lies inside one. Cheap: `start` is near the end of the document."""
    for opener, closer in RAW_TEXT_PAIRS:
        close = lower.find(closer, start)
        if close >= 0 and lower.find(opener, start, close) < 0:
            return True
    return False


def unfinished_tag_start(data: bytes, pos: int, end: int) -> int:
    """Where an unfinished tag near the end starts ("<scri", "</bo", '<div title="<ifr'),
    so that it is held back whole for the next chunk; `end` if there is none. Looks at
    the last few "<" only: an unfinished tag may hold a complete-looking one."""
    floor = max(pos, end - HOLD_LIMIT)
    hold = at = end
    for _ in range(4):
        lt = data.rfind(b"<", floor, at)
        if lt < 0:
            break
        follower = data[lt + 1 : lt + 2]
        if lt + 1 == end or (
            (follower.isalpha() or follower in (b"/", b"!"))
            and TAG_REST.match(data, lt + 1, end) is None
        ):
            hold = lt
        at = lt
    return hold


def last_body_end(data: bytes, end: int) -> int:
    """The last "</body" (any case) before `end`, searching back from there: on a real
    page it is among the last few end tags, so this reads a few bytes, not the page."""
    at = end
    for _ in range(64):
        at = data.rfind(b"</", 0, at)
        if at < 0:
            return -1
        if data[at + 2 : at + 6].lower() == b"body":
            return at
    return data[:at].lower().rfind(b"</body")
