"""A tag too long to hold back whole, read as it streams.

Past the scanner's hold limit a tag is not waited for: its name is reported at once (the
rewriter holds the element back unread, fail closed), then each attribute name is
reported as soon as it is complete, so a fetching attribute is renamed even when it comes
after megabytes of others. Values stream through unread. The states are the tokenizer's
attribute states, so the tag ends exactly where a browser ends it.
"""

from __future__ import annotations

import re

Buffer = bytes | bytearray

_SPACE = re.compile(rb"[\t\n\f\r ]*+")
_SEPARATORS = re.compile(rb"[\t\n\f\r /]*+")
_NAME = re.compile(rb"[^\t\n\f\r />=]*+")
_UNQUOTED = re.compile(rb"[^\t\n\f\r >]*+")
# Attribute names longer than this are none that fetch: they stream unread.
NAME_LIMIT = 64

BEFORE_NAME, NAME, AFTER_NAME, BEFORE_VALUE, DOUBLE, SINGLE, UNQUOTED, LONG_NAME = range(8)


def _run(pattern: re.Pattern[bytes], buf: Buffer, pos: int) -> int:
    """Where a run of `pattern` (which also matches nothing) starting at `pos` ends."""
    found = pattern.match(buf, pos)
    return found.end() if found is not None else pos


class LongTag:
    """The attribute states of one start tag, resumable at any byte."""

    __slots__ = ("state", "name_start", "slash", "names")

    def __init__(self) -> None:
        self.state = BEFORE_NAME
        self.name_start = -1
        self.slash = False  # the last byte before ">" was a self-closing "/"
        self.names: list[bytes] = []

    def shift(self, n: int) -> None:
        if self.name_start >= 0:
            self.name_start -= n

    def step(self, buf: Buffer, pos: int, final: bool, found: list[tuple[int, int]]) -> int:
        """Read from `pos`; append (start, end) of each complete attribute name to
        `found`. Return the end of the tag (after ">"), or -(where to resume) - 1."""
        end = len(buf)
        while pos < end:
            pos, closed = _STATES[self.state](self, buf, pos, found)
            if closed:
                return pos
        if final:
            return -end - 1
        hold = self.name_start if self.state == NAME else pos
        return -hold - 1

    # Each state reads what it can from `pos`: (where it stopped, whether ">" ended the
    # tag there). Stopping at the end of the buffer keeps the state for the next chunk.

    def _before_name(self, buf: Buffer, pos: int, found: list[tuple[int, int]]) -> Step:
        run = _run(_SEPARATORS, buf, pos)
        self.slash = run > pos and buf[run - 1 : run] == b"/"
        if run == len(buf):
            return run, False
        if buf[run : run + 1] == b">":
            return run + 1, True
        self.name_start, self.state = run, NAME
        return run + 1, False  # the first byte of a name may be "=" or a quote

    def _name(self, buf: Buffer, pos: int, found: list[tuple[int, int]]) -> Step:
        pos = _run(_NAME, buf, pos)
        if pos == len(buf):
            if self.state == NAME and pos - self.name_start > NAME_LIMIT:
                self.state = LONG_NAME
            return pos, False
        if self.state == NAME:
            found.append((self.name_start, pos))
            self.names.append(bytes(buf[self.name_start : pos]).lower())
        self.name_start, self.state = -1, AFTER_NAME
        return pos, False

    def _after_name(self, buf: Buffer, pos: int, found: list[tuple[int, int]]) -> Step:
        pos = _run(_SPACE, buf, pos)
        byte = buf[pos : pos + 1]
        if byte == b"=":
            self.state = BEFORE_VALUE
            return pos + 1, False
        if byte == b">":
            return pos + 1, True
        if byte:
            self.state = BEFORE_NAME
        return pos, False

    def _before_value(self, buf: Buffer, pos: int, found: list[tuple[int, int]]) -> Step:
        pos = _run(_SPACE, buf, pos)
        byte = buf[pos : pos + 1]
        if byte == b">":
            return pos + 1, True
        if byte in (b'"', b"'"):
            self.state = DOUBLE if byte == b'"' else SINGLE
            return pos + 1, False
        if byte:
            self.state = UNQUOTED
        return pos, False

    def _quoted(self, buf: Buffer, pos: int, found: list[tuple[int, int]]) -> Step:
        close = buf.find(b'"' if self.state == DOUBLE else b"'", pos)
        if close < 0:
            return len(buf), False
        self.state = BEFORE_NAME
        return close + 1, False

    def _unquoted(self, buf: Buffer, pos: int, found: list[tuple[int, int]]) -> Step:
        pos = _run(_UNQUOTED, buf, pos)
        byte = buf[pos : pos + 1]
        if byte == b">":
            return pos + 1, True
        if byte:
            self.state = BEFORE_NAME
        return pos, False


Step = tuple[int, bool]
_STATES = {
    BEFORE_NAME: LongTag._before_name,
    NAME: LongTag._name,
    LONG_NAME: LongTag._name,
    AFTER_NAME: LongTag._after_name,
    BEFORE_VALUE: LongTag._before_value,
    DOUBLE: LongTag._quoted,
    SINGLE: LongTag._quoted,
    UNQUOTED: LongTag._unquoted,
}
