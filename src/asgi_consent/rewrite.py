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
import re
from collections.abc import Callable
from dataclasses import dataclass

from .rules import TrackerRules

logger = logging.getLogger("asgi_consent")

HOLD_LIMIT = 64 * 1024
# Bytes kept after the last `</body>` while we wait to learn it was the last one.
TAIL_LIMIT = 256 * 1024

# Start or end of a tag that matters, in the lower-cased buffer. The lookahead needs
# one byte after the name, so a name cut by a chunk boundary is simply not matched yet.
_MARKER = re.compile(
    rb"<(?:!--|(/?)(script|iframe|img|noscript|link|body|head|style|textarea|title|xmp)"
    rb"(?=[\s/>]))"
)
# The rest of a tag after its name: quotes count only as attribute values.
_TAG_REST = re.compile(rb"""(?:[^>"'=]++|=\s*+(?:"[^"]*+"|'[^']*+'|(?!["']))|["'])*+>""")
_ATTRIBUTE = re.compile(
    rb"""([^\s"'>/=][^\s"'>/=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?"""
)
_RAW_TEXT = {b"style", b"textarea", b"title", b"xmp"}
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
_PRELOADING_RELS = {b"preload", b"modulepreload", b"prefetch", b"preconnect", b"dns-prefetch"}

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

    @property
    def scans(self) -> bool:
        """Whether every tag must be looked at (something to block or to put in <head>)."""
        return bool(self.blocked or self.head_start)


class _Attributes:
    """The attributes of one tag, as spans into the tag's bytes (lower-cased copy)."""

    __slots__ = ("spans",)

    def __init__(self, lower_tag: bytes, start: int) -> None:
        self.spans: dict[bytes, tuple[int, int, bytes]] = {}
        for m in _ATTRIBUTE.finditer(lower_tag, start):
            name = m.group(1)
            if name not in self.spans:
                value = m.group(2) if m.group(2) is not None else m.group(3)
                if value is None:
                    value = m.group(4) or b""
                self.spans[name] = (m.start(), m.end(), value.strip())

    def get(self, name: bytes) -> bytes | None:
        found = self.spans.get(name)
        return found[2] if found else None

    def __contains__(self, name: bytes) -> bool:
        return name in self.spans


def _escape_attr(value: bytes) -> bytes:
    return value.replace(b"&", b"&amp;").replace(b'"', b"&quot;").replace(b"<", b"&lt;")


def _edit_tag(
    tag: bytes,
    attrs: _Attributes,
    name_length: int,
    *,
    rename: dict[bytes, bytes],
    add: bytes,
) -> bytes:
    """`tag` with some attribute names renamed and `add` put right after the tag name."""
    edits = sorted(
        (attrs.spans[old][0], attrs.spans[old][0] + len(old), new)
        for old, new in rename.items()
        if old in attrs.spans
    )
    out = [tag[: 1 + name_length], add]
    at = 1 + name_length
    for start, end, replacement in edits:
        out += (tag[at:start], replacement)
        at = end
    out.append(tag[at:])
    return b"".join(out)


