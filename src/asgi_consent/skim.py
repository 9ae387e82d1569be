"""The scanner's fast path: one regex call steps over text and tags that cannot matter.

In HTML content (not inside SVG or MathML, no frameset possible), most of a page is text
and tags such as `<p>`, `<a href>` or `</div>`: they switch no tokenizer state and fetch
nothing. `skip()` returns where the first construct that might matter starts: a tag
whose name changes the tokenizer or the page (script, style, svg, body, ...), a tag with
an attribute that fetches (src, style, on*, ...), a comment or declaration, or an
unfinished tag at the end of the buffer. The tags it steps over follow the tokenizer's
grammar exactly (quotes, `>` in values), so the slow path resumes at a true boundary.

Between such tags it also steps over comments, bogus comments and DOCTYPEs, and when
nothing is held back, whole raw-text elements (`<script>...</script>`, `<style>`, ...),
whose content the rewriter has no use for then. The open HTML elements it steps over are
still counted (an end tag inside SVG closes it only if an element of that name is open
around it).
"""

from __future__ import annotations

import re

from .compiled import core
from .tags import tag_span
from .tree import FRAMESET_KILLERS, PLAINTEXT, RAW_TEXT_ELEMENTS, SCRIPT, VOID, TreeModel

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
# nothing is held back: only the tokenizer's states matter (and <base href>, which moves
# our own relative URLs)
_SKIP_ALL = _run(_TOKENIZER_NAMES + b"|base", _ANY_TAIL, _ANY_TAIL)
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
    _TOKENIZER_NAMES + b"|base|" + _KILLERS, _ANY_TAIL, _ANY_TAIL,
    text=_FRAMESET_TEXT, end_stops=b"body|br", links=b"a",
)  # fmt: skip
_PATTERNS = {
    (False, False): _SKIP_ALL,
    (True, False): _SKIP_GUARDED,
    (False, True): _SKIP_ALL_FRAMESET_OK,
    (True, True): _SKIP_GUARDED_FRAMESET_OK,
}
_ANY_NAME = rb"[a-z][^\t\n\f\r />]*+"
# Over a lower-cased run: every tag's name, "/" first for an end tag (every tag is
# consumed whole, so a "<p" inside a quoted value is never taken for a tag).
_NAMES = re.compile(rb"<(/?" + _ANY_NAME + rb")" + _ANY_TAIL)
_SLASH = ord("/")
# The name of a tag that may be a raw-text element (no longer name is one).
_RAW_NAME = re.compile(rb"[a-zA-Z][^\t\n\f\r />]{0,8}(?=[\t\n\f\r />])")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Script data and its escaped states (the tokenizer's): what each state looks for.
_SCRIPT_NORMAL = re.compile(rb"<!--|</script[\t\n\f\r />]", re.I)
_SCRIPT_ESCAPED = re.compile(rb"-->|</script[\t\n\f\r />]|<script[\t\n\f\r />]", re.I)
_SCRIPT_DOUBLE = re.compile(rb"-->|</script[\t\n\f\r />]", re.I)
COMMENT_END = re.compile(rb"--!?>")


def raw_end(name: bytes) -> re.Pattern[bytes]:
    """What ends the raw text of element `name`: "</name" and a byte that ends a name."""
    return re.compile(rb"</" + re.escape(name) + rb"[\t\n\f\r />]", re.I)


RAW_ENDS = {name: raw_end(name) for name in RAW_TEXT_ELEMENTS}


def script_close(buf: Buffer, pos: int, state: int) -> tuple[int | None, int, int]:
    """Script data from `pos` in `state` (0 script data, 1 escaped, 2 double escaped):
    (the "<" of the "</script" that ends it or None, the state reached, and where the
    search stopped)."""
    while True:
        found = (_SCRIPT_NORMAL, _SCRIPT_ESCAPED, _SCRIPT_DOUBLE)[state].search(buf, pos)
        if found is None:
            return None, state, pos
        text = found.group()
        if text == b"<!--":
            state, pos = 1, found.start() + 2  # "<!-->" ends the escape at once
        elif text == b"-->":
            state, pos = 0, found.end()
        elif text[1:2] == b"/":
            if state != 2:
                return found.start(), state, pos
            state, pos = 1, found.end() - 1
        else:  # "<script" inside an escaped section
            state, pos = 2, found.end() - 1


def skip(
    buf: Buffer, pos: int, tree: TreeModel, *, guarded: bool, frameset_ok: bool = False
) -> int:
    """Where the run of text and unremarkable constructs starting at `pos` ends."""
    if core is not None:  # the same run, read in C (_scanner.c)
        stop, counts, lows = core.skip(buf, pos, guarded, frameset_ok)
    else:
        stop, counts, lows = _skip(buf, pos, guarded, frameset_ok)
    if counts or lows:
        tree.counted(counts, lows)
    return stop


def _skip(
    buf: Buffer, pos: int, guarded: bool, frameset_ok: bool
) -> tuple[int, dict[bytes, int], dict[bytes, int]]:
    """The reference of _scanner.c's skip(): (stop, the HTML elements the run leaves
    open: {name: start tags less end tags}, void elements and names at 0 left out, and
    for the names whose balance fell below 0 on the way, the lowest it fell to: an end
    tag with no element of its name open closes nothing, so "</p><p>" leaves one open)."""
    pattern = _PATTERNS[guarded, frameset_ok]
    counts: dict[bytes, int] = {}
    lows: dict[bytes, int] = {}
    while True:
        found = pattern.match(buf, pos)
        stop = found.end() if found is not None else pos
        if stop > pos:
            for name in _NAMES.findall(bytes(buf[pos:stop]).lower()):
                if name[0] == _SLASH:
                    name = name[1:]
                    left = counts.get(name, 0) - 1
                    counts[name] = left
                    if left < lows.get(name, 0):
                        lows[name] = left
                elif name not in VOID:
                    counts[name] = counts.get(name, 0) + 1
        pos = step_over(buf, stop, not guarded, frameset_ok)
        if pos < 0:
            return stop, {name: n for name, n in counts.items() if n}, lows


def step_over(buf: Buffer, lt: int, raw_ok: bool, frameset_ok: bool) -> int:
    """Past the construct at `lt` that a run may step over, when it is whole in `buf`:
    a comment, a bogus comment or a DOCTYPE (the scanner's reading of them), or with
    `raw_ok` a raw-text element of HTML content (opened and closed: no count changes;
    while a frameset is still possible, not one whose start tag would rule it out);
    else -1."""
    if buf[lt : lt + 1] != b"<":
        return -1
    second = buf[lt + 1 : lt + 2]
    if second == b"!":
        if buf[lt + 2 : lt + 4] == b"--":
            after = buf[lt + 4 : lt + 6]
            if after[:1] == b">":
                return lt + 5  # "<!-->"
            if len(after) < 2:
                return -1
            if after == b"->":
                return lt + 6  # "<!--->"
            close = COMMENT_END.search(buf, lt + 4)
            return close.end() if close is not None else -1
        if len(buf) < lt + 9 or buf[lt + 2 : lt + 3] == b"[":
            return -1  # a CDATA section, or too short to tell
        return _after_gt(buf, lt + 2)
    if second == b"?":
        return _after_gt(buf, lt + 2)
    third = buf[lt + 2 : lt + 3]
    if second == b"/":
        if not third or third[0] in _ALPHA:
            return -1
        return lt + 3 if third == b">" else _after_gt(buf, lt + 2)
    if raw_ok and second and second[0] in _ALPHA:
        return _raw_element(buf, lt, frameset_ok)
    return -1


def _after_gt(buf: Buffer, pos: int) -> int:
    close = buf.find(b">", pos)
    return close + 1 if close >= 0 else -1


def _raw_element(buf: Buffer, lt: int, frameset_ok: bool) -> int:
    found = _RAW_NAME.match(buf, lt + 1)
    name = bytes(found.group()).lower() if found is not None else b""
    kind = RAW_TEXT_ELEMENTS.get(name)
    if kind is None or kind == PLAINTEXT or (frameset_ok and name in FRAMESET_KILLERS):
        return -1
    end = tag_span(buf, lt + 1)[1]
    if end < 0:
        return -1
    if kind == SCRIPT:
        close = script_close(buf, end, 0)[0]
    else:
        ended = RAW_ENDS[name].search(buf, end)
        close = ended.start() if ended is not None else None
    if close is None:
        return -1
    return tag_span(buf, close + 2)[1]
