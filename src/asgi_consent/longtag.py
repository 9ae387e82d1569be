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
            state = self.state
            if state == BEFORE_NAME:
                run = _run(_SEPARATORS, buf, pos)
                self.slash = run > pos and buf[run - 1 : run] == b"/"
                pos = run
                if pos == end:
                    break
                if buf[pos : pos + 1] == b">":
                    return pos + 1
                self.name_start, self.state = pos, NAME
                pos += 1  # the first byte of a name may be "=" or a quote
            elif state in (NAME, LONG_NAME):
                pos = _run(_NAME, buf, pos)
                if pos == end:
                    if state == NAME and pos - self.name_start > NAME_LIMIT:
                        self.state = LONG_NAME
                    break
                if state == NAME:
                    found.append((self.name_start, pos))
                    self.names.append(bytes(buf[self.name_start : pos]).lower())
                self.name_start, self.state = -1, AFTER_NAME
            elif state == AFTER_NAME:
                pos = _run(_SPACE, buf, pos)
                if pos == end:
                    break
                byte = buf[pos : pos + 1]
                if byte == b"=":
                    self.state, pos = BEFORE_VALUE, pos + 1
                elif byte == b">":
                    return pos + 1
                else:
                    self.state = BEFORE_NAME
            elif state == BEFORE_VALUE:
                pos = _run(_SPACE, buf, pos)
                if pos == end:
                    break
                byte = buf[pos : pos + 1]
                if byte == b">":
                    return pos + 1
                if byte in (b'"', b"'"):
                    self.state, pos = (DOUBLE if byte == b'"' else SINGLE), pos + 1
                else:
                    self.state = UNQUOTED
            elif state in (DOUBLE, SINGLE):
                close = buf.find(b'"' if state == DOUBLE else b"'", pos)
                if close < 0:
                    pos = end
                    break
                self.state, pos = BEFORE_NAME, close + 1
            else:  # UNQUOTED
                pos = _run(_UNQUOTED, buf, pos)
                if pos == end:
                    break
                if buf[pos : pos + 1] == b">":
                    return pos + 1
                self.state = BEFORE_NAME
        if final:
            return -end - 1
        hold = self.name_start if self.state == NAME else pos
        return -hold - 1