class HtmlRewriter:
    """Rewrites one HTML document, chunk by chunk: `feed()` each chunk, then `finish()`."""

    def __init__(self, plan: RewritePlan) -> None:
        self._plan = plan
        self._scan = plan.scans
        self._buf = bytearray()  # input not yet decided on
        self._raw_end: bytes | None = None  # closing marker of the raw text we are inside
        self._tail: bytearray | None = None  # output held from the latest </body>
        self._body_end_passed = False
        self._head_done = not plan.head_start
        self._failed = False

    # -- public ---------------------------------------------------------------

    def feed(self, chunk: bytes) -> bytes:
        if self._failed:
            return chunk
        try:
            return self._feed(chunk, final=False)
        except Exception:  # pragma: no cover - defensive: a page is never broken
            return self._fail(chunk)

    def finish(self) -> bytes:
        if self._failed:
            return b""
        try:
            out = self._feed(b"", final=True)
        except Exception:  # pragma: no cover - defensive: a page is never broken
            return self._fail(b"")
        insertion = self._plan.before_body_end
        if self._tail is not None:
            return out + insertion + bytes(self._tail)
        if self._body_end_passed and insertion:
            # the last </body> is long behind us; the parser moves this into <body>
            return out + insertion
        return out

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

    def _feed(self, chunk: bytes, *, final: bool) -> bytes:
        out: list[bytes] = []
        lower = chunk.lower()
        if not self._scan and b"text/plain" not in lower:
            self._feed_fast(chunk, lower, out, final=final)
        else:
            self._scan = True
            self._buf += chunk
            self._feed_scan(out, final=final)
        return b"".join(out)

    def _feed_fast(self, chunk: bytes, lower: bytes, out: list[bytes], *, final: bool) -> None:
        """Nothing to block: only find the last </body>, searching back from the end."""
        data = chunk
        if self._buf:  # at most a few bytes that may begin "</body"
            data = bytes(self._buf) + chunk
            lower = data.lower()
            self._buf.clear()
        at = lower.rfind(b"</body")
        if at >= 0 and self._plan.before_body_end:
            self._emit(out, data[:at])
            self._body_end(out)
            self._emit(out, data[at:])
            return
        keep = 0 if final else _partial_marker_length(lower, b"</body")
        self._emit(out, data[: len(data) - keep])
        self._buf += data[len(data) - keep :]

    def _feed_scan(self, out: list[bytes], *, final: bool) -> None:
        buf = bytes(self._buf)
        lower = buf.lower()
        pos = self._scan_from(buf, lower, 0, out, final=final, in_noscript=False)
        del self._buf[:pos]

    def _scan_from(  # noqa: C901 - one state machine, kept in one place
        self,
        buf: bytes,
        lower: bytes,
        pos: int,
        out: list[bytes],
        *,
        final: bool,
        in_noscript: bool,
    ) -> int:
        end = len(buf)
        while pos < end:
            if self._raw_end is not None:
                close = lower.find(self._raw_end, pos)
                if close < 0:
                    keep = 0 if final else len(self._raw_end) - 1
                    stop = max(pos, end - keep)
                    self._emit(out, buf[pos:stop])
                    return stop
                if self._raw_end == b"-->":
                    close += 3
                self._emit(out, buf[pos:close])
                pos = close
                self._raw_end = None
                continue
            m = _MARKER.search(lower, pos)
            if m is None:
                stop = end if final else end - _partial_tag_length(lower)
                stop = max(stop, pos)
                self._emit(out, buf[pos:stop])
                return stop
            start = m.start()
            self._emit(out, buf[pos:start])
            pos = start
            name = m.group(2)
            if name is None:  # a comment
                self._raw_end = b"-->"
                self._emit(out, buf[start : start + 2])
                pos = start + 2
                continue
            if m.group(1):  # an end tag
                if name == b"body" and not in_noscript:
                    self._body_end(out)
                self._emit(out, buf[start : m.end()])
                pos = m.end()
                continue
            window = min(end, start + HOLD_LIMIT)
            tag_end = _TAG_REST.match(lower, m.end(), window)
            if tag_end is None:
                if final or window < end:
                    # An unfinished tag: give up on it, as a browser would see text.
                    self._emit(out, buf[start : m.end()])
                    pos = m.end()
                    continue
                return start
            stop = tag_end.end()
            handled = self._tag(buf, lower, start, stop, name, out, final, in_noscript)
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
        name: bytes,
        out: list[bytes],
        final: bool,
        in_noscript: bool,
    ) -> int | None:
        """Handle one complete start tag; return where to go on, or None to wait for input."""
        tag = buf[start:stop]
        if name in _RAW_TEXT:
            self._emit(out, tag)
            self._raw_end = b"</" + name
            return stop
        if name == b"head" or name == b"body":
            if not self._head_done and not in_noscript:
                self._head_done = True
                if name == b"head":
                    self._emit(out, tag + self._plan.head_start)
                    return stop
                self._emit(out, self._plan.head_start)
            self._emit(out, tag)
            return stop
        if not self._plan.blocked and name != b"script":
            self._emit(out, tag)
            return stop
        attrs = _Attributes(lower[start:stop], 1 + len(name))
        if name == b"script":
            return self._script(buf, lower, start, stop, attrs, out, final)
        if name == b"noscript":
            return self._noscript(buf, lower, start, stop, out, final)
        loads = (b"href",) if name == b"link" else (b"src", b"srcset")
        if not any(attr in attrs for attr in loads):
            self._emit(out, tag)  # nothing it could load: already inert, or empty
            return stop
        category, provider = self._element_category(name, attrs)
        if category is None or category not in self._plan.blocked:
            self._emit(out, tag)
            return stop
        add = b"" if b"data-consent" in attrs else b' data-consent="' + category.encode() + b'"'
        if name == b"link":
            self._emit(
                out, _edit_tag(tag, attrs, 4, rename={b"href": b"data-consent-href"}, add=add)
            )
            return stop
        rename = {b"src": b"data-consent-src", b"srcset": b"data-consent-srcset"}
        if name == b"iframe":
            if not in_noscript and self._plan.placeholder is not None:
                placeholder = self._plan.placeholder(category, provider, self._plan.page_path)
                self._emit(out, placeholder)
                add += b" hidden data-consent-hidden"
            self._emit(out, _edit_tag(tag, attrs, 6, rename=rename, add=add))
            return stop
        self._emit(out, _edit_tag(tag, attrs, 3, rename=rename, add=add))
        return stop

    def _element_category(self, name: bytes, attrs: _Attributes) -> tuple[str | None, str]:
        marked = attrs.get(b"data-consent")
        if marked:
            return marked.decode("latin-1"), ""
        rules = self._plan.rules
        if name == b"iframe":
            url = attrs.get(b"src")
            found = rules.url("iframe", url) if url else None
        elif name == b"img":
            url = attrs.get(b"src")
            found = rules.url("pixel", url) if url else None
        else:  # link: only the kinds that fetch or connect ahead
            rels = set((attrs.get(b"rel") or b"").split())
            url = attrs.get(b"href")
            found = rules.any_url(url) if url and rels & _PRELOADING_RELS else None
            if found is None and url and b"stylesheet" in rels:
                found = rules.url("script", url)
        return (found.category, found.provider) if found else (None, "")

    def _script(  # noqa: C901
        self,
        buf: bytes,
        lower: bytes,
        start: int,
        stop: int,
        attrs: _Attributes,
        out: list[bytes],
        final: bool,
    ) -> int | None:
        tag = buf[start:stop]
        script_type = (attrs.get(b"type") or b"").split(b";")[0].strip()
        blocked = self._plan.blocked
        marked = attrs.get(b"data-consent") or attrs.get(b"data-category")
        if script_type == b"text/plain" and marked:
            # Inert markup (ours, or vanilla-cookieconsent / Cookiebot style): wake it
            # up server-side when its category is granted.
            if marked.decode("latin-1") in self._plan.granted:
                original = attrs.get(b"data-consent-type") or attrs.get(b"data-type") or b""
                tag = _set_script_type(tag, attrs, original)
            self._emit(out, tag)
            self._raw_end = b"</script"
            return stop
        if script_type not in _JS_TYPES or not blocked:
            self._emit(out, tag)
            self._raw_end = b"</script"
            return stop
        category = marked.decode("latin-1") if marked else None
        src = attrs.get(b"src")
        if category is None and src:
            found = self._plan.rules.url("script", src)
            category = found.category if found else None
        if category is None and not src and self._plan.rules.has_markers_for(blocked):
            window = min(len(buf), start + HOLD_LIMIT)
            close = lower.find(b"</script", stop, window)
            if close < 0:
                if not final and window == len(buf):
                    return None
                self._emit(out, tag)
                self._raw_end = b"</script"
                return stop
            category = self._plan.rules.inline(lower[stop:close], blocked)
        if category is None or category not in blocked:
            self._emit(out, tag)
        else:
            add = b' type="text/plain"'
            if b"data-consent" not in attrs:
                add += b' data-consent="' + category.encode() + b'"'
            self._emit(
                out, _edit_tag(tag, attrs, 6, rename={b"type": b"data-consent-type"}, add=add)
            )
        self._raw_end = b"</script"
        return stop

    def _noscript(
        self, buf: bytes, lower: bytes, start: int, stop: int, out: list[bytes], final: bool
    ) -> int | None:
        # With scripting on, a browser reads <noscript> as raw text; without it, as
        # markup. We rewrite the pixels and iframes inside for visitors without JS.
        window = min(len(buf), start + HOLD_LIMIT)
        close = lower.find(b"</noscript", stop, window)
        if close < 0:
            if not final and window == len(buf):
                return None
            self._emit(out, buf[start:stop])
            self._raw_end = b"</noscript"
            return stop
        self._emit(out, buf[start:stop])
        inner: list[bytes] = []
        saved_tail, self._tail = self._tail, None
        self._scan_from(buf[:close], lower[:close], stop, inner, final=True, in_noscript=True)
        self._raw_end = None
        self._tail = saved_tail
        self._emit(out, b"".join(inner))
        return close


def _set_script_type(tag: bytes, attrs: _Attributes, script_type: bytes) -> bytes:
    start, end, _ = attrs.spans[b"type"]
    replacement = b'type="' + _escape_attr(script_type) + b'"' if script_type else b""
    return tag[:start] + replacement + tag[end:]


def _partial_marker_length(lower: bytes, marker: bytes) -> int:
    """How many bytes at the end of `lower` could be the start of `marker`."""
    for size in range(min(len(marker) - 1, len(lower)), 0, -1):
        if marker.startswith(lower[-size:]):
            return size
    return 0


def _partial_tag_length(lower: bytes) -> int:
    """Bytes at the end that may be an unfinished marker such as `<scri` or `</bod`."""
    at = lower.rfind(b"<", max(0, len(lower) - 12))
    return len(lower) - at if at >= 0 else 0
