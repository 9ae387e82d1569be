"""The streaming HTML rewriter.

One pass over bytes as chunks arrive. It looks only at the few tags that matter
(`script`, `iframe`, `img`, `link`, `noscript`, `head`, `body`, and the raw-text
elements and comments it must jump over) and copies every other byte unchanged.
Its output does not depend on how the input was split into chunks; it holds back at
most one incomplete construct, up to `HOLD_LIMIT` bytes, then gives up on it and
passes the bytes through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from .config import NECESSARY
from .markup import (
    COMMENT_END,
    HOLD_LIMIT,
    MARKER,
    TAG_NAME_END,
    TAG_REST,
    Attributes,
    edit_tag,
    judge_body_end,
    last_body_end,
    set_script_type,
    unfinished_tag_start,
)
from .rules import TrackerRules

logger = logging.getLogger("asgi_consent")

# Bytes kept after the last `</body>` while we wait to learn it was the last one.
TAIL_LIMIT = 256 * 1024

_RAW_TEXT = {b"style", b"textarea", b"title", b"xmp"}
_LOADERS = {b"img", b"iframe", b"link"}
# <script type> values a browser executes (the HTML spec's JavaScript MIME types).
_JS_TYPES = {
    b"",
    b"module",
    b"text/javascript",
    b"application/javascript",
    b"application/ecmascript",
    b"application/x-javascript",
    b"application/x-ecmascript",
    b"text/ecmascript",
    b"text/jscript",
    b"text/livescript",
    b"text/x-ecmascript",
    b"text/x-javascript",
}
_PRELOADING_RELS = {b"preload", b"modulepreload", b"prefetch"}
_CONNECTING_RELS = {b"preconnect", b"dns-prefetch"}

#: (category, provider, next path) -> the click-to-load box shown instead of an iframe
Placeholder = Callable[[str, str, str], bytes]


@dataclass(frozen=True, slots=True)
class RewritePlan:
    """What to do to one response: built from the visitor's consent, shared across requests."""

    granted: frozenset[str]
    blocked: frozenset[str]
    rules: TrackerRules
    before_body_end: bytes = b""
    head_start: bytes = b""
    placeholder: Placeholder | None = None
    page_path: str = "/"

    def refuses(self, category: str) -> bool:
        """Whether markup of `category` must be held back: any category not granted,
        also one we do not know (a typo in data-consent fails closed)."""
        return category != NECESSARY and category not in self.granted

    @property
    def scans(self) -> bool:
        """Whether every tag must be looked at (something to block or to put in <head>)."""
        return bool(self.blocked or self.head_start)


