"""The streaming HTML rewriter: drives the scanner, applies each tag's decision, and
holds back only what is unfinished.

Its output does not depend on how the input was cut into chunks. Bytes are copied
through unchanged except for the edits of the tags that must be held back and our own
insertions (the Consent Mode default at the top of a document, the banner or settings
control before the last `</body>`, or at the end of a document that has none). A
fragment (htmx, Turbo, ...) gets the same holding back and never an insertion.
"""

from __future__ import annotations

import logging
import re

from .compiled import core
from .config import NECESSARY
from .documents import has_doctype, starts_document
from .fetching import Context, Edit, decode
from .plan import Placeholder as Placeholder
from .plan import RewritePlan as RewritePlan
from .scanner import ALL, DOCTYPE, GUARDED, LONG_ATTRIBUTE, LONG_END, LONG_START, PI, Scanner
from .tagdecision import (
    CDATA,
    STOP_IMPORTS,
    agreed_end,
    decide_start_tag,
    empty_entities,
    guarded_srcdoc,
    held_stylesheet,
    held_unread,
    note_base,
    renamed_unread,
    split_cdata,
)
from .tags import Tag, attribute
from .tree import RAWTEXT, SCRIPT
from .urls import absolute_url, parse_url

logger = logging.getLogger("asgi_consent")

# Bytes kept after the last `</body>` while we wait to learn it was the last one.
TAIL_LIMIT = 256 * 1024
# The longest construct (a tag, an inline script or style) held back whole; past it the
# element is held back unread (fail closed) and its content streams through.
HOLD_LIMIT = 1 << 20
_NESTING_LIMIT = 3
# Read tag by tag while our head insertion waits for its place (see `rewrite_all`).
HEAD_WINDOW = 4096
_READ_CONTENT = frozenset({b"script", b"style", b"noscript"})  # decisions read their content
# A page whose own URL we do not know (no Host header) still resolves "//host/x.js".
_SOMEWHERE = absolute_url("http://localhost/")
# A <base> start tag, wherever its bytes are: a browser may read one where the scanner
# reads text (<noscript> content without JavaScript, SVG that the tree model left, a tag
# too long to hold), and Chromium's preload scanner takes an SVG or MathML one too.
_BASE_TAG = re.compile(rb"<(?i:base)[\t\n\f\r />]")


