"""`ConsentMiddleware`: routing, the visitor's consent, and the per-request responder."""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .assets import Assets
from .banner import BannerRenderer
from .charsets import page_charset, sent_encoding
from .config import ConfigError, ConsentConfig, check_option_names
from .cookie import Consent, ConsentCodec
from .endpoints import ConsentEndpoints
from .fragments import fragment_request, return_path
from .headers import HeaderFilter, websocket_send
from .headers import edit_page_headers as _edit_page_headers
from .locales import choose_language
from .mime import TURBO_STREAM, extract_mime_type, scan_response
from .rewrite import HtmlRewriter, RewritePlan
from .rules import TrackerRules
from .transcoding import Transcoder
from .urls import Url, parse_url

logger = logging.getLogger("asgi_consent")

_NONCE = re.compile(rb"'nonce-([A-Za-z0-9+/=_-]+)'")
_CONSENT_MODE = {
    "analytics": ("analytics_storage",),
    "marketing": ("ad_storage", "ad_user_data", "ad_personalization"),
}


class ConsentMiddleware:
    """Cookie consent for any ASGI app: banner, signed choice, trackers held back.

    ::

        app = ConsentMiddleware(app, secret_key=os.environ["CONSENT_SECRET"],
                                policy_url="/privacy", expiry_days=180)

    Pass either `config=ConsentConfig(...)` or its fields as keyword arguments.
    Bad options raise `ConfigError` here, at start-up, naming the field.
    """

    def __init__(self, app: ASGIApp, config: ConsentConfig | None = None, **options: Any) -> None:
        if config is None:
            check_option_names(options)
            config = ConsentConfig(**options)
        elif options:
            raise ConfigError(
                "config", sorted(options)[0], "either config= or keyword options, not both"
            )
        elif not isinstance(config, ConsentConfig):
            raise ConfigError("config", config, "a ConsentConfig")
        self.app = app
        self.config = config
        self.codec = ConsentCodec(config)
        self.rules = TrackerRules(config)
        self.assets = Assets(config)
        self.banner = BannerRenderer(config, self.assets)
        self.endpoints = ConsentEndpoints(config, self.codec, self.rules, self.banner, self.assets)
        self._prefix = config.endpoint_prefix
        self._categories = frozenset(config.category_names)
        self.headers = HeaderFilter(
            self.rules, self.codec.cookie_name, config.cookie_parent_domains
        )
        # Accept-Language -> banner language; short headers only, so bounded in bytes
        self._languages: dict[bytes, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":  # its handshake may set cookies too
                consent = self.codec.deferred(scope["headers"])
                scope.setdefault("state", {})["consent"] = consent
                send = websocket_send(self.headers, consent, lambda: _document_url(scope), send)
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(self._prefix) and path[len(self._prefix) : len(self._prefix) + 1] in (
            "",
            "/",
        ):
            await self.endpoints(scope, receive, send)
            return
        # Read and verified only if someone asks: JSON and files never pay for it.
        consent = self.codec.deferred(scope["headers"])
        scope.setdefault("state", {})["consent"] = consent
        extensions = scope.get("extensions")
        if extensions and "http.response.pathsend" in extensions:
            # A file sent by path never passes through us; ask the app for its bytes.
            scope = dict(scope)
            scope["extensions"] = {
                k: v for k, v in extensions.items() if k != "http.response.pathsend"
            }
        responder = _Responder(self, scope, consent, send)
        await self.app(scope, receive, responder.send)

    # -- per-response decisions (called by the responder) ------------------------

    def plan_for(
        self, scope: Scope, consent: Consent, headers: list[tuple[bytes, bytes]]
    ) -> RewritePlan:
        """What to do to one HTML page for this visitor."""
        cfg = self.config
        decided = consent.decided
        granted = consent.categories  # `necessary` even before a choice
        blocked = self._categories - granted
        placeholder = None
        mime = extract_mime_type([value for key, value in headers if key == b"content-type"])
        fragment = fragment_request(scope["headers"]) or (
            mime is not None and mime.essence == TURBO_STREAM
        )
        next_path = (fragment and return_path(scope, cfg.trusted_origins)) or _page_path(scope)
        language = cfg.default_language
        if not decided or cfg.settings_button or blocked:
            language = self._language(scope)
        nonce = _csp_nonce(headers)
        if not decided:
            gpc = cfg.honor_gpc and any(
                key == b"sec-gpc" and value.strip() == b"1" for key, value in scope["headers"]
            )
            before_body_end = self.banner.banner(
                language, next_path=next_path, gpc=gpc, nonce=nonce
            )
        else:
            before_body_end = self.banner.settings(
                language, granted, next_path=next_path, nonce=nonce, control=cfg.settings_button
            )
        if blocked:
            banner = self.banner

            def placeholder(category: str, provider: str, page: str) -> bytes:
                return banner.placeholder(language, category, provider, page)

        head_start = b""
        if cfg.consent_mode:
            head_start = self._consent_mode_default(consent, nonce)
        return RewritePlan(
            granted=granted,
            blocked=blocked,
            rules=self.rules,
            before_body_end=before_body_end,
            head_start=head_start,
            placeholder=placeholder,
            page_path=next_path,
            document_url=_document_url(scope),
            fragment=fragment,
            xml=mime is not None and mime.essence == "application/xhtml+xml",
            encoding=sent_encoding(headers),
            cross_origin_insertion=_absolute_insertion(before_body_end, scope, self._prefix),
        )

    def _language(self, scope: Scope) -> str:
        cfg = self.config
        if cfg.language or cfg.language_selector is not None:
            return choose_language(cfg, Request(scope))
        accept = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")
        language = self._languages.get(accept)
        if language is None:
            language = choose_language(cfg, Request(scope))
            if len(accept) <= 256:  # real headers are short; visitors may send megabytes
                if len(self._languages) >= 1024:  # so at most ~300 KB
                    self._languages.clear()
                self._languages[accept] = language
        return language

    def _consent_mode_default(self, consent: Consent, nonce: str | None) -> bytes:
        states = [
            f"{signal}:{'granted' if consent.allows(category) else 'denied'}"
            for category, signals in _CONSENT_MODE.items()
            for signal in signals
        ]
        nonce_attr = f' nonce="{nonce}"' if nonce else ""
        return (
            f'<script src="{self.assets.url("consent-mode.js")}"'
            f' data-consent-state="{" ".join(states)}"{nonce_attr}></script>'
        ).encode()


def _document_url(scope: Scope) -> Url | None:
    """The page's own URL, as the browser has it: the base of its relative URLs."""
    host = next((v for k, v in scope["headers"] if k == b"host"), b"")
    scheme = scope.get("scheme", "http")
    path = _page_path(scope)
    return parse_url(f"{scheme}://{host.decode('latin-1')}{path}") if host else None


def _absolute_insertion(insertion: bytes, scope: Scope, prefix: str) -> bytes:
    """Our insertion with its URLs pinned to this host, for a page whose <base href>
    names another one (relative URLs would follow it)."""
    host = next((v for k, v in scope["headers"] if k == b"host"), b"")
    if not host or any(c in host for c in b'"<>\\/ '):
        return b""
    return insertion.replace(b'="' + prefix.encode(), b'="//' + host + prefix.encode())


def _page_path(scope: Scope) -> str:
    path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    full = path + (b"?" + query if query else b"")
    try:
        return full.decode("ascii")
    except UnicodeDecodeError:
        return "/"


def _csp_nonce(headers: list[tuple[bytes, bytes]]) -> str | None:
    for key, value in headers:
        if key == b"content-security-policy":
            found = _NONCE.search(value)
            if found:
                return found.group(1).decode("ascii")
    return None


class _Responder:
    """Wraps `send` for one request. Holds back `http.response.start` until the first
    body message: the page's encoding (and, without a Content-Type, whether it is HTML at
    all) is decided on its first bytes, and Content-Length can be set for one-piece
    bodies."""

    __slots__ = (
        "_mw", "_scope", "_consent", "_send", "_start", "_rewriter", "_passthrough",
        "_sniff", "_held", "_transcoder",
    )  # fmt: skip

    def __init__(self, mw: ConsentMiddleware, scope: Scope, consent: Consent, send: Send) -> None:
        self._mw = mw
        self._scope = scope
        self._consent = consent
        self._send = send
        self._start: Message | None = None
        self._rewriter: HtmlRewriter | None = None
        self._passthrough = True
        self._sniff = False  # no Content-Type: HTML only if the first bytes sniff as HTML
        self._held = b""  # the first body bytes while fewer than a byte order mark
        self._transcoder: Transcoder | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = message.get("headers") or []
            page, filtered = scan_response(self._scope["method"], message["status"], headers)
            message["headers"] = self._mw.headers.response(
                self._scope,
                self._consent,
                headers,
                base=lambda: _document_url(self._scope),
                page=page is not None,
                filtered=filtered,
            )
            if page is not None:
                self._start = message
                self._sniff = page == "sniff"
                self._passthrough = False
                return
            await self._send(message)
            return
        if kind == "http.response.early_hint":  # 103: Link headers fetched before the page
            links = self._mw.headers.links(
                message.get("links", ()), self._consent, lambda: _document_url(self._scope)
            )
            if links:
                await self._send({**message, "links": links})
            return
        if self._passthrough:
            if self._transcoder is not None and kind == "http.response.body":
                message = _transcoded(self._transcoder, message)  # a page given up mid-way
            await self._send(message)
            return
        if kind != "http.response.body":
            # Not a body we can rewrite (an extension message): let the page through
            # untouched, in order.
            self._passthrough = True
            if self._start is not None:
                start, self._start = self._start, None
                await self._send(start)
                if self._held:
                    await self._send(_body_message(self._held, more=True))
            elif self._rewriter is not None:  # mid-page: what the rewriter holds goes first
                held = self._rewriter.finish()
                self._rewriter = None
                await self._send({"type": "http.response.body", "body": held, "more_body": True})
            await self._send(message)
            return
        if self._start is not None:
            first = await self._first_body(self._start, message)
            if first is None:
                return
            message = first
        if self._transcoder is not None:
            message = _transcoded(self._transcoder, message)
        await self._body(message)

    async def _first_body(self, start: Message, message: Message) -> Message | None:
        """The first body message, once the page is decided on it; None when it was
        held (too short to decide) or sent on untouched (not a page after all)."""
        held, self._held = self._held, b""
        body = held + message.get("body", b"")
        more = message.get("more_body", False)
        if more and len(body) < 3:  # a byte order mark needs 3 bytes: wait for them
            self._held = body
            return None
        if held:
            message = _body_message(body, more=more)
        decided = page_charset(start["headers"], body, sniff=self._sniff, complete=not more)
        if decided is None:
            self._start = None
            self._passthrough = True
            await self._send(start)
            await self._send(message)
            return None
        content_type, self._transcoder = decided
        if content_type is not None:
            MutableHeaders(scope=start)["content-type"] = content_type.decode("latin-1")
        return message

    async def _body(self, message: Message) -> None:
        more = message.get("more_body", False)
        body: bytes = message.get("body", b"")
        if self._start is not None:
            start, self._start = self._start, None
            plan = self._mw.plan_for(self._scope, self._consent, start["headers"])
            if more:
                _edit_page_headers(start, None)
                self._rewriter = HtmlRewriter(plan)
                await self._send(start)
            else:
                body = HtmlRewriter(plan).rewrite_all(body)
                self._passthrough = True  # anything after the last body is not ours
                _edit_page_headers(start, len(body))
                await self._send(start)
                await self._send({"type": "http.response.body", "body": body})
                return
        rewriter = self._rewriter
        if rewriter is None:  # a body after the last one: not ours to judge
            await self._send(message)
            return
        if not more:
            out = rewriter.rewrite_all(body)
            self._rewriter = None
            self._passthrough = True
            await self._send({"type": "http.response.body", "body": out})
            return
        out = rewriter.feed(body)
        if out:
            await self._send({"type": "http.response.body", "body": out, "more_body": True})


def _body_message(body: bytes, *, more: bool) -> Message:
    return {"type": "http.response.body", "body": body, "more_body": more}


def _transcoded(transcoder: Transcoder, message: Message) -> Message:
    more = message.get("more_body", False)
    return _body_message(transcoder.feed(message.get("body", b""), not more), more=more)