class HtmlRewriter:
    """Rewrites one HTML document, chunk by chunk: `feed()` each chunk, then `finish()`."""

    def __init__(self, plan: RewritePlan) -> None:
        self._plan = plan
        self._scanning = plan.scans
        self._mark = 0  # start of the bytes not yet copied out (scan mode)
        self._buf = bytearray()  # input not yet decided on
        self._raw_end: bytes | None = None  # closing marker of the raw text we are inside
        self._tail: bytearray | None = None  # output held from the latest </body>
        self._body_end_passed = False
        self._head_done = not plan.head_start
        self._failed = False

    # -- public ---------------------------------------------------------------

    def feed(self, chunk: bytes) -> bytes:
        """The output that can be sent for `chunk` now (some bytes may be held back)."""
        if self._failed:
            return chunk
        try:
            return b"".join(self._feed(chunk, final=False))
        except Exception:  # pragma: no cover - defensive: a page is never broken
            return self._fail(chunk)

    def finish(self) -> bytes:
        """Everything still held back, and the insertion before the last </body>."""
        return self._complete(b"")

    def rewrite_all(self, body: bytes) -> bytes:
        """A one-piece body: the same as feed(body) + finish(), with one copy less."""
        return self._complete(body)

    def _complete(self, body: bytes) -> bytes:
        if self._failed:
            return body
        try:
            out = self._feed(body, final=True)
        except Exception:  # pragma: no cover - defensive: a page is never broken
            return self._fail(body)
        insertion = self._plan.before_body_end
        if self._tail is not None:
            out += (insertion, bytes(self._tail))
        elif self._body_end_passed and insertion:
            out.append(insertion)  # the last </body> is long behind us: the parser moves it
        return b"".join(out)

    # -- internals ------------------------------------------------------------

    def _fail(self, chunk: bytes) -> bytes:
        logger.exception("asgi_consent: rewriter failed; passing the rest of the page through")
        self._failed = True
        held = bytes(self._tail or b"") + bytes(self._buf) + chunk
        self._buf.clear()
        self._tail = None
        return held

    def _emit(self, out: list[bytes], data: bytes) -> None:
        if not data:
            return
        if self._tail is None:
            out.append(data)
            return
        self._tail += data
        if len(self._tail) > TAIL_LIMIT:
            out.append(bytes(self._tail))
            self._tail = None

    def _body_end(self, out: list[bytes]) -> None:
        if not self._plan.before_body_end:
            return
        if self._tail is not None:
            out.append(bytes(self._tail))
        self._tail = bytearray()
        self._body_end_passed = True

    def _feed(self, chunk: bytes, *, final: bool) -> list[bytes]:
        out: list[bytes] = []
        if self._scanning:
            self._feed_scan(chunk, out, final=final)
        else:
            self._feed_fast(chunk, out, final=final)
        return out

    def _feed_fast(self, chunk: bytes, out: list[bytes], *, final: bool) -> None:
        """Nothing to block (every category granted): only find the last </body>,
        searching back from the end. The page is not lower-cased or scanned; inert
        markup of granted categories is woken up by consent.js on load.

        A </body> is judged by the BODY_END_WINDOW bytes after it (see `judge_body_end`),
        so the choice depends on the page alone, never on how it was cut into chunks:
        held back are the bytes from the latest </body> still in the running."""
        data = bytes(self._buf) + chunk if self._buf else chunk
        self._buf.clear()
        valid = pending = -1
        if self._plan.before_body_end:
            at = last_body_end(data, len(data))
            while at >= 0:
                verdict = judge_body_end(data, at, final)
                if verdict is True:
                    valid = at
                    break
                if verdict is None:
                    pending = at
                at = last_body_end(data, at)
        if final:
            if valid >= 0:
                out += (data[:valid], self._plan.before_body_end, data[valid:])
                self._body_end_passed = False
            else:
                out.append(data)
            return
        hold = valid if valid >= 0 else pending
        if hold < 0 or len(data) - hold > TAIL_LIMIT:
            if hold >= 0:  # too far back to wait for: the parser will move it into <body>
                self._body_end_passed = True
            hold = unfinished_tag_start(data, 0, len(data))
        out.append(data[:hold])
        self._buf += data[hold:]

    def _feed_scan(self, chunk: bytes, out: list[bytes], *, final: bool) -> None:
        held = bool(self._buf)
        if held:
            self._buf += chunk
            buf = bytes(self._buf)
        else:
            buf = chunk
        lower = buf.lower()
        self._mark = 0
        pos = self._scan(buf, lower, 0, len(buf), out, final=final, in_noscript=False)
        self._emit(out, buf[self._mark : pos])
        if held:
            del self._buf[:pos]
        else:
            self._buf += buf[pos:]

    def _replace(self, buf: bytes, out: list[bytes], start: int, stop: int, new: bytes) -> None:
        """Output `new` instead of buf[start:stop]; bytes before it are copied through."""
        self._emit(out, buf[self._mark : start])
        self._emit(out, new)
        self._mark = stop

    # Bytes between self._mark and the scan position are decided and unchanged: they
    # are copied out in one slice when something is replaced or the scan stops.

    def _scan(  # noqa: C901 - one state machine, kept in one place
        self,
        buf: bytes,
        lower: bytes,
        pos: int,
        end: int,
        out: list[bytes],
        *,
        final: bool,
        in_noscript: bool,
    ) -> int:
        """Scan buf[pos:end]; return where the next feed must start again."""
        search = MARKER.search
        while pos < end:
            if self._raw_end is not None:
                if self._raw_end == b"-->":
                    found = COMMENT_END.search(lower, pos, end)
                    if found is None:
                        return max(pos, end - (0 if final else 3))
                    pos = found.end()
                    self._raw_end = None
                    continue
                close = lower.find(self._raw_end, pos, end)
                after = close + len(self._raw_end)
                if close < 0 or (after >= end and not final):
                    keep = 0 if final else len(self._raw_end)
                    return max(pos, end - keep)
                if after < end and lower[after] not in TAG_NAME_END:
                    pos = close + 2  # "</scripts": not the end of this element
                    continue
                pos = after  # past the closing marker: the rest of an end tag is plain text
                self._raw_end = None
                continue
            m = search(lower, pos, end)
            if m is None:
                return end if final else unfinished_tag_start(lower, pos, end)
            start = m.start()
            # A marker inside an attribute value of an ordinary tag (<div title="<!--">)
            # is text: step over that whole tag instead.
            lt = lower.rfind(b"<", pos, start)
            if lt >= 0 and lower[lt + 1 : lt + 2].isalpha():
                if TAG_REST.match(lower, lt + 1, start) is None:
                    window = min(end, lt + HOLD_LIMIT)
                    enclosing = TAG_REST.match(lower, lt + 1, window)
                    if enclosing is not None:
                        pos = enclosing.end()
                        continue
                    if not final and window == end:
                        return lt
            name = m.group(2) or m.group(4)
            if name is None:  # a comment
                self._raw_end = b"-->"
                pos = start + 2
                continue
            if m.group(1):  # an end tag
                if name == b"body" and not in_noscript and self._plan.before_body_end:
                    self._replace(buf, out, start, start, b"")
                    self._body_end(out)
                pos = m.end()
                continue
            window = min(end, start + HOLD_LIMIT)
            tag_end = TAG_REST.match(lower, m.end(), window)
            if tag_end is None:
                if final or window < end:
                    pos = m.end()  # an unfinished tag: a browser would show it as text
                    continue
                return start
            stop = tag_end.end()
            if name in _LOADERS and (
                not self._plan.blocked
                or (b"//" not in lower[start:stop] and b"data-consent" not in lower[start:stop])
            ):
                pos = stop  # a first-party image or frame: nothing to do
                continue
            handled = self._tag(buf, lower, start, stop, end, name, out, final, in_noscript)
            if handled is None:
                return start  # wait for more input
            pos = handled
        return pos

    def _tag(  # noqa: C901
        self,
        buf: bytes,
        lower: bytes,
        start: int,
        stop: int,
        end: int,
        name: bytes,
        out: list[bytes],
        final: bool,
        in_noscript: bool,
    ) -> int | None:
        """Handle one complete start tag; return where to go on, or None to wait for input."""
        if name in _RAW_TEXT:
            self._raw_end = b"</" + name
            return stop
        if name == b"script":
            return self._script(buf, lower, start, stop, end, out, final)
        if name == b"head" or name == b"body":
            if not self._head_done and not in_noscript:
                self._head_done = True
                at = stop if name == b"head" else start
                self._replace(buf, out, at, at, self._plan.head_start)
            return stop
        blocked = self._plan.blocked
        if not blocked:
            return stop
        if name == b"noscript":
            return self._noscript(buf, lower, start, stop, end, out, final)
        tag_lower = lower[start:stop]
        # Only an absolute URL can reach a catalogued host; only markup can mark it.
        if b"//" not in tag_lower and b"data-consent" not in tag_lower:
            return stop
        attrs = Attributes(tag_lower, 1 + len(name))
        loads = (b"href",) if name == b"link" else (b"src", b"srcset")
        if not any(attr in attrs for attr in loads):
            return stop  # nothing it could load: already inert, or empty
        category, provider = self._element_category(name, attrs)
        if category is None or not self._plan.refuses(category):
            return stop
        tag = buf[start:stop]
        add = b"" if b"data-consent" in attrs else b' data-consent="' + category.encode() + b'"'
        if name == b"link":
            new = edit_tag(tag, attrs, 4, rename={b"href": b"data-consent-href"}, add=add)
            self._replace(buf, out, start, stop, new)
            return stop
        rename = {b"src": b"data-consent-src", b"srcset": b"data-consent-srcset"}
        before = b""
        if name == b"iframe" and not in_noscript and self._plan.placeholder is not None:
            before = self._plan.placeholder(category, provider, self._plan.page_path)
            add += b' hidden="hidden" data-consent-hidden=""'
        new = edit_tag(tag, attrs, len(name), rename=rename, add=add)
        self._replace(buf, out, start, stop, before + new)
        return stop

    def _element_category(self, name: bytes, attrs: Attributes) -> tuple[str | None, str]:
        marked = attrs.get(b"data-consent")
        if marked:
            return marked.decode("latin-1"), ""
        rules = self._plan.rules
        if name == b"iframe":
            url = attrs.get(b"src")
            found = rules.url("iframe", url) if url else None
        elif name == b"img":
            found = None
            candidates = [attrs.get(b"src") or b""]
            candidates += [
                c.split()[0] for c in (attrs.get(b"srcset") or b"").split(b",") if c.split()
            ]
            for url in candidates:
                found = rules.url("pixel", url) if url else None
                if found:
                    break
        else:  # link: only the kinds that fetch or connect ahead
            rels = set((attrs.get(b"rel") or b"").split())
            url = attrs.get(b"href")
            found = None
            if url and rels & _CONNECTING_RELS:
                found = rules.host(url)  # a connection to the host is the leak
            elif url and rels & _PRELOADING_RELS:
                found = rules.any_url(url)
            if found is None and url and b"stylesheet" in rels:
                found = rules.url("script", url)
        return (found.category, found.provider) if found else (None, "")

    def _script(  # noqa: C901
        self,
        buf: bytes,
        lower: bytes,
        start: int,
        stop: int,
        end: int,
        out: list[bytes],
        final: bool,
    ) -> int | None:
        self._raw_end = b"</script"
        if not self._head_done:  # no <head> tag: the Consent Mode default still goes first
            self._head_done = True
            self._replace(buf, out, start, start, self._plan.head_start)
        tag_lower = lower[start:stop]
        blocked = self._plan.blocked
        rules = self._plan.rules
        category: str | None = None
        if b"type" in tag_lower or b"data-c" in tag_lower:
            attrs = Attributes(tag_lower, 7)
            script_type = (attrs.get(b"type") or b"").split(b";")[0].strip()
            marked = attrs.get(b"data-consent")
            if not marked:
                # vanilla-cookieconsent / Cookiebot style; a generic attribute name, so
                # only one of our categories counts as a mark
                foreign = attrs.get(b"data-category")
                if foreign and foreign.decode("latin-1") in self._plan.rules.categories:
                    marked = foreign
            if script_type == b"text/plain" and marked:
                # Inert markup (ours, or vanilla-cookieconsent / Cookiebot style): wake it
                # up server-side when its category is granted.
                if not self._plan.refuses(marked.decode("latin-1")):
                    original = attrs.get(b"data-consent-type") or attrs.get(b"data-type") or b""
                    new = set_script_type(buf[start:stop], attrs, original)
                    self._replace(buf, out, start, stop, new)
                return stop
            if script_type not in _JS_TYPES or not blocked:
                return stop
            if marked:
                category = marked.decode("latin-1")
            src = attrs.get(b"src")
        elif not blocked:
            return stop
        else:
            attrs = None
            src = None
            if b"src" in tag_lower:  # maybe only inside another value (a nonce)
                attrs = Attributes(tag_lower, 7)
                src = attrs.get(b"src")
        if category is None and src is not None:
            # only an absolute URL can be a catalogued host; else a first-party script
            found = rules.url("script", src) if b"//" in src else None
            category = found.category if found else None
        elif category is None and rules.has_markers:
            window = min(end, start + HOLD_LIMIT)
            close = lower.find(b"</script", stop, window)
            if close < 0:
                if not final and window == end:
                    self._raw_end = None
                    return None
                return stop
            category = rules.inline(lower, stop, close, blocked)
        if category is None or not self._plan.refuses(category):
            return stop
        attrs = attrs or Attributes(tag_lower, 7)
        add = b' type="text/plain"'
        if b"data-consent" not in attrs:
            add += b' data-consent="' + category.encode() + b'"'
        new = edit_tag(buf[start:stop], attrs, 6, rename={b"type": b"data-consent-type"}, add=add)
        self._replace(buf, out, start, stop, new)
        return stop

    def _noscript(
        self,
        buf: bytes,
        lower: bytes,
        start: int,
        stop: int,
        end: int,
        out: list[bytes],
        final: bool,
    ) -> int | None:
        # With scripting on, a browser reads <noscript> as raw text; without it, as
        # markup. We rewrite the pixels and iframes inside for visitors without JS.
        window = min(end, start + HOLD_LIMIT)
        close = lower.find(b"</noscript", stop, window)
        if close < 0:
            if not final and window == end:
                return None
            # Never closed (or huge): a browser without JavaScript reads the rest as
            # markup, so we do too.
            return stop
        self._scan(buf, lower, stop, close, out, final=True, in_noscript=True)
        self._raw_end = None
        return close