class HtmlRewriter:
    """Rewrites one HTML document, chunk by chunk: `feed()` each chunk, then `finish()`."""

    def __init__(self, plan: RewritePlan, *, depth: int = 0, in_noscript: bool = False) -> None:
        self._plan = plan
        self._depth = depth
        self._in_noscript = in_noscript
        self._buf = bytearray()
        self._scanner = Scanner(
            xml=plan.xml, hold_limit=HOLD_LIMIT, hold=_READ_CONTENT if plan.blocked else frozenset()
        )
        self._ctx = Context(
            rules=plan.rules,
            document_url=plan.document_url or _SOMEWHERE,
            every_category=plan.blocked | (plan.rules.categories - {NECESSARY}),
            encoding=plan.encoding,
            xml=plan.xml,
        )
        known = plan.document_host_known
        if known is None:
            known = plan.rules.knows_host((plan.document_url or _SOMEWHERE).host)
        self._ctx.skip_relative = not known
        self._document: bool | None = False if plan.fragment or depth else None
        self._early: list[bytes] = []  # output held until we know document or fragment
        self._head_pending = bool(plan.head_start) and not (plan.fragment or depth or in_noscript)
        self._tail: list[bytes] | None = None  # output held from the latest </body>
        self._tail_size = 0
        self._body_end_passed = False
        self._failed = False
        self.found: set[str] = set()  # categories of everything held back
        self._long_held = False
        self._long_name = b""
        # "<base" start tags in the page's bytes, and those read as a tag whose href
        # leaves our own URLs where they are: any other pins our insertion to the host.
        self._base_tags = 0
        self._bases_harmless = 0
        self._base_tail = b""  # the last bytes read: a "<base" may straddle two views
        # In the content of an element reported unread (Tag.unread): every "<" is written
        # "&lt;", so that no reading finds markup in it.
        self._as_text = False

    # -- public ---------------------------------------------------------------

    def feed(self, chunk: bytes) -> bytes:
        """The output that can be sent for `chunk` now (some bytes may be held back)."""
        return self._guarded(chunk, final=False)

    def finish(self) -> bytes:
        """Everything still held back, and the insertion before the last </body>."""
        return self._guarded(b"", final=True)

    def rewrite_all(self, body: bytes) -> bytes:
        """A one-piece body: the same as feed(body) + finish()."""
        if self._head_pending and len(body) > HEAD_WINDOW:
            # Fed in two pieces (the output is the same however the input is cut): the
            # page's first tags place our head insertion, and the rest can be skimmed.
            first = self._guarded(body[:HEAD_WINDOW], final=False)
            return first + self._guarded(body[HEAD_WINDOW:], final=True)
        return self._guarded(body, final=True)

    # -- internals ------------------------------------------------------------

    def _guarded(self, chunk: bytes, *, final: bool) -> bytes:
        if self._failed:
            return chunk
        try:
            return b"".join(self._feed_scan(chunk, final))
        except Exception:  # pragma: no cover - defensive: a page is never broken
            logger.exception("asgi_consent: rewriter failed; holding the rest of the page back")
            self._failed = True
            # Fail closed: what we could not read is not sent as live markup.
            return b""

    def _feed_scan(self, chunk: bytes, final: bool) -> list[bytes]:
        buf = self._buf
        buf += chunk
        if not self._head_pending:  # the first tag that decides either is never skipped
            self._scanner.skim = GUARDED if self._plan.blocked else ALL
        tags, stop = self._scanner.scan(buf, 0, final)
        out: list[bytes] = []
        if stop:
            view = bytes(buf[:stop])
            del buf[:stop]
            self._scanner.shift(stop)
            self._rewrite(view, tags, out)
        if final:
            self._finish(out)
        elif self._document is None and sum(map(len, self._early)) > HOLD_LIMIT:
            self._decide(True, out)
        return self._release(out, final)

    def _rewrite(self, view: bytes, tags: list[Tag], out: list[bytes]) -> None:
        """Output `view` (complete, decided input) with the edits of its tags applied."""
        edits: list[Edit] = []
        cursor = 0
        if not (self._depth or self._in_noscript):
            self._count_base_tags(view)
        text_from = 0 if self._as_text else -1
        for tag in tags:
            if text_from >= 0:  # the first tag after an unread element's start is its end
                edits.append(_as_text(view, text_from, tag.start))
                text_from, self._as_text = -1, False
            if self._document is None and tag.name != PI:  # a PI comes before the root
                before = b"".join(self._early) + b"".join(out) + view[cursor : tag.start]
                self._decide(tag.name == DOCTYPE or starts_document(before, tag), out)
            if tag.name in (DOCTYPE, PI, CDATA):
                if self._plan.blocked:  # nothing held back: nothing to make unambiguous
                    edits.extend(self._markup_declaration(tag, view))
            elif tag.long:
                self._long_tag(tag, edits)
            elif not tag.is_end:
                self._start_tag(tag, view, edits)
            if tag.guess and self._plan.blocked:
                edits.append(agreed_end(tag))
            if tag.unread:
                text_from, self._as_text = tag.end, True
            if (
                tag.is_end
                and tag.long != LONG_END
                and tag.name == b"body"
                and (self._document and not self._in_noscript)
            ):
                cursor = self._output(view, cursor, tag.start, edits, out)
                self._body_end(out)
        if text_from >= 0:
            edits.append(_as_text(view, text_from, len(view)))
        self._output(view, cursor, len(view) + 1, edits, out)  # + 1: an insertion at the end

    def _markup_declaration(self, tag: Tag, view: bytes) -> list[Edit]:
        """An XHTML DOCTYPE's entities, an xml-stylesheet instruction, a CDATA section."""
        if tag.name == DOCTYPE:
            return empty_entities(tag, view, self._ctx, self._plan)
        if tag.name == PI:
            held, edits = held_stylesheet(tag, view, self._ctx, self._plan)
            self.found |= held
            return edits
        return split_cdata(tag, view)

    def _count_base_tags(self, view: bytes) -> None:
        straddling = self._base_tail + view[:5]
        self._base_tags += sum(
            1 for found in _BASE_TAG.finditer(straddling) if found.start() < len(self._base_tail)
        )
        self._base_tags += (
            core.count_base_tags(view) if core is not None else len(_BASE_TAG.findall(view))
        )
        self._base_tail = (self._base_tail + view[-5:])[-5:]

    def _harmless_base(self, tag: Tag, view: bytes) -> bool:
        """Whether a <base> tag (of any namespace) leaves our own URLs on this origin."""
        href = attribute(tag.attributes(view), b"href")
        if href is None:
            return True
        document = self._ctx.document_url
        url = parse_url(decode(href.value, self._ctx), document)
        return (
            url is not None
            and document is not None
            and ((url.scheme, url.host) == (document.scheme, document.host))
        )

    def _start_tag(self, tag: Tag, view: bytes, edits: list[Edit]) -> None:
        if tag.name == b"base":
            if self._harmless_base(tag, view):
                self._bases_harmless += 1
            else:  # any namespace, held back or not: pinning ours costs nothing
                self._ctx.cross_origin_base = True
        if self._head_pending and tag.name != b"html":
            self._head_pending = False
            at = tag.end if tag.name == b"head" else tag.start
            edits.append((at, at, self._plan.head_start))
        if not self._plan.blocked:
            if tag.name == b"base":  # it moves our own relative URLs too
                note_base(tag, view, self._ctx)
            return
        decided = decide_start_tag(tag, view, self._ctx, self._plan, self._in_noscript)
        if self._ctx.nested:
            extra: set[str] = set()
            for payload in self._ctx.nested:
                extra |= self._nested(payload)
            self._ctx.nested.clear()
            if extra:
                decided = decide_start_tag(
                    tag, view, self._ctx, self._plan, self._in_noscript, extra=extra
                )
                self._ctx.nested.clear()
        if decided is not None:
            self.found |= decided.held
            edits.extend(decided.edits)
        if not (decided and decided.held):  # (a held iframe's srcdoc is renamed)
            edits.extend(guarded_srcdoc(tag, view, self._ctx, self._plan))
        if tag.content_end is not None and (
            tag.dual or (tag.name == b"noscript" and not tag.foreign)
        ):
            edits.extend(self._as_markup(tag, view))

    def _long_tag(self, tag: Tag, edits: list[Edit]) -> None:
        """A tag too long to hold (see longtag.py): held back unread, its fetching
        attributes renamed one by one as they stream past."""
        if tag.long == LONG_START and not tag.is_end:
            if self._head_pending:
                self._head_pending = False
                edits.append((tag.start, tag.start, self._plan.head_start))
            self._long_held = bool(self._plan.blocked)
            self._long_name = tag.name
            if self._long_held:
                every = self._ctx.every_category
                self.found |= every
                edits.append((tag.name_end, tag.name_end, held_unread(tag.name, every)))
        elif tag.long == LONG_ATTRIBUTE and self._long_held and not tag.is_end:
            new = renamed_unread(self._long_name, tag.name)
            if new is not None:
                edits.append((tag.start, tag.end, new))
        elif tag.long == LONG_END and not tag.is_end and self._long_held:
            if self._long_name == b"style":  # its CSS, unread too: no @import in it
                edits.append((tag.end, tag.end, STOP_IMPORTS))  # for a preload scanner

    def _output(
        self, view: bytes, start: int, stop: int, edits: list[Edit], out: list[bytes]
    ) -> int:
        """Emit view[start:stop] with the pending edits, which all fall inside it (they
        come from the tags before `stop`), and drop them; return `stop`. Each edit is
        sorted and applied once, however many </body> tags cut the page."""
        at = start
        for edit_start, edit_stop, new in sorted(edits):
            self._emit(out, view[at:edit_start])
            self._emit(out, new)
            at = edit_stop
        edits.clear()
        self._emit(out, view[at:stop])
        return stop

    def _as_markup(self, tag: Tag, view: bytes) -> list[Edit]:
        """Raw text that another reading takes for markup: <noscript> (markup for a
        browser without JavaScript), or an SVG <style>/<script>/... (raw text had we
        been wrong about being in SVG). The markup reading's trackers are held back too;
        content that does not end cleanly as markup could run on past the raw text's end
        in that reading, so it is dropped."""
        assert tag.content_end is not None
        content = view[tag.end : tag.content_end]
        sub = HtmlRewriter(self._plan, depth=self._depth, in_noscript=True)
        sub._document = False
        sub._ctx = self._ctx
        if tag.dual:
            sub._scanner.tree.foreign = list(tag.dual)
        rewritten = sub.rewrite_all(content)
        self.found |= sub.found
        # Ended cleanly: nothing left open that would read the end tag and what follows
        # differently there (a comment, a tag, raw text; SVG or MathML, where the end tag
        # is ignored under a <p> and what follows stays foreign).
        left_open = sub._scanner.open_at_eof or sub._scanner.tree.foreign != list(tag.dual or ())
        if left_open and tag.closed:
            return [(tag.end, tag.content_end, b"")]
        if rewritten == content:
            return []
        return [(tag.end, tag.content_end, rewritten)]

    def _nested(self, payload: bytes) -> set[str]:
        """The categories a document in srcdoc or a data: URL needs."""
        if self._depth >= _NESTING_LIMIT:
            return set(self._ctx.every_category)
        sub = HtmlRewriter(self._nested_plan(), depth=self._depth + 1)
        # A srcdoc document inherits its parent's base URL: both readings are kept.
        sub._ctx.base, sub._ctx.skip_relative = self._ctx.base, self._ctx.skip_relative
        sub.rewrite_all(payload)
        return sub.found

    def _nested_plan(self) -> RewritePlan:
        plan = self._plan
        return RewritePlan(
            granted=frozenset({NECESSARY}),
            blocked=self._ctx.every_category,
            rules=plan.rules,
            document_url=self._ctx.document_url,
        )

    def _finish(self, out: list[bytes]) -> None:
        if self._document is None:
            early = b"".join(self._early) + b"".join(out)  # out: this last call's output
            self._decide(has_doctype(early), out)
        insertion = self._plan.before_body_end
        if not self._document or not insertion or self._depth or self._in_noscript:
            return
        moved = self._ctx.cross_origin_base or self._base_tags > self._bases_harmless
        if moved and self._plan.cross_origin_insertion:
            insertion = self._plan.cross_origin_insertion
        if self._tail is not None:
            tail, self._tail = self._tail, None
            out.append(insertion)
            out.extend(tail)
        elif not self._scanner.eof_in_tag:  # appended there, it would finish the tag
            out.append(self._closer() + insertion)

    def _closer(self) -> bytes:
        """What ends the raw text a document without </body> stops in, so that the
        banner after it is markup (a comment or a tag cut by the end is left alone)."""
        scanner = self._scanner
        if scanner.mode in (RAWTEXT, SCRIPT) and scanner.raw_name:
            return b"</" + scanner.raw_name + b">"
        return b""

    def _emit(self, out: list[bytes], data: bytes) -> None:
        if self._tail is None:
            out.append(data)
            return
        self._tail.append(data)
        self._tail_size += len(data)
        if self._tail_size > TAIL_LIMIT:
            out.extend(self._tail)
            self._tail = None
            self._body_end_passed = True

    def _body_end(self, out: list[bytes]) -> None:
        if not self._plan.before_body_end:
            return
        if self._tail is not None:
            out.extend(self._tail)
        self._tail, self._tail_size = [], 0
        self._body_end_passed = True

    def _release(self, out: list[bytes], final: bool) -> list[bytes]:
        if self._document is None and not final:
            self._early.extend(out)
            return []
        return out

    def _decide(self, document: bool, out: list[bytes]) -> None:
        self._document = document
        if not document:
            self._head_pending = False
        out[:0] = self._early
        self._early = []


def _as_text(view: bytes, start: int, stop: int) -> Edit:
    """Raw text we could not read as the markup another reading takes it for (Tag.unread):
    with "&lt;" for every "<", it is text in every reading, and ends where it ends now."""
    return (start, stop, view[start:stop].replace(b"<", b"&lt;"))

