"""Response headers for one visitor: Set-Cookie names as the browser reads them, the
Set-Cookie headers that delete refused cookies, Link headers without refused trackers
(parsed in `links.py`), CDN caching headers on private pages, WebSocket handshakes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Scope, Send

from .cookie import NO_CHOICE, Consent, cookie_names, set_cookie_header
from .links import filter_link_header
from .memo import Memo
from .urls import Url, absolute_url, meta_refresh_url, parse_url

if TYPE_CHECKING:
    from .rules import TrackerRules

# Shared caches that read their own header before Cache-Control: on a page we made
# private they would still keep one visitor's page for everyone.
CDN_CACHE_HEADERS = frozenset(
    {
        b"cdn-cache-control",  # RFC 9213
        b"cloudflare-cdn-cache-control",
        b"vercel-cdn-cache-control",
        b"netlify-cdn-cache-control",
        b"akamai-cache-control",
        b"edge-control",  # Akamai
        b"surrogate-control",  # Fastly, Varnish, Akamai
        b"x-accel-expires",  # nginx proxy_cache
        b"x-litespeed-cache-control",
    }
)

# -- pages we rewrite --------------------------------------------------------------------

# Not on a page we rewrite: validators and ranges of the app's bytes (they no longer
# describe what we send), and shared caches' own caching headers (they would override
# Cache-Control).
_NOT_ON_REWRITTEN_PAGES = (
    frozenset({b"etag", b"accept-ranges", b"content-md5", b"content-range"}) | CDN_CACHE_HEADERS
)


def edit_page_headers(start: Message, length: int | None) -> None:
    """Headers of a page we rewrite, edited in place: private caching (every
    Cache-Control merged into the first), no stale validators or CDN caching headers,
    Content-Length only for a one-piece body (in place of the app's, or last), then
    Vary: Cookie (every Vary merged into the first). Repeated headers (Set-Cookie) are
    kept. Names are lower case here (the header filter made them so)."""
    headers: list[tuple[bytes, bytes]] = []
    cache_control: list[bytes] = []
    vary: list[bytes] = []
    cache_at = vary_at = length_at = -1
    for key, value in start["headers"]:
        if key in _NOT_ON_REWRITTEN_PAGES:
            continue
        if key == b"cache-control":
            cache_control.append(value)
            if cache_at >= 0:
                continue
            cache_at = len(headers)
        elif key == b"vary":
            vary.append(value)
            if vary_at >= 0:
                continue
            vary_at = len(headers)
        elif key == b"content-length":
            if length is None or length_at >= 0:
                continue
            length_at = len(headers)
        headers.append((key, value))
    if cache_at >= 0:
        joined = b", ".join(cache_control).decode("latin-1")
        headers[cache_at] = (b"cache-control", _private(joined).encode("latin-1"))
    vary.append(b"Cookie")
    if vary_at >= 0:
        headers[vary_at] = (b"vary", b", ".join(vary))
    else:
        headers.append((b"vary", b"Cookie"))
    if cache_at < 0:
        headers.append((b"cache-control", b"private"))
    if length is not None:
        if length_at >= 0:
            headers[length_at] = (b"content-length", str(length).encode("ascii"))
        else:
            headers.append((b"content-length", str(length).encode("ascii")))
    start["headers"] = headers


def private_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Headers of a response that now differs per visitor (we added Set-Cookie headers
    deleting their cookies): private caching, no CDN's own caching header, Vary: Cookie.
    A shared cache must not hand one visitor's deletions to everyone."""
    edited = MutableHeaders(raw=[(key.lower(), value) for key, value in headers])
    _delete(edited, CDN_CACHE_HEADERS)
    directives = ", ".join(edited.getlist("cache-control"))
    del edited["cache-control"]
    edited.append("cache-control", _private(directives) if directives else "private")
    edited.add_vary_header("Cookie")
    return edited.raw


def _delete(headers: MutableHeaders, names: frozenset[bytes]) -> None:
    for name in {key for key, _ in headers.raw} & names:  # most pages have none of them
        del headers[name.decode("latin-1")]


def _private(current: str) -> str:
    """This page differs per visitor: no shared cache may keep it."""
    directives = [d.strip() for d in current.split(",") if d.strip()]
    lowered = [d.lower() for d in directives]
    if "no-store" in lowered or "private" in lowered:
        return current
    kept = [
        d
        for d, low in zip(directives, lowered, strict=True)
        if low != "public" and not low.startswith("s-maxage")
    ]
    return ", ".join(["private", *kept])


# -- Set-Cookie ---------------------------------------------------------------------------


def set_cookie_name(value: bytes) -> str:
    """The name a Set-Cookie value creates, as scripts will see it in document.cookie.

    A cookie with an empty name (`=_ga=1`) is sent as its bare value (`_ga=1`), so it
    reads as `_ga` and is judged as `_ga`.
    """
    pair = value.split(b";", 1)[0]
    name, equals, rest = pair.partition(b"=")
    name = name.strip(b" \t")
    if not equals:  # no "=": an empty name whose value is the whole pair
        name, rest = b"", name
    if not name:
        name = rest.partition(b"=")[0].strip(b" \t")
    return name.decode("latin-1")


def parent_domains(host: str) -> list[str]:
    """example.com for www.example.com: where a tracker may have set its cookies."""
    host = host.split(":", 1)[0].lower().rstrip(".")
    if not host or host.replace(".", "").isdigit() or not _HOST.fullmatch(host):
        return []
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def cookie_domains(host: str, extra: Sequence[str] = ()) -> list[str | None]:
    """Where a cookie the browser sent us may live: the host alone (None), the host and
    each parent domain as a Domain attribute, and the configured parent domains."""
    domains: list[str | None] = [None, *parent_domains(host)]
    return domains + [domain for domain in extra if domain not in domains]


_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_PATH_BYTES = re.compile(r"[\x21-\x2b\x2d-\x3a\x3c-\x7e]*")  # printable ASCII but ";" ","


def cookie_paths(path: str, limit: int = 12) -> list[str]:
    """Every Path a cookie the browser sends to `path` may have been set with ("/", each
    ancestor with and without its trailing slash, the path itself): a cookie is deleted
    only by a Set-Cookie with its own Path. The shallowest are kept past `limit`, and the
    page's own directory and path (where a script's default Path puts a cookie)."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    paths = {"/": None}
    if path.startswith("/"):
        # Bytes a Set-Cookie cannot carry end the walk: only the ancestors before them.
        safe = _PATH_BYTES.match(path).end()  # type: ignore[union-attr]
        at = path.find("/", 1, safe)
        while at > 0:
            paths[path[:at]] = None
            paths[path[: at + 1]] = None
            at = path.find("/", at + 1, safe)
        if safe == len(path):
            paths[path] = None
    found = list(paths)
    if len(found) <= limit:
        return found
    deepest = [path[: path.rfind("/")], path] if safe == len(path) else found[-2:]
    return found[: limit - 2] + deepest


def expiry_headers(
    names: Iterable[str],
    *,
    domains: Sequence[str | None],
    paths: Sequence[str],
    secure: bool,
    limit: int,
) -> list[bytes]:
    """Set-Cookie values that delete each cookie in `names` on each domain (None: the
    host alone) and path, at most `limit` of them (big header blocks break proxies):
    shallow paths first, where trackers put their cookies."""
    names = list(names)
    out: list[bytes] = []
    for path in paths:
        for name in names:
            for domain in domains:
                if len(out) >= limit:
                    return out
                out.append(
                    set_cookie_header(
                        name,
                        "",
                        max_age=0,
                        secure=secure,
                        samesite="lax",
                        domain=domain,
                        path=path,
                        http_only=False,
                    )
                )
    return out


# -- one visitor's response headers ------------------------------------------------------

_HOST_HINTS = frozenset({"preconnect", "dns-prefetch"})
_SOMEWHERE = absolute_url("http://localhost/")  # no Host header: "//host/x" still reads
# Expiring Set-Cookie headers added to an ordinary response (see `expiry_headers`).
MAX_STALE_EXPIRIES = 32


class HeaderFilter:
    """Applies a visitor's choice to response headers. Built once per middleware from
    the compiled rules; holds no per-request state."""

    def __init__(
        self,
        rules: TrackerRules,
        cookie_name: bytes,
        extra_domains: Sequence[str] = (),
        *,
        shared: bool = False,
    ) -> None:
        self._rules = rules
        # `cacheable_html`: a shared cache keeps Link and Refresh headers (a CDN even turns
        # Link into Early Hints), so they are filtered as for a visitor without a choice.
        # Set-Cookie stays per visitor: a response that sets one is not kept.
        self._shared = shared
        self._cookie_name = cookie_name
        self._categories = frozenset(rules.categories)
        self._extra_domains = tuple(extra_domains)
        # Cookie header -> the refused tracker cookies it carries (see `stale_cookies`).
        self._stale: Memo[bytes, tuple[str, ...]] = Memo(size=1024, longest=2048)

    def refused_cookie(self, name: str, consent: Consent) -> bool:
        """Whether a Set-Cookie for `name` must be dropped for this visitor."""
        category = self._rules.cookie_category(name)
        return category is not None and not consent.allows(category)

    def filter(
        self,
        headers: list[tuple[bytes, bytes]],
        consent: Consent,
        base: Callable[[], Url | None],
    ) -> list[tuple[bytes, bytes]]:
        """`headers` with lower-case names, without refused Set-Cookie headers, without
        the link-values of refused trackers in Link headers, and without a Refresh to
        one. Repeated headers stay repeated. `base` gives the URL links resolve against."""
        refused_link = self._link_check(consent, base)
        kept: list[tuple[bytes, bytes]] = []
        for key, value in headers:
            key = key.lower()
            if key == b"set-cookie":
                if self.refused_cookie(set_cookie_name(value), consent):
                    continue
            elif key == b"link":
                filtered = filter_link_header(value, refused_link)
                if filtered is None:
                    continue
                value = filtered
            elif key == b"refresh":  # "0;url=..." navigates like <meta http-equiv=refresh>
                target = meta_refresh_url(value.decode("latin-1"))
                if target is not None and refused_link(target, frozenset()):
                    continue
            kept.append((key, value))
        return kept

    def links(
        self, values: Iterable[bytes], consent: Consent, base: Callable[[], Url | None]
    ) -> list[bytes]:
        """The Link header values of a 103 Early Hints message, filtered like `filter`."""
        refused_link = self._link_check(consent, base)
        kept = (filter_link_header(value, refused_link) for value in values)
        return [value for value in kept if value is not None]

    def _link_check(
        self, consent: Consent, base: Callable[[], Url | None]
    ) -> Callable[[str, frozenset[str]], bool]:
        rules = self._rules
        resolved: list[Url | None] = []
        if self._shared:
            consent = NO_CHOICE

        def refused(url: str, rels: frozenset[str]) -> bool:
            # As in the page (fetching.py): the first entry that matches, by host alone
            # for a connection hint; else every category with an entry on its host (a URL
            # on a tracker's host that no path pattern names still reaches the tracker).
            if not resolved:
                resolved.append(base())
            parsed = parse_url(url, resolved[0] or _SOMEWHERE)
            if parsed is None:
                return False
            needs, _ = rules.needs(parsed, host_only=bool(rels & _HOST_HINTS))
            return any(not consent.allows(category) for category in needs)

        return refused

    def response(
        self,
        scope: Scope,
        consent: Consent,
        headers: list[tuple[bytes, bytes]],
        *,
        base: Callable[[], Url | None],
        page: bool,
        filtered: bool,
    ) -> list[tuple[bytes, bytes]]:
        """A response's headers for this visitor: refused Set-Cookie and Link values out
        (`filtered`: there are some), Set-Cookie headers deleting the refused tracker
        cookies the request carried in. Names are made lower case on pages and where a
        header changes; other responses keep their header bytes."""
        if page or filtered:
            headers = self.filter(headers, consent, base)
        stale = self.stale_cookies(scope["headers"], consent)
        if not stale:
            return headers
        host = next((v for k, v in scope["headers"] if k == b"host"), b"")
        path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        expiries = self.expiries(
            stale,
            host=host.decode("latin-1"),
            path=path.decode("latin-1"),
            secure=scope.get("scheme") == "https",
        )
        headers = [*headers, *((b"set-cookie", value) for value in expiries)]
        return headers if page else private_headers(headers)

    def stale_cookies(
        self, request_headers: Iterable[tuple[bytes, bytes]], consent: Consent
    ) -> tuple[str, ...]:
        """The refused tracker cookies this request carried: none before a choice.

        Remembered per Cookie header: a visitor sends the same one request after request,
        and most responses need no consent at all (JSON, files), so it is read only the
        first time. What expiry changes (a choice running out) only empties the answer,
        and an answer that is not empty is checked against the consent again."""
        header = b""
        for key, value in request_headers:
            if key == b"cookie":
                header = value if not header else header + b"; " + value
        if not header:
            return ()
        refused = self._stale.get(header, lambda key: self._refused_cookies(key, consent))
        return refused if refused and consent.decided else ()

    def _refused_cookies(self, header: bytes, consent: Consent) -> tuple[str, ...]:
        if self._cookie_name not in header:  # no choice possible: the consent stays unread
            return ()
        if not consent.decided or self._categories <= consent.categories:
            return ()
        names = cookie_names([(b"cookie", header)])
        return tuple(name for name in names if self.refused_cookie(name, consent))

    def expiries(self, names: Sequence[str], *, host: str, path: str, secure: bool) -> list[bytes]:
        """Set-Cookie values deleting `names` on every domain above `host` and every path
        above `path` (at most `MAX_STALE_EXPIRIES`)."""
        return expiry_headers(
            names,
            domains=cookie_domains(host, self._extra_domains),
            paths=cookie_paths(path),
            secure=secure,
            limit=MAX_STALE_EXPIRIES,
        )


# Messages of a WebSocket handshake that carry response headers (the second is the
# denial-response extension: a plain HTTP answer instead of the upgrade).
_WEBSOCKET_HEADERS = ("websocket.accept", "websocket.http.response.start")


def websocket_send(
    header_filter: HeaderFilter, consent: Consent, base: Callable[[], Url | None], send: Send
) -> Send:
    """`send` for a WebSocket connection: its handshake headers filtered like a response's."""

    async def filtered(message: Message) -> None:
        if message["type"] in _WEBSOCKET_HEADERS and message.get("headers"):
            headers = header_filter.filter(message["headers"], consent, base)
            message = {**message, "headers": headers}
        await send(message)

    return filtered
