"""The scanner: finds tags in HTML bytes exactly where the HTML tokenizer finds them.

It follows the WHATWG tokenizer's states for everything that decides where a tag, a
comment or raw text starts and ends (tag and attribute states with their quoting,
comments, bogus comments, DOCTYPE, CDATA in foreign content, RAWTEXT, RCDATA,
PLAINTEXT and the script-data escape states), and the few tree-construction facts that
change the tokenizer's state (see `tree.py`). It reports complete tags; it never
decides what to do with them.

Streaming: `scan()` works on a buffer that grows by chunks; it returns where the first
unfinished construct starts, and resumes without reading its bytes again (raw-text
searches go on from where they stopped; an unfinished tag is tried again only when the
buffer has doubled). Every byte is read a bounded number of times: linear time.
"""

from __future__ import annotations

import re

from .charrefs import decode_attribute
from .longtag import LongTag
from .skim import COMMENT_END, RAW_ENDS, raw_end, script_close, skip
from .tags import Attribute, Buffer, Tag, move_tag, tag_span
from .tree import PLAINTEXT, SCRIPT, STAYED, TreeModel

_XML_DOCTYPE = re.compile(
    rb"""<!DOCTYPE(?:[^\[>"']++|"[^"]*+"|'[^']*+')*+(?:\[(?:[^\]"']++|"[^"]*+"|'[^']*+')*+\][^>]*+)?>"""
)
DOCTYPE = b"!doctype"  # the name of the reported XML DOCTYPE
PI = b"?"  # the name of a reported XML processing instruction (an xml-stylesheet one)
STYLESHEET_PI = b"xml-stylesheet"
_PI_TARGET = re.compile(rb"[^\t\n\r ?]*+")
_PI_LONGEST = 2 + len(STYLESHEET_PI)  # "<?" and the one target we read
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SPACE = b" \t\n\f\r"

# Longest partial terminator that can straddle a chunk boundary ("</noframes" + 1).
_OVERLAP = 12

DATA, UNTIL, LONG = 0, 4, 5
GUARDED, ALL = 1, 2  # what the fast path may step over (see skim.py)
LONG_START, LONG_ATTRIBUTE, LONG_END = 1, 2, 3
_GT, _PI_END, _CDATA_END = (re.compile(re.escape(end)) for end in (b">", b"?>", b"]]>"))


