"""The scanner's fast path: one regex call steps over text and tags that cannot matter.

In HTML content (not inside SVG or MathML, no frameset possible), most of a page is text
and tags such as `<p>`, `<a href>` or `</div>`: they switch no tokenizer state and fetch
nothing. `skip()` returns where the first construct that might matter starts: a tag
whose name changes the tokenizer or the page (script, style, svg, body, ...), a tag with
an attribute that fetches (src, style, on*, ...), a comment or declaration, or an
unfinished tag at the end of the buffer. The tags it steps over follow the tokenizer's
grammar exactly (quotes, `>` in values), so the slow path resumes at a true boundary.

The open HTML elements it steps over are still recorded (an end tag inside SVG closes it
only if an element of that name is open around it).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain, repeat

from .compiled import core
from .tree import FRAMESET_KILLERS, TreeModel

Buffer = bytes | bytearray

_SPACE = rb"[\t\n\f\r ]"
_NAME_END = rb"(?=[\t\n\f\r />])"
# Elements that switch the tokenizer, open foreign content, or shape the page; and those
# that fetch through an attribute not listed below (link and base href, meta content).
_TOKENIZER_NAMES = (
    rb"script|style|title|textarea|xmp|iframe|noembed|noframes|noscript|plaintext|svg|math"
    rb"|frameset|body|head|html"
)
_FETCHING_NAMES = _TOKENIZER_NAMES + rb"|link|base|meta"
# Attributes that fetch, in HTML or SVG (fetchtable.py's table; href also means a link on
# <a> and <area>, whose tags are read with the list without it).
_NAVIGATION = rb"src|srcset|poster|data|background|style|srcdoc|ping|imagesrcset|attributionsrc"
_FETCHING_ANYWHERE = (
    _NAVIGATION + rb"|manifest|on[^\t\n\f\r />=]*+|data-consent[^\t\n\f\r />=]*+|to|from|by"
    rb"|values|fill|stroke|filter|mask|clip-path|cursor|marker-start|marker-mid|marker-end"
)
_FETCHING = rb"(?:" + _FETCHING_ANYWHERE + rb"|href|xlink:href)(?=[\t\n\f\r />=])"
_FETCHING_ON_LINKS = rb"(?:" + _FETCHING_ANYWHERE + rb")(?=[\t\n\f\r />=])"
_VALUE = rb"""(?:"[^"]*+"|'[^']*+'|(?!["'])[^\t\n\f\r >]++|(?=>))"""


def _tail(attribute_guard: bytes) -> bytes:
    return (
        rb"(?:[\t\n\f\r /]++|" + attribute_guard + rb"[^\t\n\f\r />][^\t\n\f\r />=]*+"
        rb"(?:" + _SPACE + rb"*+=" + _SPACE + rb"*+" + _VALUE + rb"|(?!" + _SPACE + rb"*+=)))*+>"
    )


_ANY_TAIL = _tail(b"")
_SAFE_TAIL = _tail(rb"(?!" + _FETCHING + rb")")
_SAFE_LINK_TAIL = _tail(rb"(?!" + _FETCHING_ON_LINKS + rb")")
_END_TAG = rb"</(?!body" + _NAME_END + rb")[a-zA-Z][^\t\n\f\r />]*+" + _ANY_TAIL
_TEXT = rb"(?:[^<]++|<(?=[^a-zA-Z/!?]))"


def _run(
    names: bytes,
    tail: bytes,
    link_tail: bytes,
    *,
    text: bytes = _TEXT,
    end_stops: bytes = b"body",
    links: bytes = b"a|area",
) -> re.Pattern[bytes]:
    link = rb"<(?:" + links + rb")" + _NAME_END + link_tail
    other = rb"<(?!(?:" + names + rb"|" + links + rb")" + _NAME_END + rb")[a-zA-Z][^\t\n\f\r />]*+"
    end_tag = rb"</(?!(?:" + end_stops + rb")" + _NAME_END + rb")[a-zA-Z][^\t\n\f\r />]*+"
    alternatives = (text, end_tag + _ANY_TAIL, link, other + tail)
    return re.compile(rb"(?:" + rb"|".join(alternatives) + rb")*+", re.I)


