"""The few tree-construction facts that change how the HTML tokenizer reads what follows.

A start tag switches the tokenizer to raw text (`<style>`, `<script>`, ...) only in HTML
content: inside `<svg>` or `<math>` the same tags are ordinary elements, and `<![CDATA[`
opens a CDATA section. Some HTML start and end tags break out of foreign content;
integration points (`<foreignObject>`, `<mi>`, ...) hold HTML content again. After an
honoured `<frameset>`, every start tag but `frame`, `frameset` and `noframes` is ignored.
This module models exactly those facts, as the HTML standard's tree builder decides them,
and nothing else of the tree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .charrefs import decode_attribute

if TYPE_CHECKING:
    from .tags import Buffer, Tag

RAWTEXT, SCRIPT, PLAINTEXT = 1, 2, 3
# An end tag inside SVG or MathML that only our count of open elements decided (see
# end_tag): it LEFT foreign content, or it STAYED in it.
LEFT, STAYED = 1, 2
FOREIGN, HTML_POINT, TEXT_POINT, HTML_INSIDE = 0, 1, 2, 3
_STACK_LIMIT = 512
_NAME_LIMIT = 4096  # distinct element names counted (custom elements included)

RAW_TEXT_ELEMENTS = {
    b"script": SCRIPT,
    b"style": RAWTEXT,
    b"xmp": RAWTEXT,
    b"iframe": RAWTEXT,
    b"noembed": RAWTEXT,
    b"noframes": RAWTEXT,
    b"noscript": RAWTEXT,  # scripting on: what a browser with JavaScript does
    b"title": RAWTEXT,  # RCDATA: character references do not move its end
    b"textarea": RAWTEXT,
    b"plaintext": PLAINTEXT,
}
# Start tags that leave foreign content (the HTML standard, "parsing main inforeign").
BREAKOUT = frozenset(
    b"b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr "
    b"i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup "
    b"table tt u ul var".split()
)
VOID = frozenset(
    b"area base basefont bgsound br col embed frame hr image img input keygen link meta "
    b"param source track wbr".split()
)
# Start tags after which a <frameset> is ignored (they set frameset-ok to "not ok").
FRAMESET_KILLERS = frozenset(
    b"applet area body br button dd dt embed hr iframe image img input keygen li listing "
    b"marquee object pre select table template textarea wbr xmp".split()
)
_SVG_POINTS = frozenset({b"foreignobject", b"desc", b"title"})
_MATH_TEXT_POINTS = frozenset({b"mi", b"mo", b"mn", b"ms", b"mtext"})
_FONT_BREAKOUT = frozenset({b"color", b"face", b"size"})


class TreeModel:
    """Foreign content, integration points and frameset mode, tag by tag."""

    __slots__ = ("xml", "foreign", "open", "frameset_ok", "in_frameset", "guessed")

    def __init__(self, *, xml: bool = False) -> None:
        self.xml = xml
        # open SVG/MathML elements and what they hold: (name, kind, namespace)
        self.foreign: list[tuple[bytes, int, bytes]] = []
        # How many HTML elements of each name are open outside foreign content (an end
        # tag inside SVG closes it when such an element is open around it).
        self.open: Counter[bytes] = Counter()
        self.frameset_ok = True
        self.in_frameset = False
        self.guessed = 0  # the last end tag's guess: 0, LEFT or STAYED

    def cdata_allowed(self) -> bool:
        """Whether `<![CDATA[` opens a CDATA section here (foreign content only)."""
        return self.xml or (bool(self.foreign) and self.foreign[-1][1] != HTML_INSIDE)

    def in_foreign(self) -> bool:
        return bool(self.foreign) and self.foreign[-1][1] != HTML_INSIDE

    def start_tag(self, tag: Tag, buf: Buffer) -> tuple[int, bytes] | None:
        """Record a start tag; return the tokenizer state it switches to, if any."""
        if self.xml:
            tag.foreign = False
            return None
        name = tag.name
        if self.in_frameset:
            return (RAWTEXT, name) if name == b"noframes" else None
        if self.foreign and not self._as_html(name):
            if name in BREAKOUT or (name == b"font" and self._font_breaks_out(tag, buf)):
                self._pop_foreign()
            else:
                tag.foreign = True
                if tag.self_closing(buf):
                    return None
                self._push(name, self._kind(name, tag, buf), self.foreign[-1][2])
                switch = RAW_TEXT_ELEMENTS.get(name)
                if switch is None or switch == PLAINTEXT:
                    return None
                # Raw text if we are wrong about being in SVG, markup if we are right:
                # read as raw text here, and the rewriter reads its content as markup too.
                tag.dual = tuple(self.foreign)
                return switch, name
        return self._html_start(tag, buf)

    def _as_html(self, name: bytes) -> bool:
        top, kind, namespace = self.foreign[-1]
        if top == b"annotation-xml" and name == b"svg":
            return True  # the one start tag an annotation-xml hands to the HTML rules
        if kind == TEXT_POINT:
            return name not in (b"mglyph", b"malignmark")
        return kind != FOREIGN

    def _html_start(self, tag: Tag, buf: Buffer) -> tuple[int, bytes] | None:
        name = tag.name
        if name in (b"svg", b"math"):
            tag.foreign = True
            if not tag.self_closing(buf):
                self._push(name, FOREIGN, name)
            return None
        if name in FRAMESET_KILLERS and not (name == b"input" and _hidden_input(tag, buf)):
            self.frameset_ok = False
        elif name == b"frameset" and self.frameset_ok and not self.foreign:
            self.in_frameset = True
            return None
        if name not in VOID:
            if self.foreign:
                self._push(name, HTML_INSIDE, b"html")
            else:
                self.opened((name,))
        switch = RAW_TEXT_ELEMENTS.get(name)
        return (switch, name) if switch is not None else None

    def end_tag(self, name: bytes) -> None:
        """Record an end tag. Inside SVG or MathML, an end tag naming no open foreign
        element closes them all when an HTML element of its name is open around them;
        whether one is, our count of open elements can only guess (the tree builder
        closes and opens elements no tag names: a <span> by its parent's </div>, a
        <tbody> for a <tr>), so `guessed` says so, and the rewriter makes the browser
        agree with the guess (see rewrite.py)."""
        self.guessed = 0
        if self.xml or self.in_frameset:
            return
        if name == b"br":
            self.frameset_ok = False  # "</br>" is read as "<br>"
        if not self.foreign:
            self.closed((name,))
            return
        if self.foreign[-1][1] != HTML_INSIDE:
            if name in (b"br", b"p"):
                self._pop_foreign()
                return
            for at in range(len(self.foreign) - 1, -1, -1):
                entry_name, kind, _ = self.foreign[at]
                if kind == HTML_INSIDE:
                    break
                if entry_name == name:
                    del self.foreign[at:]
                    return
        self._html_end(name)

    def _html_end(self, name: bytes) -> None:
        """An end tag handed to the HTML rules: it closes the nearest open element of
        that name unless an integration point (a "special" element) comes first."""
        if name in (b"body", b"html"):
            return  # they change the insertion mode, not the open elements
        for at in range(len(self.foreign) - 1, -1, -1):
            entry_name, kind, _ = self.foreign[at]
            if kind == HTML_INSIDE and entry_name == name:
                del self.foreign[at:]
                return
            if kind in (HTML_POINT, TEXT_POINT):
                return
        if self.open[name] > 0:  # an ancestor of the <svg> or <math>: closes them all
            self.foreign.clear()
            self.closed((name,))
            self.guessed = LEFT
        else:
            self.guessed = STAYED

    def leave_foreign(self) -> None:
        """Leave SVG and MathML altogether (the rewriter makes the browser leave too)."""
        if self.foreign and self.foreign[-1][1] != HTML_INSIDE:
            self.foreign.clear()
            self.guessed = LEFT

    def counted(self, counts: Mapping[bytes, int], lows: Mapping[bytes, int]) -> None:
        """A run's start tags less its end tags, by name, and the lowest that balance
        fell to where it fell below 0: as opened() or closed() of each tag in turn (an
        end tag with no element of its name open closes nothing: "</p><p>" leaves one
        open). Past the name limit, only the names the run leaves fewer of count."""
        counts_open = self.open
        room = len(counts_open) < _NAME_LIMIT
        for name, n in counts.items():
            if room or n < 0:
                left = n + max(counts_open.get(name, 0), -lows.get(name, 0))
                if left > 0:
                    counts_open[name] = left
                else:
                    counts_open.pop(name, None)
        if room:  # the names the run left balanced, but only after falling below 0
            for name, low in lows.items():
                if name not in counts and -low > counts_open.get(name, 0):
                    counts_open[name] = -low

    def opened(self, names: Iterable[bytes]) -> None:
        """Count start tags of HTML elements (names lower case; void ones are harmless)."""
        counts = self.open
        if len(counts) < _NAME_LIMIT:
            for name in names:  # (Counter.update costs more than this for a name or two)
                counts[name] = counts.get(name, 0) + 1

    def closed(self, names: Iterable[bytes]) -> None:
        """Count end tags, each in turn: one with no element of its name open closes
        nothing (the name is forgotten at 0)."""
        counts = self.open
        for name in names:
            if counts[name] > 1:
                counts[name] -= 1
            else:
                counts.pop(name, None)

    def _pop_foreign(self) -> None:
        while self.foreign and self.foreign[-1][1] == FOREIGN:
            self.foreign.pop()

    def _push(self, name: bytes, kind: int, namespace: bytes) -> None:
        if len(self.foreign) >= _STACK_LIMIT:
            del self.foreign[1 : _STACK_LIMIT // 2]  # keep the root and the innermost
        self.foreign.append((name, kind, namespace))

    def _kind(self, name: bytes, tag: Tag, buf: Buffer) -> int:
        namespace = self.foreign[-1][2]
        if namespace == b"svg":
            return HTML_POINT if name in _SVG_POINTS else FOREIGN
        if name in _MATH_TEXT_POINTS:
            return TEXT_POINT
        if name == b"annotation-xml":
            for attr in tag.attributes(buf):
                if attr.name == b"encoding":  # compared exactly, character references read
                    encoding = decode_attribute(attr.value).lower()
                    if encoding in ("text/html", "application/xhtml+xml"):
                        return HTML_POINT
                    break
        return FOREIGN

    @staticmethod
    def _font_breaks_out(tag: Tag, buf: Buffer) -> bool:
        return any(attr.name in _FONT_BREAKOUT for attr in tag.attributes(buf))



def _hidden_input(tag: Tag, buf: Buffer) -> bool:
    """`<input type=hidden>` leaves a later <frameset> honoured (frameset-ok stays)."""
    for attr in tag.attributes(buf):
        if attr.name == b"type":
            return decode_attribute(attr.value).lower() == "hidden"
    return False