class Scanner:
    """The tokenizer's state between chunks, and the loop that finds complete tags.

    `scan(buf, pos, final)` returns (tags, stop): the complete tags found in
    buf[pos:stop], and `stop`, where an unfinished construct starts (== len(buf) when
    nothing is pending). Call `shift(n)` after dropping n bytes from the buffer front.
    """

    def __init__(
        self, *, xml: bool = False, hold_limit: int = 1 << 20, hold: frozenset[bytes] = frozenset()
    ) -> None:
        self.tree = TreeModel(xml=xml)
        self.xml = xml
        self.hold_limit = hold_limit
        self.hold = hold  # raw-text elements reported only once their content is read
        self.skim = 0  # step over unremarkable tags in one regex call: GUARDED or ALL
        self.mode = DATA
        self.raw_end: re.Pattern[bytes] | None = None
        self.raw_name = b""
        self.script_state = 0  # 0 script data, 1 escaped, 2 double escaped
        self.search_from = 0  # where a raw-text or comment search goes on
        self.retry_at = 0  # an unfinished tag is tried again once the buffer reaches this
        self.pending: Tag | None = None  # a raw-text element waiting for its end
        self.until = COMMENT_END  # what ends the comment-like construct we are in
        self.long_tag: Tag | None = None
        self.long_state: LongTag | None = None
        self.open_at_eof = False  # the input ended inside a comment, tag or raw text
        self.eof_in_tag = False  # ... inside a tag: anything appended would complete it
        self.reported = False  # a tag was reported (by an earlier scan() call)

    def shift(self, n: int) -> None:
        if self.long_state is not None:
            self.long_state.shift(n)
        self.search_from = max(0, self.search_from - n)
        self.retry_at = max(0, self.retry_at - n)
        if self.pending is not None:
            move_tag(self.pending, -n)

    def scan(self, buf: Buffer, pos: int, final: bool) -> tuple[list[Tag], int]:
        tags: list[Tag] = []
        stop = self._scan(buf, pos, final, tags)
        self.reported = self.reported or bool(tags)
        return tags, stop

    def _scan(self, buf: Buffer, pos: int, final: bool, tags: list[Tag]) -> int:
        end = len(buf)
        while pos < end or (final and self.pending is not None):
            if self.mode == DATA:
                stop = self._data(buf, pos, final, tags)
            elif self.mode == LONG:
                stop = self._long(buf, pos, final, tags)
            elif self.mode == UNTIL:
                stop = self._until_end(buf, pos, final)
            elif self.mode == PLAINTEXT:
                self.open_at_eof = True
                return end
            else:
                stop = self._raw(buf, pos, final, tags)
            if stop < 0:  # unfinished: wait for more input at -stop - 1
                return -stop - 1
            pos = stop
        return self.pending.start if self.pending is not None else end

    # -- data state ---------------------------------------------------------------

    def _data(self, buf: Buffer, pos: int, final: bool, tags: list[Tag]) -> int:
        tree = self.tree
        waiting = len(buf) < self.retry_at  # an unfinished tag here: not read again yet
        # (not in XHTML: any prefix may name XLink there, "l:href")
        skim = self.skim and not (self.xml or waiting or tree.foreign or tree.in_frameset)
        # Only once a tag was reported: the rewriter tells document from fragment by the
        # first one, whichever chunk it comes in.
        if skim and (self.reported or tags):
            pos = skip(buf, pos, tree, guarded=self.skim == GUARDED, frameset_ok=tree.frameset_ok)
        lt = buf.find(b"<", pos)
        end = len(buf)
        if self.tree.frameset_ok and (lt if lt >= 0 else end) > pos:
            text = bytes(buf[pos : lt if lt >= 0 else end])
            if b"&" in text:  # "&#32;" is a space to the tree builder
                text = decode_attribute(text).encode("utf-8")
            if text.strip(_SPACE + b"\x00"):  # NULs are dropped in the body
                self.tree.frameset_ok = False  # text in the body: no frameset any more
        if lt < 0:
            return end
        nxt = buf[lt + 1 : lt + 2]
        if not nxt:
            return end if final else -lt - 1
        if nxt[0] in _ALPHA:
            return self._tag(buf, lt, lt + 1, False, final, tags)
        if nxt == b"/":
            return self._end_tag_open(buf, lt, final, tags)
        if nxt == b"!":
            return self._declaration(buf, lt, final, tags)
        if nxt == b"?":
            if self.xml:
                return self._processing_instruction(buf, lt, final, tags)
            return self._enter_until(_GT, lt + 2)
        return lt + 1

    def _end_tag_open(self, buf: Buffer, lt: int, final: bool, tags: list[Tag]) -> int:
        nxt = buf[lt + 2 : lt + 3]
        if not nxt:
            return len(buf) if final else -lt - 1
        if nxt[0] in _ALPHA:
            return self._tag(buf, lt, lt + 2, True, final, tags)
        if nxt == b">":
            return lt + 3
        return self._enter_until(_GT, lt + 2)  # a bogus comment

    def _declaration(self, buf: Buffer, lt: int, final: bool, tags: list[Tag]) -> int:
        head = buf[lt + 2 : lt + 9]
        if head.startswith(b"--"):
            return self._comment(buf, lt, final)
        partial = b"doctype".startswith(head.lower()) or b"[CDATA[".startswith(head)
        if len(head) < 7 and partial and not final:
            return -lt - 1  # cannot tell yet ("[CDATA[" is case-sensitive, DOCTYPE is not)
        if head == b"[CDATA[":
            return self._cdata(buf, lt, final, tags)
        if not final and (head == b"-" or not head):
            return -lt - 1
        if self.xml and head.lower() == b"doctype":
            return self._xml_doctype(buf, lt, final, tags)
        return self._enter_until(_GT, lt + 2)  # DOCTYPE or a bogus comment

    def _xml_doctype(self, buf: Buffer, lt: int, final: bool, tags: list[Tag]) -> int:
        """An XML DOCTYPE runs past its internal subset ("[...]>"), whose entities the
        XML parser expands: it is reported whole, so the rewriter can read them."""
        found = _XML_DOCTYPE.match(buf, lt)
        if found is None:
            if final or len(buf) - lt > self.hold_limit:
                return self._enter_until(_GT, lt + 2)
            return -lt - 1
        tags.append(Tag(DOCTYPE, lt, found.end(), lt + 9, False, content_end=found.end()))
        return found.end()

    def _processing_instruction(self, buf: Buffer, lt: int, final: bool, tags: list[Tag]) -> int:
        """XML: `<?target data?>`, text to us, but an xml-stylesheet one makes the browser
        fetch the stylesheet its href names: it is reported (named PI), whole, or past the
        hold limit its target alone (content_end None: its data unread)."""
        found = _PI_TARGET.match(buf, lt + 2)
        target_end = found.end() if found is not None else lt + 2
        if target_end == len(buf) and not final and target_end - lt <= _PI_LONGEST:
            return -lt - 1  # the target may go on (and be xml-stylesheet)
        if buf[lt + 2 : target_end] != STYLESHEET_PI:
            return self._enter_until(_PI_END, lt + 2)
        close = buf.find(b"?>", max(target_end, self.search_from))
        if close < 0 and not final and len(buf) - lt <= self.hold_limit:
            self.search_from = max(target_end, len(buf) - 1)
            return -lt - 1
        self.search_from = 0
        if close < 0:
            tags.append(Tag(PI, lt, target_end, target_end, False))
            return self._enter_until(_PI_END, target_end)
        tags.append(Tag(PI, lt, close + 2, target_end, False, content_end=close))
        return close + 2

    def _cdata(self, buf: Buffer, lt: int, final: bool, tags: list[Tag]) -> int:
        """`<![CDATA[`: a CDATA section to "]]>" in SVG and MathML, a bogus comment to the
        first ">" in HTML. Where the two could differ (a ">" inside), the rewriter splits
        the section at each ">" so that both readings end every piece at the same byte;
        where we cannot see its end (unfinished, or past the hold limit), the reading our
        tree model gives is followed."""
        close = buf.find(b"]]>", max(lt + 9, self.search_from))
        if close < 0 and not final and len(buf) - lt <= self.hold_limit:
            self.search_from = max(lt + 9, len(buf) - 2)
            return -lt - 1
        self.search_from = 0
        if close < 0:
            if self.tree.cdata_allowed():
                return self._enter_until(_CDATA_END, lt + 9)
            return self._enter_until(_GT, lt + 2)
        tags.append(Tag(b"![cdata[", lt, close + 3, lt + 9, False, content_end=close))
        return close + 3

    def _comment(self, buf: Buffer, lt: int, final: bool) -> int:
        after = buf[lt + 4 : lt + 6]
        if after[:1] == b">":
            return lt + 5  # "<!-->"
        if after == b"->":
            return lt + 6  # "<!--->"
        if len(after) < 2 and not final:
            return -lt - 1
        return self._enter_until(COMMENT_END, lt + 4)

    def _enter_until(self, closer: re.Pattern[bytes], start: int) -> int:
        """A comment, bogus comment, DOCTYPE or CDATA section: its bytes are text to us
        and stream through while we look for its end."""
        self.mode = UNTIL
        self.until = closer
        self.search_from = start
        return start

    def _until_end(self, buf: Buffer, pos: int, final: bool) -> int:
        found = self.until.search(buf, max(pos, self.search_from))
        if found is not None:
            self.mode = DATA
            self.search_from = 0
            return found.end()
        if final:
            self.open_at_eof = True
            return len(buf)
        self.search_from = max(pos, len(buf) - 3)
        return -self.search_from - 1

    # -- tags ---------------------------------------------------------------------

    def _tag(
        self, buf: Buffer, lt: int, name_start: int, is_end: bool, final: bool, tags: list[Tag]
    ) -> int:
        end = len(buf)
        if not final and end < self.retry_at:
            return -lt - 1
        name_end, tag_end = tag_span(buf, name_start)
        if tag_end < 0:
            if final:
                self.open_at_eof = self.eof_in_tag = True
                return end  # EOF in a tag: the tag is dropped, and the rest is in it
            if end - lt > self.hold_limit:
                return self._enter_long(buf, lt, name_start, name_end, is_end, tags)
            self.retry_at = lt + min(2 * (end - lt), self.hold_limit + 1)
            return -lt - 1
        self.retry_at = 0
        tag_name = bytes(buf[name_start:name_end]).lower()
        if self.xml and b":" in tag_name:  # XHTML: "h:script" is a script, prefixed
            tag_name = tag_name.rpartition(b":")[2]
        tag = Tag(tag_name, lt, tag_end, name_end, is_end)
        if is_end:
            self.tree.end_tag(tag.name)
            tag.guess = self.tree.guessed
            tags.append(tag)
            return tag.end
        return self._started(tag, buf, tags)

    def _started(self, tag: Tag, buf: Buffer, tags: list[Tag]) -> int:
        switch = self.tree.start_tag(tag, buf)
        if switch is None:
            tags.append(tag)
            return tag.end
        mode, name = switch
        if mode == PLAINTEXT:
            self.mode, self.open_at_eof = PLAINTEXT, True  # nothing ends it
            tags.append(tag)
            return tag.end
        self.mode = mode
        self.raw_name = name
        self.raw_end = RAW_ENDS.get(name) or raw_end(name)
        self.script_state = 0
        self.search_from = tag.end
        if (name in self.hold or (tag.dual and self.hold)) and not tag.long:
            self.pending = tag
        else:
            tag.content_end = None
            tag.unread = bool(self.hold) and _markup_elsewhere(tag)
            tags.append(tag)
        return tag.end

    # -- a tag too long to hold -------------------------------------------------------

    def _enter_long(
        self, buf: Buffer, lt: int, name_start: int, name_end: int, is_end: bool, tags: list[Tag]
    ) -> int:
        name = bytes(buf[name_start : min(name_end, name_start + 64)]).lower()
        tag = Tag(name, lt, -1, name_end, is_end, long=LONG_START)
        tags.append(tag)
        self.long_tag = tag
        self.long_state = LongTag()
        self.mode = LONG
        return name_end

    def _long(self, buf: Buffer, pos: int, final: bool, tags: list[Tag]) -> int:
        tag, state = self.long_tag, self.long_state
        assert tag is not None and state is not None
        names: list[tuple[int, int]] = []
        stop = state.step(buf, pos, final, names)
        for start, end in names:
            name = bytes(buf[start:end]).lower()
            tags.append(Tag(name, start, end, end, tag.is_end, long=LONG_ATTRIBUTE))
        if stop < 0:
            if final:
                self.open_at_eof = self.eof_in_tag = True
                self.mode = DATA
                return len(buf)
            return stop
        self.mode = DATA
        self.long_tag = self.long_state = None
        done = Tag(tag.name, stop - 1, stop, stop - 1, tag.is_end, long=LONG_END)
        if tag.is_end:
            tags.append(done)
            self.tree.end_tag(tag.name)
            if self.tree.guessed == STAYED:  # streamed already: it cannot be dropped
                self.tree.leave_foreign()
            done.guess = self.tree.guessed
            return stop
        done._attributes = [Attribute(n, b"", 0, 0) for n in state.names]
        done.self_closing_flag = state.slash
        return self._started(done, buf, tags)

    # -- raw text, RCDATA and script data -----------------------------------------

    def _raw(self, buf: Buffer, pos: int, final: bool, tags: list[Tag]) -> int:
        """Inside a raw-text element: find where its content ends (the start of an
        appropriate end tag). A held element's start tag is reported once that is known."""
        pending = self.pending
        close = self._raw_close(buf, final)
        if close is not None:
            if pending is not None:
                self._report(pending, close, tags)
            return self._leave_raw(close)
        if final:
            self.open_at_eof = True
            if pending is not None:
                pending.closed = False
                self._report(pending, len(buf), tags)
            return self._leave_raw(len(buf))
        if pending is not None and len(buf) - pending.start > self.hold_limit:
            # Too long to hold: report the element with its end unknown (fail closed)
            # and go on reading its content as it streams.
            pending.unread = _markup_elsewhere(pending)
            self._report(pending, None, tags)
            self.pending = pending = None
        return -(pending.start if pending is not None else self.search_from) - 1

    def _leave_raw(self, close: int) -> int:
        self.pending = None
        self.mode = DATA
        self.search_from = 0
        return close

    def _report(self, tag: Tag, close: int | None, tags: list[Tag]) -> None:
        tag.content_end = close
        tags.append(tag)

    def _raw_close(self, buf: Buffer, final: bool) -> int | None:
        """Where the content ends: the "<" of the element's end tag, or None."""
        start = self.search_from
        if self.mode == SCRIPT:
            return self._script_close(buf, final)
        assert self.raw_end is not None
        found = self.raw_end.search(buf, start)
        if found is None:
            self.search_from = max(start, len(buf) - _OVERLAP)
            return None
        return found.start()

    def _script_close(self, buf: Buffer, final: bool) -> int | None:
        close, self.script_state, pos = script_close(buf, self.search_from, self.script_state)
        if close is None:
            self.search_from = max(pos, len(buf) - _OVERLAP)
        return close


def _markup_elsewhere(tag: Tag) -> bool:
    """Whether another reading takes this raw-text element's content for markup: a
    <noscript> (without JavaScript), an SVG or MathML one (if the tree model is right)."""
    return tag.dual is not None or (tag.name == b"noscript" and not tag.foreign)
