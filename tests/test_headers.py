"""Response headers as the browser reads them: MIME types and sniffing, Set-Cookie,
Link and 103 Early Hints, WebSocket handshakes, CDN caching headers on private pages,
and the Set-Cookie headers that delete refused tracker cookies."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from asgi_consent import ConsentMiddleware
from asgi_consent.cookie import Consent
from asgi_consent.headers import (
    HeaderFilter,
    cookie_domains,
    cookie_paths,
    expiry_headers,
    set_cookie_name,
)
from asgi_consent.links import filter_link_header, split_link_values
from asgi_consent.mime import (
    UNREADABLE,
    ContentTypes,
    extract_mime_type,
    nosniff,
    parse_mime_type,
    scan_response,
    sniffs_as_html,
)
from helpers import body_of, make_scope, run_asgi, wrap

GTAG = b"https://www.googletagmanager.com/gtag/js?id=G-1"
PAGE = b"<html><body><p>Hi</p></body></html>"
ALL = ("analytics", "marketing", "media")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def kind(*args: Any, method: str = "GET") -> str | None:
    """The page kind of a response: kind(headers) or kind(status, headers)."""
    status, headers = (200, args[0]) if len(args) == 1 else args
    found: str | None = scan_response(method, status, headers)[0]
    return found


def consent_cookie(mw: ConsentMiddleware, *categories: str) -> tuple[bytes, bytes]:
    return (b"cookie", b"asgi_consent=" + mw.codec.encode(categories).encode())


def responding(headers: list[tuple[bytes, bytes]], body: bytes = b"{}", status: int = 200) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body})

    return app


def start_of(messages: list[dict[str, Any]]) -> dict[str, Any]:
    (start,) = [m for m in messages if m["type"] == "http.response.start"]
    return start


def values(messages: list[dict[str, Any]], name: bytes) -> list[bytes]:
    return [v for k, v in start_of(messages)["headers"] if k == name]


# -- MIME types as the browser parses them ------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"text/html", b"Text/HTML", b" text/html ; charset=utf-8", b'text/html;charset="a;b"'],
)
def test_text_html_is_recognised_however_it_is_spelled(value: bytes) -> None:
    assert kind([(b"content-type", value)]) == "html"


def test_mime_parameters_follow_the_mime_sniffing_standard() -> None:
    mime = parse_mime_type('text/html;CHARSET="ut\\f-8";charset=latin1;bad param=x;q=')
    assert mime is not None and mime.parameters == {"charset": "utf-8"}


@pytest.mark.parametrize("value", ["text", "text/", "/html", "te xt/html", "text/ht ml"])
def test_malformed_mime_types_fail(value: str) -> None:
    assert parse_mime_type(value) is None


def test_the_last_of_several_content_types_wins_as_in_fetch() -> None:
    assert kind([(b"content-type", b"text/html, text/plain")]) is None
    plain_then_html = [(b"content-type", b"text/plain"), (b"content-type", b"text/html")]
    assert kind(plain_then_html) == "html"


def test_a_charset_given_earlier_for_the_same_type_is_kept() -> None:
    mime = extract_mime_type([b"text/html;charset=gbk", b"text/html"])
    assert mime is not None and mime.parameters == {"charset": "gbk"}


def test_a_comma_inside_a_quoted_parameter_does_not_split_the_value() -> None:
    mime = extract_mime_type([b'text/html;charset="gbk,x"'])
    assert mime is not None and mime.parameters == {"charset": "gbk,x"}


@pytest.mark.parametrize(
    "headers",
    [[], [(b"content-type", b"")], [(b"content-type", b"html")], [(b"content-type", b"*/*")],
     [(b"content-type", b"unknown/unknown")], [(b"content-type", b"application/unknown")]],
)  # fmt: skip
def test_a_response_without_a_usable_type_is_sniffed(headers: list[tuple[bytes, bytes]]) -> None:
    assert kind(headers) == "sniff"


def test_nosniff_keeps_a_response_without_type_from_being_sniffed_as_html() -> None:
    # MIME Sniffing: without a type, nosniff clears "sniff-scriptable", and the HTML
    # signatures are only tried when it is set.
    assert kind([(b"x-content-type-options", b"NoSniff")]) is None
    assert nosniff([b"nosniff, other"]) and not nosniff([b"other, nosniff"])


def test_pages_in_codings_we_cannot_decode_and_bodiless_answers_are_not_pages() -> None:
    # (a header to filter is reported all the same: a 304 may set cookies too)
    assert scan_response("GET", 304, [(b"Set-Cookie", b"a=1")]) == (None, True, None)
    html = (b"content-type", b"text/html")
    assert kind([html, (b"content-encoding", b"gzip")]) == "html"  # decoded: a page
    assert kind([html, (b"content-encoding", b"zstd")]) == UNREADABLE
    assert ContentTypes().scan_response("GET", 200, [html, (b"content-encoding", b"zstd")]) == (
        None,
        False,
        None,
    )
    gzipped = [html, (b"Content-Encoding", b" GZIP ")]
    assert scan_response("GET", 200, gzipped) == ("html", False, b"gzip")
    assert kind([(b"content-encoding", b"gzip")]) is None  # compressed: not sniffed
    assert kind([html, (b"content-encoding", b"identity")]) == "html"
    assert kind([html], method="HEAD") == "html"  # its headers are a page's (no body)
    assert kind([], method="HEAD") is None  # nothing to sniff
    assert kind(304, [html]) is None


@pytest.mark.parametrize(
    "start",
    [b"<!DOCTYPE html>", b"\n\t <html lang=en>", b"<HEAD>", b"<script>", b"<iframe ", b"<h1>",
     b"<div>", b"<font>", b"<table>", b"<a href=x>", b"<style>", b"<title>", b"<b>",
     b"<body>", b"<br>", b"<p>", b"<!-- x -->"],
)  # fmt: skip
def test_the_html_signatures_of_the_mime_sniffing_standard_sniff_as_html(start: bytes) -> None:
    assert sniffs_as_html(start + b"rest")


@pytest.mark.parametrize("start", [b"{}", b"<html", b"<htmlx>", b"<?xml>", b"<svg>", b"hi <p>"])
def test_other_starts_do_not_sniff_as_html(start: bytes) -> None:
    assert not sniffs_as_html(start)


def test_a_start_that_could_still_become_html_counts_while_more_is_coming() -> None:
    assert sniffs_as_html(b"  <ht", complete=False)
    assert sniffs_as_html(b" \n ", complete=False)
    assert not sniffs_as_html(b"  <ht", complete=True)
    assert not sniffs_as_html(b'{"a": 1}', complete=False)


# -- responses without a Content-Type ------------------------------------------------------


@pytest.mark.anyio
async def test_a_page_without_content_type_that_sniffs_as_html_is_rewritten() -> None:
    page = b"<!doctype html><html><body><script src='" + GTAG + b"'></script></body></html>"
    sent = await run_asgi(wrap(responding([], page)), make_scope())
    body = body_of(sent)
    assert values(sent, b"content-type") == [b"text/html; charset=windows-1252"]
    assert b'id="asgi-consent"' in body
    assert b"type=\"text/plain\"" in body


@pytest.mark.anyio
async def test_a_response_without_content_type_that_is_not_html_passes_through() -> None:
    messages = [
        {"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]},
        {"type": "http.response.body", "body": b'{"ok": true}'},
    ]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        for message in copy.deepcopy(messages):
            await send(message)

    assert await run_asgi(wrap(app), make_scope()) == messages


@pytest.mark.anyio
async def test_a_page_without_content_type_under_nosniff_passes_through() -> None:
    headers = [(b"x-content-type-options", b"nosniff")]
    sent = await run_asgi(wrap(responding(headers, PAGE)), make_scope())
    assert body_of(sent) == PAGE


# -- Set-Cookie ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [(b"_ga=1; Path=/", "_ga"), (b" _ga =1", "_ga"), (b"=_ga=GA1.2", "_ga"), (b"_ga", "_ga"),
     (b"_ga;Path=/", "_ga"), (b"session=abc", "session"), (b"=", "")],
)  # fmt: skip
def test_a_set_cookie_is_judged_by_the_name_scripts_will_see(value: bytes, name: str) -> None:
    assert set_cookie_name(value) == name


@pytest.mark.anyio
async def test_an_empty_named_cookie_carrying_a_tracker_name_is_dropped() -> None:
    headers = [(b"content-type", b"application/json"), (b"set-cookie", b"=_ga=GA1.2.3")]
    sent = await run_asgi(wrap(responding(headers)), make_scope())
    assert values(sent, b"set-cookie") == []


# -- Link and 103 Early Hints -----------------------------------------------------------------


def test_link_values_split_at_commas_outside_brackets_and_quotes() -> None:
    header = b'</a,b.css>; rel=preload; title="x, y", <https://t.example/x>;rel="preconnect"'
    assert split_link_values(header) == [
        b'</a,b.css>; rel=preload; title="x, y"',
        b'<https://t.example/x>;rel="preconnect"',
    ]


def test_only_the_refused_link_values_are_dropped_from_a_header() -> None:
    header = b"</app.css>; rel=preload; as=style, <" + GTAG + b">; rel=preload; as=script"
    kept = filter_link_header(header, lambda url, rels: "googletagmanager" in url)
    assert kept == b"</app.css>; rel=preload; as=style"


def test_a_link_header_of_refused_values_only_is_dropped() -> None:
    assert filter_link_header(b"<" + GTAG + b">", lambda url, rels: True) is None


def test_every_bracketed_url_in_a_link_value_is_judged() -> None:
    # A quote our split honours but a browser might not: the second URL is still seen.
    header = b'</a.css>; title="x, <' + GTAG + b'>; rel=preload'
    assert filter_link_header(header, lambda url, rels: "googletagmanager" in url) is None


def test_the_rel_tokens_reach_the_judge() -> None:
    seen: list[frozenset[str]] = []
    header = b'<//t.example>; REL="dns-prefetch Preconnect"'
    filter_link_header(header, lambda url, rels: bool(seen.append(rels)))
    assert seen == [frozenset({"dns-prefetch", "preconnect"})]


class _FakeRules:
    """The lookups HeaderFilter uses, on a two-host catalogue: one path on
    tracker.example (analytics), all of ads.example (marketing)."""

    def needs(self, url: Any, *, host_only: bool = False) -> tuple[frozenset[str], None]:
        if "ads.example" in str(url.host):
            return frozenset({"marketing"}), None
        if not host_only and url.href().endswith("tracker.example/t.js"):
            return frozenset({"analytics"}), None
        return frozenset(), None

    categories = frozenset({"analytics", "marketing"})

    def cookie_category(self, name: str) -> str | None:
        return "analytics" if name.startswith("_ga") else None


def test_a_header_filter_judges_links_as_the_page_does() -> None:
    # A link anywhere on a tracker's host counts, whatever its rel, as in the page.
    header_filter = HeaderFilter(_FakeRules(), b"asgi_consent")  # type: ignore[arg-type]
    headers = [
        (b"Link", b"<https://tracker.example/t.js>; rel=preload, </own.js>; rel=preload"),
        (b"link", b"<https://ads.example>; rel=preconnect"),
        (b"link", b"<https://ads.example/page>; rel=next"),
        (b"Set-Cookie", b"_ga=1"),
        (b"set-cookie", b"session=1"),
    ]
    kept = header_filter.filter(headers, Consent(), lambda: None)
    assert kept == [
        (b"link", b"</own.js>; rel=preload"),
        (b"set-cookie", b"session=1"),
    ]
    assert header_filter.filter(headers, Consent(ALL, given_at=NOW), lambda: None) == [
        (key.lower(), value) for key, value in headers
    ]


@pytest.mark.anyio
async def test_a_tracker_preload_in_a_link_header_is_dropped_before_a_choice() -> None:
    link = b"</app.css>; rel=preload; as=style, <" + GTAG + b">; rel=preload; as=script"
    headers = [(b"content-type", b"application/json"), (b"link", link)]
    sent = await run_asgi(wrap(responding(headers)), make_scope())
    assert values(sent, b"link") == [b"</app.css>; rel=preload; as=style"]


@pytest.mark.anyio
async def test_a_relative_link_is_resolved_against_the_page_before_it_is_judged() -> None:
    headers = [(b"content-type", b"text/css"), (b"link", b"</gtag/js?id=G-1>; rel=preload")]
    scope = make_scope(headers=[(b"host", b"www.googletagmanager.com")])
    scope["headers"] = scope["headers"][1:]  # only the tracker's host
    sent = await run_asgi(wrap(responding(headers)), scope)
    assert values(sent, b"link") == []


@pytest.mark.anyio
async def test_a_tracker_link_header_is_kept_once_its_category_is_granted() -> None:
    mw = wrap(responding([(b"content-type", b"text/plain"), (b"link", b"<" + GTAG + b">")]))
    sent = await run_asgi(mw, make_scope(headers=[consent_cookie(mw, *ALL)]))
    assert values(sent, b"link") == [b"<" + GTAG + b">"]


@pytest.mark.anyio
async def test_early_hints_lose_their_tracker_links() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        links = [b"</a.css>; rel=preload", b"<" + GTAG + b">; rel=preload"]
        await send({"type": "http.response.early_hint", "links": links})
        await send({"type": "http.response.early_hint", "links": [b"<" + GTAG + b">"]})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x"})

    sent = await run_asgi(wrap(app), make_scope())
    hints = [m for m in sent if m["type"] == "http.response.early_hint"]
    assert hints == [{"type": "http.response.early_hint", "links": [b"</a.css>; rel=preload"]}]


# -- WebSocket handshakes ---------------------------------------------------------------------


def websocket_scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
    }


async def handshake(mw: ConsentMiddleware, scope: dict[str, Any], message: dict[str, Any]) -> Any:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(out: dict[str, Any]) -> None:
        sent.append(out)

    await mw(scope, receive, send)
    return sent


def accepting(message: dict[str, Any], seen: list[Any] | None = None) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if seen is not None:
            seen.append(scope["state"]["consent"])
        await send(message)

    return app


WS_COOKIES = [(b"Set-Cookie", b"_ga=GA1.2.3; Path=/"), (b"set-cookie", b"room=7")]


@pytest.mark.anyio
async def test_a_websocket_accept_cannot_set_a_refused_tracker_cookie() -> None:
    accept = {"type": "websocket.accept", "headers": WS_COOKIES}
    sent = await handshake(wrap(accepting(accept)), websocket_scope(), accept)
    assert sent == [{"type": "websocket.accept", "headers": [(b"set-cookie", b"room=7")]}]


@pytest.mark.anyio
async def test_a_websocket_denial_response_is_filtered_too() -> None:
    start = {"type": "websocket.http.response.start", "status": 403, "headers": WS_COOKIES}
    sent = await handshake(wrap(accepting(start)), websocket_scope(), start)
    assert sent[0]["headers"] == [(b"set-cookie", b"room=7")]


@pytest.mark.anyio
async def test_a_websocket_accept_keeps_tracker_cookies_once_granted() -> None:
    accept = {"type": "websocket.accept", "headers": WS_COOKIES}
    mw = wrap(accepting(accept))
    sent = await handshake(mw, websocket_scope(consent_cookie(mw, *ALL)), accept)
    assert [v for _, v in sent[0]["headers"]] == [b"_ga=GA1.2.3; Path=/", b"room=7"]


@pytest.mark.anyio
async def test_a_websocket_handler_reads_the_consent_from_its_scope() -> None:
    seen: list[Consent] = []
    accept = {"type": "websocket.accept"}
    mw = wrap(accepting(accept, seen))
    sent = await handshake(mw, websocket_scope(consent_cookie(mw, "media")), accept)
    assert sent == [accept]
    assert seen[0].allows("media") and not seen[0].allows("analytics")


# -- CDN caching headers on pages we rewrite ---------------------------------------------------

CDN_HEADERS = [
    (b"CDN-Cache-Control", b"max-age=600"),
    (b"cloudflare-cdn-cache-control", b"max-age=600"),
    (b"surrogate-control", b"max-age=600"),
    (b"x-accel-expires", b"600"),
    (b"vercel-cdn-cache-control", b"max-age=600"),
    (b"surrogate-key", b"news front"),
]


@pytest.mark.anyio
async def test_a_rewritten_page_loses_the_caching_headers_of_cdns() -> None:
    headers = [(b"content-type", b"text/html; charset=utf-8"), *CDN_HEADERS,
               (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]  # fmt: skip
    sent = await run_asgi(wrap(responding(headers, PAGE)), make_scope())
    assert [k for k, _ in start_of(sent)["headers"]] == [
        b"content-type", b"surrogate-key", b"set-cookie", b"set-cookie", b"vary",
        b"cache-control", b"content-length",
    ]  # fmt: skip
    assert values(sent, b"cache-control") == [b"private"]


@pytest.mark.anyio
async def test_a_response_we_do_not_rewrite_keeps_its_cdn_headers() -> None:
    headers = [(b"content-type", b"application/json"), *CDN_HEADERS]
    sent = await run_asgi(wrap(responding(headers)), make_scope())
    assert start_of(sent)["headers"] == headers


# -- deleting refused tracker cookies the browser still sends -----------------------------------


def test_cookie_paths_are_every_path_a_sent_cookie_may_have() -> None:
    assert cookie_paths("/") == ["/"]
    assert cookie_paths("/shop") == ["/", "/shop"]
    assert cookie_paths("/shop/cart/item?x=1#top") == [
        "/", "/shop", "/shop/", "/shop/cart", "/shop/cart/", "/shop/cart/item",
    ]  # fmt: skip
    assert cookie_paths("/shop/") == ["/", "/shop", "/shop/"]


def test_cookie_paths_stop_at_bytes_a_set_cookie_cannot_carry() -> None:
    assert cookie_paths("/a/b;c/d") == ["/", "/a", "/a/"]
    assert cookie_paths("relative") == ["/"]


def test_cookie_paths_of_a_deep_path_keep_the_shallowest_and_the_page_itself() -> None:
    paths = cookie_paths("/" + "/".join("abcdefghij"), limit=8)
    assert paths == [
        "/", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/b/c/d/e/f/g/h/i", "/a/b/c/d/e/f/g/h/i/j",
    ]  # fmt: skip


def test_cookie_domains_are_the_host_alone_then_every_parent_then_configured_ones() -> None:
    assert cookie_domains("www.shop.example:8443", ["example.org", "example"]) == [
        None, "www.shop.example", "shop.example", "example.org", "example",
    ]  # fmt: skip
    assert cookie_domains("127.0.0.1:8000") == [None]
    assert cookie_domains("evil.example;path=/") == [None]


def test_expiry_headers_stop_at_their_limit_shallow_paths_first() -> None:
    headers = expiry_headers(["_ga", "_fbp"], domains=[None, "a.example"], paths=["/", "/x"],
                             secure=True, limit=5)  # fmt: skip
    assert [h.split(b";")[0] for h in headers] == [b"_ga=", b"_ga=", b"_fbp=", b"_fbp=", b"_ga="]
    assert headers[0] == b"_ga=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; SameSite=Lax"  # noqa: E501
    assert headers[4].endswith(b"; Path=/x; Secure; SameSite=Lax")


async def _request(mw: ConsentMiddleware, path: str, *cookies: bytes) -> list[dict[str, Any]]:
    headers = [(b"host", b"www.shop.example")]
    if cookies:
        headers.append((b"cookie", b"; ".join(cookies)))
    scope = make_scope(path)
    scope["headers"] = headers
    return await run_asgi(mw, scope)


def _expired(messages: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """(name, path, domain) of each deleting Set-Cookie."""
    found = []
    for value in values(messages, b"set-cookie"):
        parts = dict(p.split("=", 1) for p in value.decode().split("; ")[1:] if "=" in p)
        if parts.get("Max-Age") == "0":
            found.append((value.decode().split("=")[0], parts["Path"], parts.get("Domain")))
    return found


@pytest.mark.anyio
async def test_a_refused_tracker_cookie_set_with_a_path_is_deleted_on_any_response() -> None:
    mw = wrap(responding([(b"content-type", b"application/json")]))
    reject = consent_cookie(mw)[1]
    sent = await _request(mw, "/shop/cart", b"_fbp=fb.1.2; session=1", reject)
    expired = _expired(sent)
    assert [(n, p) for n, p, d in expired if d is None] == [
        ("_fbp", "/"), ("_fbp", "/shop"), ("_fbp", "/shop/"), ("_fbp", "/shop/cart"),
    ]  # fmt: skip
    assert {d for _, _, d in expired} == {None, "www.shop.example", "shop.example"}
    assert len(expired) == 12
    assert all(name == "_fbp" for name, _, _ in expired)


@pytest.mark.anyio
async def test_a_response_deleting_a_visitors_cookies_is_kept_from_shared_caches() -> None:
    headers = [(b"Content-Type", b"application/json"), (b"Cache-Control", b"public, max-age=60"),
               (b"CDN-Cache-Control", b"max-age=600")]  # fmt: skip
    mw = wrap(responding(headers))
    sent = await _request(mw, "/api", b"_fbp=fb.1", consent_cookie(mw)[1])
    assert values(sent, b"cache-control") == [b"private, max-age=60"]
    assert values(sent, b"vary") == [b"Cookie"]
    assert values(sent, b"cdn-cache-control") == []
    assert values(sent, b"content-type") == [b"application/json"]


@pytest.mark.anyio
async def test_a_visitors_refused_cookies_are_judged_once_per_cookie_header() -> None:
    mw = wrap(responding([(b"content-type", b"application/json")]))
    reject = consent_cookie(mw)[1]
    first = await _request(mw, "/", b"_fbp=1", reject)
    again = await _request(mw, "/", b"_fbp=1", reject)
    assert _expired(first) == _expired(again) != []
    assert len(mw.headers._stale) == 1


@pytest.mark.anyio
async def test_tracker_cookies_are_not_deleted_before_a_choice() -> None:
    mw = wrap(responding([(b"content-type", b"application/json")]))
    assert _expired(await _request(mw, "/shop", b"_fbp=fb.1.2")) == []


@pytest.mark.anyio
async def test_tracker_cookies_of_granted_categories_are_not_deleted() -> None:
    mw = wrap(responding([(b"content-type", b"application/json")]))
    sent = await _request(mw, "/", b"_ga=1; _fbp=2", consent_cookie(mw, "analytics")[1])
    assert {name for name, _, _ in _expired(sent)} == {"_fbp"}


@pytest.mark.anyio
async def test_non_tracker_cookies_are_never_deleted() -> None:
    mw = wrap(responding([(b"content-type", b"application/json")]))
    sent = await _request(mw, "/a/b", b"session=1; csrftoken=2", consent_cookie(mw)[1])
    assert values(sent, b"set-cookie") == []


@pytest.mark.anyio
async def test_stale_tracker_cookies_are_deleted_on_pages_as_well() -> None:
    mw = wrap(responding([(b"content-type", b"text/html; charset=utf-8")], PAGE))
    sent = await _request(mw, "/", b"_ga=1", consent_cookie(mw)[1])
    assert ("_ga", "/", None) in _expired(sent)
    assert b"asgi-consent-settings" in body_of(sent) or b"asgi-consent" in body_of(sent)


@pytest.mark.anyio
async def test_deleting_stale_cookies_is_bounded_per_response() -> None:
    mw = wrap(responding([(b"content-type", b"application/json")]))
    names = b"; ".join(b"_ga_%d=1" % i for i in range(50))
    sent = await _request(mw, "/" + "/".join("abcdefgh"), names, consent_cookie(mw)[1])
    assert len(_expired(sent)) == 32


# -- the Accept-Language memo ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_long_accept_language_headers_are_not_remembered() -> None:
    mw = wrap(responding([(b"content-type", b"text/html")], PAGE))
    for index in range(20):
        header = b"de;q=0.5, " + b"x-%d, " % index * 100_000  # ~700 KB, distinct
        await run_asgi(mw, make_scope(headers=[(b"accept-language", header)]))
    for index in range(2000):
        await run_asgi(mw, make_scope(headers=[(b"accept-language", b"fr, x-%d" % index)]))
    memo = mw.planner._languages
    assert 0 < len(memo) <= 1024
    assert memo.key_size() < 300_000


@pytest.mark.anyio
async def test_a_long_accept_language_header_still_chooses_the_language() -> None:
    mw = wrap(responding([(b"content-type", b"text/html")], PAGE))
    header = b"fr, " + b"x-y, " * 100_000
    sent = await run_asgi(mw, make_scope(headers=[(b"accept-language", header)]))
    assert b'lang="fr"' in body_of(sent)
    assert len(mw.planner._languages) == 0

