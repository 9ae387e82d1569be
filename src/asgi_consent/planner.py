"""What one page gets for one visitor: the `RewritePlan`.

The banner or the settings control, in which language; first in <head>, the run-time
guard and the consent signals' defaults (Google, Microsoft); the page's CSP nonce on
everything we insert; click-to-load placeholders for held-back frames; and how the page
is read (its own URL, fragment or document, XHTML, encoding). The middleware asks once
per HTML response; the rewriter follows the plan.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import Scope

from .banner import BannerRenderer
from .charsets import sent_encoding
from .config import ConsentConfig
from .cookie import NO_CHOICE, Consent
from .fragments import fragment_request, return_path
from .locales import choose_language
from .memo import Memo
from .mime import TURBO_STREAM, ContentTypes
from .plan import Placeholder, RewritePlan
from .rules import TrackerRules
from .urls import Url, parse_url

if TYPE_CHECKING:
    from .cacheable import CacheablePages

Headers = list[tuple[bytes, bytes]]

_NONCE = re.compile(rb"'nonce-([A-Za-z0-9+/=_-]+)'")
_XHTML = "application/xhtml+xml"


class PagePlanner:
    """Plans pages for one config. Holds no per-request state; remembers only which
    language an Accept-Language header chooses."""

    def __init__(
        self,
        config: ConsentConfig,
        rules: TrackerRules,
        banner: BannerRenderer,
        cacheable: CacheablePages | None = None,
        content_types: ContentTypes | None = None,
    ) -> None:
        self._config = config
        self._types = content_types or ContentTypes()
        self._cacheable = cacheable  # with `cacheable_html`: the same page for everyone
        self._rules = rules
        self._banner = banner
        self._prefix = config.endpoint_prefix
        self._categories = frozenset(config.category_names)
        # Real Accept-Language headers are short; a visitor may send megabytes.
        self._languages: Memo[bytes, str] = Memo(size=1024, longest=256)
        # The page's own URL, parsed (a browser's URL parser, in Python: ~15 µs), and
        # whether a tracker entry names its host.
        self._documents: Memo[str, tuple[Url | None, bool | None]] = Memo(
            size=1024, longest=512
        )

    def plan(self, scope: Scope, consent: Consent, headers: Headers) -> RewritePlan:
        """What to do to one HTML page (response `headers`) for this visitor."""
        cfg = self._config
        if self._cacheable is not None:  # the choice is read in the browser instead
            consent = NO_CHOICE
        granted = consent.categories  # `necessary` even before a choice
        blocked = self._categories - granted
        mime = self._types.of([value for key, value in headers if key == b"content-type"])
        fragment = fragment_request(scope["headers"]) or (
            mime is not None and mime.essence == TURBO_STREAM
        )
        own_path = page_path(scope)
        next_path = (fragment and return_path(scope, cfg.trusted_origins)) or own_path
        language = cfg.default_language
        if not consent.decided or cfg.settings_button or blocked:
            language = self.language(scope)
        nonce = csp_nonce(headers)
        # The guard only where something is refused: it has nothing to hold otherwise.
        guard = cfg.runtime_guard and bool(blocked)
        if self._cacheable is not None:
            before_body_end = self._cacheable.insertion(language, next_path, nonce)
            head_start = self._cacheable.head(nonce) + self._banner.head.scripts(
                granted, nonce, guard, cached=True
            )
        else:
            before_body_end = self._insertion(scope, consent, language, next_path, nonce)
            head_start = self._banner.head.scripts(granted, nonce, guard)
        document, host_known = self._documents.get(
            document_text(scope, own_path), self._document
        )
        return RewritePlan(
            granted=granted,
            blocked=blocked,
            rules=self._rules,
            before_body_end=before_body_end,
            head_start=head_start,
            placeholder=self._placeholder(language) if blocked else None,
            page_path=next_path,
            document_url=document,
            document_host_known=host_known,
            fragment=fragment,
            xml=mime is not None and mime.essence == _XHTML,
            encoding=sent_encoding(mime),
            pin=insertion_pin(scope, self._prefix),
            guard_first=guard and self._cacheable is None,
        )

    def language(self, scope: Scope) -> str:
        """The banner language for this request (see `choose_language`)."""
        cfg = self._config
        if self._cacheable is not None:
            return self._cacheable.language(scope)
        if cfg.language or cfg.language_selector is not None:
            return choose_language(cfg, Request(scope))
        accept = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")
        return self._languages.get(accept, lambda _: choose_language(cfg, Request(scope)))

    def _insertion(
        self, scope: Scope, consent: Consent, language: str, next_path: str, nonce: str | None
    ) -> bytes:
        """Our markup before </body>: the banner before a choice, after it the settings
        control (or only our script, without `settings_button`)."""
        cfg = self._config
        if consent.decided:
            return self._banner.settings(
                language,
                consent.categories,
                next_path=next_path,
                nonce=nonce,
                control=cfg.settings_button,
                consent_id=consent.consent_id,
            )
        gpc = cfg.honor_gpc and any(
            key == b"sec-gpc" and value.strip() == b"1" for key, value in scope["headers"]
        )
        return self._banner.banner(
            language, next_path=next_path, gpc=gpc, nonce=nonce, granted=consent.categories
        )

    def _document(self, text: str) -> tuple[Url | None, bool | None]:
        url = _parsed_document(text)
        return url, (self._rules.knows_host(url.host) if url is not None else None)

    def _placeholder(self, language: str) -> Placeholder:
        banner = self._banner

        def placeholder(
            category: str, provider: str, page: str, size: tuple[str, str] | None
        ) -> bytes:
            return banner.placeholder(language, category, provider, page, size)

        return placeholder


def document_url(scope: Scope) -> Url | None:
    """The page's own URL, as the browser has it: the base of its relative URLs."""
    return _parsed_document(document_text(scope))


def document_text(scope: Scope, path: str | None = None) -> str:
    """The page's own URL as text ("" without a Host header); `path`: its `page_path`."""
    host = next((v for k, v in scope["headers"] if k == b"host"), b"")
    if not host:
        return ""
    scheme = scope.get("scheme", "http")
    return f"{scheme}://{host.decode('latin-1')}{path or page_path(scope)}"


def _parsed_document(text: str) -> Url | None:
    return parse_url(text) if text else None


def page_path(scope: Scope) -> str:
    """The request's path and query as sent (the `next` of our forms); "/" if not ASCII."""
    path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    full = path + (b"?" + query if query else b"")
    try:
        return full.decode("ascii")
    except UnicodeDecodeError:
        return "/"


def insertion_pin(scope: Scope, prefix: str) -> tuple[bytes, bytes] | None:
    """How our insertion's URLs are pinned to this host (`RewritePlan.pin`), for a page
    whose <base href> names another one (relative URLs would follow it)."""
    host = next((v for k, v in scope["headers"] if k == b"host"), b"")
    if not host or any(c in host for c in b'"<>\\/ '):
        return None
    ours = prefix.encode()
    return b'="' + ours, b'="//' + host + ours


def csp_nonce(headers: Headers) -> str | None:
    """The nonce of the page's Content-Security-Policy, for the elements we insert."""
    for key, value in headers:
        if key == b"content-security-policy":
            found = _NONCE.search(value)
            if found:
                return found.group(1).decode("ascii")
    return None
