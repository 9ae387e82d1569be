"""A tag as the scanner reports it, and its attributes as the tokenizer reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .compiled import core

Buffer = bytes | bytearray  # the rewriter's growing input: scanned in place, never copied
_SLASH = ord("/")

_ATTRIBUTE = re.compile(
    rb"""[\t\n\f\r /]*+([^\t\n\f\r />][^\t\n\f\r />=]*+)"""
    rb"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"([^"]*+)"|'([^']*+)'|([^\t\n\f\r >]++)|(?=>)))?"""
)

# A tag after its name, exactly as the tokenizer's attribute states read it: a quote
# opens a value only right after "=", and ">" inside a quoted value does not end the tag.
TAG_TAIL = re.compile(
    rb"""(?:[\t\n\f\r /]++"""
    rb"""|[^\t\n\f\r />][^\t\n\f\r />=]*+"""
    rb"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"]*+"|'[^']*+'|(?!["'])[^\t\n\f\r >]++|(?=>))"""
    rb"""|(?![\t\n\f\r ]*+=)))*+>"""
)
TAG_NAME = re.compile(rb"[^\t\n\f\r />]*+")


class Attribute(NamedTuple):
    """One attribute as the tokenizer reads it: lower-case name, raw value bytes, and
    where its name sits in the buffer (for renames). A tuple: the compiled core makes
    them without a Python call."""

    name: bytes
    value: bytes
    name_start: int
    name_end: int
    unquoted_end: int = -1  # where an unquoted value ends (a "/" there is part of it)
    end: int = -1  # just after the value (or the name, when there is no value)


@dataclass(slots=True)
class Tag:
    """A complete start or end tag found in the buffer."""

    name: bytes
    start: int
    end: int  # just after ">"
    name_end: int
    is_end: bool
    foreign: bool = False  # a start tag that became an SVG or MathML element
    content_end: int | None = None  # raw-text elements: where their content ends
    closed: bool = True  # a raw-text element: its end tag was found (not the end of input)
    # an SVG/MathML element that is raw text in HTML: the open foreign elements after it,
    # so that its content can also be read as the markup it is in foreign content
    dual: tuple[tuple[bytes, int, bytes], ...] | None = None
    long: int = 0  # a tag too long to hold: LONG_START, then LONG_ATTRIBUTE names, LONG_END
    self_closing_flag: bool | None = None
    guess: int = 0  # an end tag inside SVG/MathML: tree.LEFT or tree.STAYED, if guessed
    # raw text that another reading takes for markup (<noscript>, an SVG <style>, ...),
    # reported with its content unread (too long to hold, or its start tag was)
    unread: bool = False
    _attributes: list[Attribute] | None = field(default=None, repr=False)

    def attributes(self, buf: Buffer) -> list[Attribute]:
        """Every attribute, duplicates included (the first of two equal names counts)."""
        if self._attributes is None:
            self._attributes = read_attributes(buf, self.name_end, self.end - 1)
        return self._attributes

    def self_closing(self, buf: Buffer) -> bool:
        """The self-closing flag: "/>" where the "/" does not end an unquoted value."""
        if self.self_closing_flag is not None:
            return self.self_closing_flag
        if self.end - 2 < self.name_end or buf[self.end - 2] != _SLASH:
            return False
        attrs = self.attributes(buf)
        return not attrs or attrs[-1].unquoted_end != self.end - 1


def read_attributes(buf: Buffer, start: int, stop: int) -> list[Attribute]:
    if core is not None:  # the same reading in C (_scanner.c)
        return core.read_attributes(buf, start, stop, Attribute)
    return _read_attributes(buf, start, stop)


def _read_attributes(buf: Buffer, start: int, stop: int) -> list[Attribute]:
    attrs = []
    pos = start
    while pos < stop:
        m = _ATTRIBUTE.match(buf, pos, stop)
        if m is None or m.end() == pos:
            break
        value = m.group(2)
        unquoted_end = -1
        if value is None:
            value = m.group(3)
            if value is None:
                value = m.group(4) or b""
                unquoted_end = m.end(4) if m.group(4) else -1
        name_start, name_end = m.span(1)
        attrs.append(
            Attribute(
                bytes(m.group(1)).lower(), bytes(value), name_start, name_end, unquoted_end, m.end()
            )
        )
        pos = m.end()
    return attrs


def attribute(attrs: list[Attribute], name: bytes) -> Attribute | None:
    """The attribute the DOM keeps for `name`: the first one."""
    for attr in attrs:
        if attr.name == name:
            return attr
    return None


def move_tag(tag: Tag, delta: int) -> None:
    """Shift a tag's positions (the buffer lost bytes at its front)."""
    tag.start += delta
    tag.end += delta
    tag.name_end += delta
    if tag._attributes is not None:
        tag._attributes = None


def tag_span(buf: Buffer, name_start: int) -> tuple[int, int]:
    """Where a tag's name ends, and where the tag ends (after ">"; -1: not in `buf`)."""
    if core is not None:  # the same reading in C (_scanner.c)
        return core.tag_span(buf, name_start)
    name = TAG_NAME.match(buf, name_start)
    name_end = name.end() if name is not None else name_start
    found = TAG_TAIL.match(buf, name_end)
    return name_end, (found.end() if found is not None else -1)
