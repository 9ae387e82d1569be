"""The plan for one response: what the rewriter holds back and what it inserts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .config import NECESSARY
from .rules import TrackerRules
from .urls import Url

#: (category, provider, next path, the iframe's (width, height) attributes) -> the
#: click-to-load box shown instead of an iframe
Placeholder = Callable[[str, str, str, tuple[str, str] | None], bytes]


@dataclass(frozen=True, slots=True)
class RewritePlan:
    """What to do to one response for one visitor."""

    granted: frozenset[str]
    blocked: frozenset[str]
    rules: TrackerRules
    before_body_end: bytes = b""
    head_start: bytes = b""
    placeholder: Placeholder | None = None
    page_path: str = "/"
    document_url: Url | None = None
    fragment: bool = False  # the request says so (htmx, Turbo, Unpoly)
    xml: bool = False
    encoding: str = "utf-8"
    # Whether a tracker entry names the page's own host (None: the rewriter asks the
    # rules); where none does, relative URLs stay on a host we need not look at.
    document_host_known: bool | None = None
    # Our URLs as written in the insertion, and pinned to this host: for a page whose
    # <base href> names another one (relative URLs would follow it). None: no usable host.
    pin: tuple[bytes, bytes] | None = None
    # Whether head_start begins with the run-time guard (per visitor: not cacheable_html),
    # which a document in an iframe's srcdoc gets too (see `frame_start`).
    guard_first: bool = False

    @property
    def cross_origin_insertion(self) -> bytes:
        """Our insertion with its URLs pinned to this host (b"" if it cannot be)."""
        if self.pin is None:
            return b""
        return self.before_body_end.replace(*self.pin)

    @property
    def frame_start(self) -> bytes:
        """What an iframe's srcdoc document gets first (b"": nothing): the guard's element
        from our <head> insertion, pinned to this host (a srcdoc document takes the page's
        base URL, which a <base> may move). Asked only where a srcdoc is."""
        if not self.guard_first or self.pin is None:
            return b""
        return self.head_start[: self.head_start.index(b"</script>") + 9].replace(*self.pin)

    def refuses(self, category: str) -> bool:
        """Whether markup of `category` must be held back: any category not granted,
        also one we do not know (a typo in data-consent fails closed)."""
        return category != NECESSARY and category not in self.granted