# something is held back: fetching attributes matter
_SKIP_GUARDED = _run(_FETCHING_NAMES, _SAFE_TAIL, _SAFE_LINK_TAIL)
# nothing is held back: only the tokenizer's states matter
_SKIP_ALL = _run(_TOKENIZER_NAMES, _ANY_TAIL, _ANY_TAIL)
# The same while a <frameset> would still be honoured (the head, and the body until its
# first text or "frameset-ok"-killing tag): text may only be white space (or NUL, which
# the tree builder drops), and every tag that ends frameset-ok stops the run ("</br>" is
# read as "<br>"). <area> is one of them, so only <a> is read as a link here.
_KILLERS = b"|".join(sorted(FRAMESET_KILLERS))
_FRAMESET_TEXT = rb"[\t\n\f\r \x00]++"
_SKIP_GUARDED_FRAMESET_OK = _run(
    _FETCHING_NAMES + b"|" + _KILLERS, _SAFE_TAIL, _SAFE_LINK_TAIL,
    text=_FRAMESET_TEXT, end_stops=b"body|br", links=b"a",
)  # fmt: skip
_SKIP_ALL_FRAMESET_OK = _run(
    _TOKENIZER_NAMES + b"|" + _KILLERS, _ANY_TAIL, _ANY_TAIL,
    text=_FRAMESET_TEXT, end_stops=b"body|br", links=b"a",
)  # fmt: skip
_PATTERNS = {
    (False, False): _SKIP_ALL,
    (True, False): _SKIP_GUARDED,
    (False, True): _SKIP_ALL_FRAMESET_OK,
    (True, True): _SKIP_GUARDED_FRAMESET_OK,
}
_NAME = rb"([a-z][^\t\n\f\r />]*+)"
_ANY_NAME = rb"[a-z][^\t\n\f\r />]*+"
# Over a lower-cased run: the names of its start tags, and of its end tags (one group
# each, empty for the other kind; every tag is consumed whole, so a "<p" inside a quoted
# value is never taken for a tag).
_STARTS = re.compile(rb"<(?:/" + _ANY_NAME + _ANY_TAIL + rb"|" + _NAME + _ANY_TAIL + rb")")
_ENDS = re.compile(rb"<(?:/" + _NAME + _ANY_TAIL + rb"|" + _ANY_NAME + _ANY_TAIL + rb")")
# The same in one pass: every tag's name, "/" first for an end tag.
_NAMES = re.compile(rb"<(/?" + _ANY_NAME + rb")" + _ANY_TAIL)
# A run longer than this holds thousands of tags of a handful of names: one pass and
# counting in C beat two passes there (a long read: -10%); shorter runs are cheaper read
# twice than counted.
_LONG_RUN = 8192
_SLASH = ord("/")


def skip(
    buf: Buffer, pos: int, tree: TreeModel, *, guarded: bool, frameset_ok: bool = False
) -> int:
    """Where the run of text and unremarkable tags starting at `pos` ends."""
    if core is not None:  # the same run, read in C (_scanner.c)
        stop, starts, ends = core.skip(buf, pos, guarded, frameset_ok)
        if starts:
            tree.opened(starts)
        if ends:
            tree.closed(ends)
        return stop
    return _skip(buf, pos, tree, _PATTERNS[guarded, frameset_ok])


def _skip(buf: Buffer, pos: int, tree: TreeModel, pattern: re.Pattern[bytes]) -> int:
    found = pattern.match(buf, pos)
    stop = found.end() if found is not None else pos
    if stop - pos > _LONG_RUN:
        counts = Counter(_NAMES.findall(bytes(buf[pos:stop]).lower()))
        ends = [(name[1:], n) for name, n in counts.items() if name[0] == _SLASH]
        tree.opened(_repeated((name, n) for name, n in counts.items() if name[0] != _SLASH))
        tree.closed(_repeated(ends))
    elif stop > pos:
        run = bytes(buf[pos:stop]).lower()
        tree.opened(filter(None, _STARTS.findall(run)))
        tree.closed(filter(None, _ENDS.findall(run)))
    return stop


def _repeated(counted: Iterable[tuple[bytes, int]]) -> Iterator[bytes]:
    return chain.from_iterable(repeat(name, n) for name, n in counted)
