"""The consent endpoints under `endpoint_prefix` (default `/_consent`).

    POST /choice      choice=accept|reject|save|grant [category=...] [next=/path]
    POST /withdraw    [next=/path]
    GET  /status      JSON: decided, categories, revision, given_at, expires_at
    GET  /preferences the preferences as a page of its own (for links, without JS)
    GET  /static/...  consent.css, consent.js, consent-mode.js (content-hashed, cached)

Form posts (no JavaScript) are answered with 303 to a same-origin `next`; requests
that accept JSON get JSON. Every answer carries `Cache-Control: no-store`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from .assets import Assets
from .banner import BannerRenderer
from .choicebody import BadRequest, parse_form, parse_json
from .config import NECESSARY, ConsentConfig
from .cookie import Consent, ConsentCodec, cookie_names, set_cookie_header
from .headers import cookie_paths, expiry_headers, parent_domains
from .locales import choose_language
from .rules import TrackerRules

if TYPE_CHECKING:  # the log package is loaded only for a site that keeps one
    from .log.choices import ChoiceLog

CHOICES = ("accept", "reject", "save", "grant")
# Set-Cookie headers one answer may carry to expire refused cookies: a larger header
# block fails behind proxies with small header buffers (nginx: 4-8 KB).
_MAX_EXPIRIES = 48


def safe_next(value: object) -> str:
    """`value` if it is a path on this site, else "/": no open redirects."""
    if not isinstance(value, str) or not value or len(value) > 2048:
        return "/"
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    # Browsers drop tabs and newlines and read "\" as "/" in URLs: "/\t/evil.com"
    # would become "//evil.com".
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E or ch == "\\" for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _strip_default_port(netloc: str) -> str:
    for suffix in (":80", ":443"):
        if netloc.endswith(suffix):
            return netloc[: -len(suffix)]
    return netloc


def is_same_origin(headers: Headers, trusted: Sequence[str]) -> bool:
    """Origin (else Referer) names this host or a trusted origin. Neither: not a browser's
    cross-site post (browsers send Origin on every cross-site POST)."""
    if headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = headers.get("origin") or headers.get("referer")
    if origin is None:
        return True
    try:
        parts = urlsplit(origin.strip())
    except ValueError:  # "http://[::1" and friends
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null", file:, a sandboxed frame
    if f"{parts.scheme}://{parts.netloc}".lower() in trusted:
        return True
    host = headers.get("host", "")
    return _strip_default_port(parts.netloc.lower()) == _strip_default_port(host.lower())


class ConsentEndpoints:
    def __init__(
        self,
        config: ConsentConfig,
        codec: ConsentCodec,
        rules: TrackerRules,
        banner: BannerRenderer,
        assets: Assets,
        log: ChoiceLog | None = None,
    ) -> None:
        self._config = config
        self._log = log
        self._codec = codec
        self._rules = rules
        self._banner = banner
        self._assets = assets
        self._known = frozenset(config.category_names)
        self._routes = {
            "/choice": ("POST", self._choice),
            "/withdraw": ("POST", self._withdraw),
            "/status": ("GET", self._status),
            "/preferences": ("GET", self._preferences),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"][len(self._config.endpoint_prefix) :]
        method = scope["method"]
        request = Request(scope, receive)
        routes = self._routes
        if path.startswith("/static/"):
            if method in ("GET", "HEAD"):
                response = self._static(path[len("/static/") :])
            else:
                response = PlainTextResponse(
                    "Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"}
                )
        elif path not in routes:
            response = PlainTextResponse("Not Found", status_code=404)
        else:
            allowed, handler = routes[path]
            if method != allowed and not (allowed == "GET" and method == "HEAD"):
                allow = "GET, HEAD" if allowed == "GET" else allowed
                response = PlainTextResponse(
                    "Method Not Allowed", status_code=405, headers={"Allow": allow}
                )
            else:
                try:
                    response = await handler(request)
                except BadRequest as error:
                    response = self._error(request, error.status, error.detail)
                except ClientDisconnect:
                    return  # the visitor left mid-post: nobody to answer
        if "cache-control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        await response(scope, receive, send)

    # -- handlers ---------------------------------------------------------------

    async def _choice(self, request: Request) -> Response:
        self._check_origin(request)
        fields = await self._read_fields(request)
        choice = fields.get("choice")
        if not isinstance(choice, str) or choice not in CHOICES:
            raise BadRequest(400, f"choice must be one of {', '.join(CHOICES)}")
        categories = fields.get("categories", [])
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise BadRequest(400, "categories must be a list of category names")
        unknown = set(categories) - self._known
        if unknown:
            raise BadRequest(400, f"unknown category: {sorted(unknown)[0]}")
        previous = self._current(request)
        gpc = self._config.honor_gpc and request.headers.get("sec-gpc") == "1"
        if choice == "accept":
            chosen = set(self._known)
            if gpc:  # Global Privacy Control: only an explicit switch grants marketing
                chosen.discard("marketing")
        elif choice == "reject":
            chosen = {NECESSARY}
        elif choice == "save":
            chosen = {NECESSARY, *categories}
        else:  # grant: add to what was already granted (a click-to-load placeholder)
            if not categories:
                raise BadRequest(400, "grant needs a category")
            chosen = set(previous.categories) | set(categories)
        # A grant answers no question: before a choice, the banner keeps asking.
        decided = choice != "grant" or previous.decided
        # A visitor who chose before keeps their id: their records read as one history.
        value, consent = self._codec.issue(
            chosen, consent_id=previous.consent_id, decided=decided
        )
        wants_json = self._wants_json(request)
        await self._record(request, consent, choice, fields, wants_json)
        response = self._respond(request, consent, fields.get("next"), wants_json)
        self._set_consent_cookie(request, response, value)
        self._expire_refused(request, response, frozenset(self._known - chosen), fields)
        return response

    async def _withdraw(self, request: Request) -> Response:
        self._check_origin(request)
        fields = await self._read_fields(request)
        wants_json = self._wants_json(request)
        await self._record(request, self._current(request), "withdraw", fields, wants_json)
        response = self._respond(request, Consent(), fields.get("next"), wants_json)
        self._set_consent_cookie(request, response, "", max_age=0)
        self._expire_refused(request, response, frozenset(self._known - {NECESSARY}), fields)
        return response

    async def _status(self, request: Request) -> Response:
        return JSONResponse(self._state(self._current(request)))

    async def _preferences(self, request: Request) -> Response:
        consent = self._current(request)
        language = choose_language(self._config, request)
        next_path = safe_next(request.query_params.get("next") or _referer_path(request))
        body = self._banner.preferences_page(
            language, consent.categories, next_path, consent.consent_id
        )
        return Response(body, media_type="text/html; charset=utf-8")

    def _static(self, file_name: str) -> Response:
        asset = self._assets.find(file_name)
        if asset is None:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(
            asset.body,
            media_type=asset.media_type,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    # -- helpers ----------------------------------------------------------------

    def _current(self, request: Request) -> Consent:
        return self._codec.read(request.scope["headers"])

    async def _record(
        self,
        request: Request,
        consent: Consent,
        action: str,
        fields: Mapping[str, Any],
        javascript: bool,
    ) -> None:
        """Proof of consent, if the site keeps it. Only an id we issued is recorded (a
        withdraw without a valid cookie has none): the cookie's signature says so."""
        if self._log is None or consent.consent_id is None:
            return
        withdrawn = action == "withdraw"
        written = self._log.record(
            request,
            consent_id=consent.consent_id,
            action=action,
            granted={NECESSARY} if withdrawn else consent.categories,
            expires_at=None if withdrawn else self._codec.expires_at(consent),
            javascript=javascript,
            page=safe_next(fields.get("next") or _referer_path(request)),
            decided=withdrawn or consent.decided,
        )
        if written is not None:  # None: no record could be built (logged)
            await written

    def _check_origin(self, request: Request) -> None:
        if not is_same_origin(request.headers, self._config.trusted_origins):
            raise BadRequest(403, "cross-site consent posts are refused")

    async def _read_fields(self, request: Request) -> Mapping[str, Any]:
        limit = self._config.max_body_size
        declared = request.headers.get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):
                raise BadRequest(400, "bad Content-Length")
            if len(declared) > 12 or int(declared) > limit:
                raise BadRequest(413, f"body over {limit} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise BadRequest(413, f"body over {limit} bytes")
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if not body:
            return {}
        if media_type == "application/json":
            return parse_json(bytes(body))
        if media_type in ("application/x-www-form-urlencoded", ""):
            return parse_form(bytes(body))
        raise BadRequest(415, "send application/x-www-form-urlencoded or application/json")

    def _wants_json(self, request: Request) -> bool:
        accept = request.headers.get("accept", "")
        content_type = request.headers.get("content-type", "")
        return "application/json" in accept or content_type.startswith("application/json")

    def _state(self, consent: Consent) -> dict[str, Any]:
        expires = self._codec.expires_at(consent)
        return {
            "decided": consent.decided,
            "categories": sorted(consent.categories),
            "revision": self._config.policy_revision,
            "given_at": consent.given_at.isoformat() if consent.given_at else None,
            "expires_at": expires.isoformat() if expires else None,
            "consent_id": consent.consent_id,
        }

    def _respond(
        self, request: Request, consent: Consent, next_value: object, wants_json: bool
    ) -> Response:
        target = safe_next(next_value)
        if wants_json:
            state = self._state(consent)
            if consent.decided and self._config.settings_button:
                language = choose_language(self._config, request)
                fragment = self._banner.settings_fragment_json(
                    language, consent.categories, target, consent.consent_id
                )
                # What JSONResponse would render with "settings_html" last, without
                # escaping the fragment's 4 KB again for every choice.
                head = json.dumps(state, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
                body = f'{head[:-1]},"settings_html":{fragment}}}'
                return Response(body.encode(), media_type=JSONResponse.media_type)
            return JSONResponse(state)
        return RedirectResponse(target, status_code=303)

    def _error(self, request: Request, status: int, detail: str) -> Response:
        if self._wants_json(request):
            return JSONResponse({"error": detail}, status_code=status)
        return PlainTextResponse(detail, status_code=status)

    def _secure(self, request: Request) -> bool:
        if self._config.cookie_secure is not None:
            return self._config.cookie_secure
        # The scope's scheme, as request.url reads it, without building the whole URL.
        scheme = request.scope.get("scheme", "http")
        return scheme == "https" or self._config.cookie_samesite == "none"

    def _set_consent_cookie(
        self, request: Request, response: Response, value: str, *, max_age: int | None = None
    ) -> None:
        cfg = self._config
        header = set_cookie_header(
            cfg.cookie_name,
            value,
            max_age=cfg.max_age if max_age is None else max_age,
            secure=self._secure(request),
            samesite=cfg.cookie_samesite,
            domain=cfg.cookie_domain,
            http_only=self._codec.http_only,
        )
        response.raw_headers.append((b"set-cookie", header))

    def _expire_refused(
        self,
        request: Request,
        response: Response,
        refused: frozenset[str],
        fields: Mapping[str, Any],
    ) -> None:
        """Expire the refused categories' cookies the browser sent, on every domain
        they may have been set for (trackers set theirs on the parent domain) and every
        path above the page the choice was made on (a cookie set with `Path=/shop` is
        deleted only by a Set-Cookie with that path)."""
        names = self._rules.cookies_of(cookie_names(request.scope["headers"]), refused)
        if not names:
            return
        page = safe_next(fields.get("next") or _referer_path(request))
        domains: list[str | None] = [None, *parent_domains(request.headers.get("host", ""))]
        domains += [d for d in self._config.cookie_parent_domains if d not in domains]
        response.raw_headers.extend(
            (b"set-cookie", header)
            for header in expiry_headers(
                names,
                domains=domains,
                paths=cookie_paths(page),
                secure=self._secure(request),
                limit=_MAX_EXPIRIES,
            )
        )


def _referer_path(request: Request) -> str | None:
    """The page a "Cookie settings" link was clicked on, if it is on this site."""
    referer = request.headers.get("referer")
    if not referer:
        return None
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    host = request.headers.get("host", "").lower()
    if _strip_default_port(parts.netloc.lower()) != _strip_default_port(host):
        return None
    return parts.path + ("?" + parts.query if parts.query else "")
