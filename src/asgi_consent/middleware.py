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
from .config import ConfigError, ConsentConfig, check_option_names
from .cookie import Consent, ConsentCodec
from .endpoints import ConsentEndpoints
from .locales import choose_language
from .rewrite import HtmlRewriter, RewritePlan
from .rules import TrackerRules

logger = logging.getLogger("asgi_consent")

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")
# Charsets in which every ASCII byte means that ASCII character (so byte-level
# matching of tags is sound). UTF-16/32 and EBCDIC pages pass through untouched.
_ASCII_COMPATIBLE = re.compile(
    rb"(?:utf-?8|us-ascii|ascii|iso-?8859-\d+|latin-?1|windows-125\d|cp125\d|koi8-[ru]"
    rb"|gb2312|gbk|gb18030|big5|euc-jp|euc-kr|shift_jis|sjis|tis-620|x-user-defined)"
)
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
        self._tracker_cookie_check = self.rules.cookie_category
        self._languages: dict[bytes, str] = {}  # Accept-Language -> banner language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
        next_path = _page_path(scope)
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
        )

    def _language(self, scope: Scope) -> str:
        cfg = self.config
        if cfg.language or cfg.language_selector is not None:
            return choose_language(cfg, Request(scope))
        accept = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")
        language = self._languages.get(accept)
        if language is None:
            if len(self._languages) > 1024:  # bounded: headers come from visitors
                self._languages.clear()
            language = choose_language(cfg, Request(scope))
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

    def refused_cookie(self, name: str, consent: Consent) -> bool:
        """Whether a Set-Cookie for `name` must be dropped for this visitor."""
        category = self._tracker_cookie_check(name)
        return category is not None and not consent.allows(category)


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


def _eligible(scope: Scope, status: int, content_type: bytes, encoding: bytes) -> bool:
    """Whether a response is HTML we may rewrite."""
    if scope["method"] == "HEAD" or status < 200 or status in (204, 206, 304):
        return False
    if encoding.strip().lower() not in (b"", b"identity"):
        return False
    media_type, _, params = content_type.lower().partition(b";")
    if media_type.strip() not in _HTML_TYPES:
        return False
    charset = params.partition(b"charset=")[2].split(b";")[0].strip(b" \t\"'")
    return not charset or _ASCII_COMPATIBLE.fullmatch(charset) is not None


class _Responder:
    """Wraps `send` for one request. Holds back `http.response.start` until the first
    body message, so that Content-Length can be set for one-piece bodies."""

    __slots__ = ("_mw", "_scope", "_consent", "_send", "_start", "_rewriter", "_passthrough")

    def __init__(self, mw: ConsentMiddleware, scope: Scope, consent: Consent, send: Send) -> None:
        self._mw = mw
        self._scope = scope
        self._consent = consent
        self._send = send
        self._start: Message | None = None
        self._rewriter: HtmlRewriter | None = None
        self._passthrough = True

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            # ASGI asks for lower-case header names; some apps (Django) send
            # "Content-Type". One pass to learn what we need to know.
            content_type = encoding = b""
            cookies = False
            for key, value in message.get("headers", ()):
                key = key.lower()
                if key == b"content-type":
                    content_type = value
                elif key == b"set-cookie":
                    cookies = True
                elif key == b"content-encoding":
                    encoding = value
            eligible = _eligible(self._scope, message["status"], content_type, encoding)
            if cookies or eligible:  # headers we will edit: normalised names
                headers = [(key.lower(), value) for key, value in message["headers"]]
                message["headers"] = self._drop_refused_cookies(headers) if cookies else headers
            if eligible:
                self._start = message
                self._passthrough = False
                return
            await self._send(message)
            return
        if self._passthrough:
            await self._send(message)
            return
        if kind != "http.response.body":
            # Not a body we can rewrite (an extension message): let the page through
            # untouched, in order.
            self._passthrough = True
            if self._start is not None:
                start, self._start = self._start, None
                await self._send(start)
            elif self._rewriter is not None:  # mid-page: what the rewriter holds goes first
                held = self._rewriter.finish()
                self._rewriter = None
                await self._send({"type": "http.response.body", "body": held, "more_body": True})
            await self._send(message)
            return
        await self._body(message)

    def _drop_refused_cookies(
        self, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        kept = []
        for key, value in headers:
            if key == b"set-cookie":
                name = value.split(b"=", 1)[0].strip().decode("latin-1")
                if self._mw.refused_cookie(name, self._consent):
                    continue
            kept.append((key, value))
        return kept

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


# Validators of the app's bytes no longer describe what we send.
_STALE_HEADERS = frozenset({b"etag", b"accept-ranges", b"content-md5"})


def _edit_page_headers(start: Message, length: int | None) -> None:
    """Headers of a page we rewrite, edited in place in one pass: private caching, no
    stale validators, Content-Length only for a one-piece body, then Vary: Cookie.
    Repeated headers (Set-Cookie) are kept."""
    kept: list[tuple[bytes, bytes]] = []
    cache_control = content_length = False
    directives = b", ".join(v for k, v in start["headers"] if k == b"cache-control")
    for key, value in start["headers"]:
        if key == b"cache-control":
            if not cache_control:  # every Cache-Control header, merged into the first
                kept.append((key, _private(directives)))
                cache_control = True
        elif key == b"content-length":
            if length is not None and not content_length:
                kept.append((key, str(length).encode()))
                content_length = True
        elif key not in _STALE_HEADERS:
            kept.append((key, value))
    start["headers"] = kept
    headers = MutableHeaders(scope=start)
    headers.add_vary_header("Cookie")
    if not cache_control:
        headers.append("cache-control", "private")
    if length is not None and not content_length:
        headers.append("content-length", str(length))


def _private(current: bytes) -> bytes:
    """This page differs per visitor: no shared cache may keep it."""
    directives = [d.strip() for d in current.decode("latin-1").split(",") if d.strip()]
    lowered = [d.lower() for d in directives]
    if "no-store" in lowered or "private" in lowered:
        return current
    kept = [
        d
        for d, low in zip(directives, lowered, strict=True)
        if low != "public" and not low.startswith("s-maxage")
    ]
    return ", ".join(["private", *kept]).encode("latin-1")
