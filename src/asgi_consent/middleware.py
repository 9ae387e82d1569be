"""`ConsentMiddleware`: routing, the visitor's consent, and the per-request responder."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .assets import Assets
from .banner import BannerRenderer
from .cacheable import CacheablePages, rewrite_whole
from .charsets import page_charset
from .config import ConfigError, ConsentConfig
from .contentcoding import Deflater, Inflater
from .cookie import Consent, ConsentCodec
from .endpoints import ConsentEndpoints
from .errors import StartupFailure, built_lazily
from .headers import HeaderFilter, edit_page_headers, private_headers, websocket_send
from .mime import ContentTypes
from .plan import RewritePlan
from .planner import PagePlanner, document_url
from .rewrite import HtmlRewriter
from .rules import TrackerRules
from .transcoding import Transcoder
from .urls import Url

if TYPE_CHECKING:
    from .log.choices import ChoiceLog

Headers = list[tuple[bytes, bytes]]
PlanPage = Callable[[Scope, Consent, Headers], RewritePlan]
ScanResponse = Callable[[str, int, Headers], tuple[str | None, bool, bytes | None]]
RewriteWhole = Callable[[RewritePlan, bytes], bytes]
EditHeaders = Callable[[Message, int | None], None]
PageCharset = Callable[..., tuple[bytes | None, Transcoder | None] | None]  # page_charset


class ConsentMiddleware:
    """Cookie consent for any ASGI app: banner, signed choice, trackers held back.

    ::

        app = ConsentMiddleware(app, secret_key=os.environ["CONSENT_SECRET_KEY"],
                                policy_url="/privacy", expiry_days=180)

    Pass either `config=ConsentConfig(...)` or its fields as keyword arguments.
    Bad options raise `ConfigError` here, naming the field. Added with Starlette's or
    FastAPI's `add_middleware`, we are built on the first ASGI call instead, the lifespan
    start-up, where a server swallows exceptions (uvicorn's default `--lifespan auto`
    would then answer every request with a 500): there a bad config fails the start-up,
    and the server logs the error and exits.
    """

    def __init__(self, app: ASGIApp, config: ConsentConfig | None = None, **options: Any) -> None:
        self.app = app
        self._failure: StartupFailure | None = None
        try:
            config = _config_of(config, options)
        except ConfigError as error:
            if not built_lazily():
                raise
            self._failure = StartupFailure(error)
            return
        self.config = config
        self.codec = ConsentCodec(config)
        self.rules = TrackerRules(config)
        self.assets = Assets(config, self.rules)
        self.banner = BannerRenderer(config, self.assets)
        self.consent_log = _choice_log(config)
        self.endpoints = ConsentEndpoints(
            config, self.codec, self.rules, self.banner, self.assets, self.consent_log
        )
        self.cacheable = (
            CacheablePages(config, self.assets, self.banner) if config.cacheable_html else None
        )
        self.content_types = ContentTypes()
        self.planner = PagePlanner(
            config, self.rules, self.banner, self.cacheable, self.content_types
        )
        self.headers = HeaderFilter(
            self.rules,
            self.codec.cookie_name,
            config.cookie_parent_domains,
            shared=config.cacheable_html,
        )
        self._prefix = config.endpoint_prefix
        # What each responder is given, bound once: a page's plan and a response's kind.
        self._plan = self.planner.plan
        self._scan = self.content_types.scan_response
        self._charset: PageCharset = partial(page_charset, types=self.content_types)
        # A page's whole-body rewrite and header edits: per visitor, or the same for all.
        self._page: tuple[RewriteWhole, EditHeaders] = (
            (self.cacheable.rewrite_whole, self.cacheable.edit_headers)
            if self.cacheable is not None
            else (rewrite_whole, edit_page_headers)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._failure is not None:  # a bad config, built lazily: see the docstring
            await self._failure(scope, receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "lifespan" and self.consent_log is not None:
                from .log.lifespan import lifespan_with_writer

                await lifespan_with_writer(self.app, self.consent_log.writer, scope, receive, send)
                return
            if scope["type"] == "websocket":  # its handshake may set cookies too
                consent = self.codec.deferred(scope["headers"])
                scope.setdefault("state", {})["consent"] = consent
                send = websocket_send(self.headers, consent, lambda: document_url(scope), send)
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
        if self.cacheable is not None:  # If-None-Match with our ETags: the app's own
            scope, send = self.cacheable.conditional(scope, send)
        responder = _Responder(
            scope, consent, send, self._scan, self._plan, self.headers, *self._page, self._charset
        )
        await self.app(scope, receive, responder.send)


def _choice_log(config: ConsentConfig) -> ChoiceLog | None:
    if config.consent_log is None:
        return None
    from .log.choices import ChoiceLog  # the log package is loaded only for a site with one

    return ChoiceLog.from_config(config)


# The responder's states. WAITING_START: nothing sent yet. PASSING: everything forwarded
# as it comes (transcoded if a page was given up mid-way). DECIDING: the start of an HTML
# page held until its first body bytes say how it is encoded (and, without a
# Content-Type, whether it is HTML at all). REWRITING: a streamed page through the
# rewriter. In this order, so that `state <= PASSING` is "forward it".
WAITING_START, PASSING, DECIDING, REWRITING = range(4)
_NO_START: Message = {}  # never changed: the responder only ever replaces it


class _Responder:
    """Wraps `send` for one request. Given the values and callables it needs (what kind
    of response it is, the page's plan, the header filter), never the middleware."""

    __slots__ = (
        "_scope", "_consent", "_send", "_scan", "_plan", "_headers", "_state",
        "_start", "_sniff", "_held", "_rewriter", "_transcoder", "_rewrite_whole",
        "_edit_headers", "_charset", "_inflater",
    )  # fmt: skip

    def __init__(
        self,
        scope: Scope,
        consent: Consent,
        send: Send,
        scan: ScanResponse,
        plan: PlanPage,
        headers: HeaderFilter,
        rewrite_whole: RewriteWhole = rewrite_whole,
        edit_headers: EditHeaders = edit_page_headers,
        charset: PageCharset = page_charset,
    ) -> None:
        self._scope = scope
        self._consent = consent
        self._send = send
        self._scan = scan
        self._plan = plan
        self._headers = headers
        self._rewrite_whole = rewrite_whole
        self._edit_headers = edit_headers
        self._charset = charset
        self._state = WAITING_START
        # Held while DECIDING: the start message, whether the page is only HTML if its
        # first bytes sniff as HTML, and first body bytes fewer than a byte order mark.
        self._start: Message = _NO_START
        self._sniff = False
        self._held = b""
        self._rewriter: HtmlRewriter | None = None  # REWRITING
        self._transcoder: Transcoder | None = None  # a UTF-16 or ISO-2022-JP page
        self._inflater: Inflater | None = None  # a page compressed inside the app

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = message.get("headers") or []
            status = message["status"]
            if status == 206 and not _asks_range(self._scope):
                status = 200  # no answer to a Range request: a browser renders it whole
            page, filtered, coding = self._scan(self._scope["method"], status, headers)
            message["headers"] = self._headers.response(
                self._scope,
                self._consent,
                headers,
                base=self._base,
                page=page is not None,
                filtered=filtered,
            )
            if page is not None and self._scope["method"] == "HEAD":
                # No body: the headers its GET gets (no Content-Length: ours is unknown).
                self._edit_headers(message, None)
            elif page is not None:  # held until its first body bytes decide it
                if coding is not None:
                    self._decompress(message, coding)
                self._start = message
                self._sniff = page == "sniff"
                self._state = DECIDING
                return
            if self._state == WAITING_START:
                self._state = PASSING
            await self._send(message)
            return
        if kind == "http.response.early_hint":  # 103: Link headers fetched before the page
            links = self._headers.links(message.get("links", ()), self._consent, self._base)
            if links:
                await self._send({**message, "links": links})
            return
        if self._inflater is not None and kind == "http.response.body":
            message = self._inflated(message)
        if self._state <= PASSING:
            if self._transcoder is not None and kind == "http.response.body":
                message = self._decoded(message)  # a page given up mid-way stays UTF-8
            await self._send(message)
        elif kind != "http.response.body":
            await self._give_up(message)
        elif self._state == DECIDING:
            await self._first_body(message)
        else:
            await self._rewrite(self._decoded(message))

    def _decompress(self, start: Message, coding: bytes) -> None:
        """A page compressed inside the app: read decoded, and sent compressed again
        with its `coding` (the app's Content-Length no longer holds)."""
        self._inflater = Inflater(coding)
        start["headers"] = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        deflater, send = Deflater(coding), self._send

        async def send_compressed(message: Message) -> None:
            if message["type"] == "http.response.body":
                more = message.get("more_body", False)
                message = {**message, "body": deflater.feed(message.get("body", b""), not more)}
            await send(message)

        self._send = send_compressed

    def _inflated(self, message: Message) -> Message:
        assert self._inflater is not None
        more = message.get("more_body", False)
        return {**message, "body": self._inflater.feed(message.get("body", b""), not more)}

    def _base(self) -> Url | None:
        return document_url(self._scope)

    def _decoded(self, message: Message) -> Message:
        """A body message of the page in UTF-8 (a UTF-16 or ISO-2022-JP page is
        transcoded as it streams)."""
        if self._transcoder is None:
            return message
        return _body_message(
            self._transcoder.feed(message.get("body", b""), not message.get("more_body", False)),
            more=message.get("more_body", False),
        )

    async def _give_up(self, message: Message) -> None:
        """Not a body we can rewrite (an extension message): the page goes through
        untouched from here, in order."""
        if self._state == DECIDING:
            await self._send(self._start)
            if self._held:
                await self._send(_body_message(self._held, more=True))
        elif self._rewriter is not None:  # mid-page: what the rewriter holds goes first
            held = self._rewriter.finish()
            self._rewriter = None
            await self._send(_body_message(held, more=True))
        self._state = PASSING
        await self._send(message)

    async def _first_body(self, message: Message) -> None:
        """Decides the page on its first body bytes: held while too short to decide,
        sent on untouched if not a page after all, else planned and rewritten."""
        start = self._start
        held, self._held = self._held, b""
        body = held + message.get("body", b"")
        more = message.get("more_body", False)
        if more and len(body) < 3:  # a byte order mark needs 3 bytes: wait for them
            self._held = body
            return
        if held:
            message = _body_message(body, more=more)
        decided = self._charset(start["headers"], body, sniff=self._sniff, complete=not more)
        self._state = PASSING
        if decided is None:
            # Not a page after all; but its headers were made as a page's, with our
            # deletions of refused cookies: one visitor's, so no shared cache may keep it.
            if any(key == b"set-cookie" for key, _ in start["headers"]):
                start["headers"] = private_headers(start["headers"])
            await self._send(start)
            await self._send(message)
            return
        content_type, self._transcoder = decided
        if content_type is not None:
            MutableHeaders(scope=start)["content-type"] = content_type.decode("latin-1")
        message = self._decoded(message)
        plan = self._plan(self._scope, self._consent, start["headers"])
        if not message.get("more_body", False):
            body = self._rewrite_whole(plan, message.get("body", b""))
            # Compressed again as it is sent: its length is known only then.
            self._edit_headers(start, None if self._inflater is not None else len(body))
            await self._send(start)
            await self._send({"type": "http.response.body", "body": body})
            return
        self._edit_headers(start, None)
        self._rewriter = HtmlRewriter(plan)
        self._state = REWRITING
        await self._send(start)
        await self._rewrite(message)

    async def _rewrite(self, message: Message) -> None:
        rewriter = self._rewriter
        assert rewriter is not None  # set with REWRITING
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            out = rewriter.rewrite_all(body)
            self._rewriter = None
            self._state = PASSING
            await self._send({"type": "http.response.body", "body": out})
            return
        out = rewriter.feed(body)
        if out:
            await self._send(_body_message(out, more=True))


def _asks_range(scope: Scope) -> bool:
    return any(key.lower() == b"range" for key, _ in scope["headers"])


def _body_message(body: bytes, *, more: bool) -> Message:
    return {"type": "http.response.body", "body": body, "more_body": more}


def _config_of(config: ConsentConfig | None, options: dict[str, Any]) -> ConsentConfig:
    """The config from `config=` or from keyword options (checked by `ConsentConfig`)."""
    if config is None:
        return ConsentConfig(**options)
    if options:
        raise ConfigError(
            "config", sorted(options)[0], "either config= or keyword options, not both"
        )
    if not isinstance(config, ConsentConfig):
        raise ConfigError("config", config, "a ConsentConfig")
    return config
