"""`cacheable_html=True`: one page for every visitor, the app's caching kept, ETags that
still validate, the consent cookie readable by our head script, rewrites remembered."""

from __future__ import annotations

import copy
import re
from typing import Any

import html5lib  # type: ignore[import-untyped]
import pytest

from asgi_consent import ConsentMiddleware
from asgi_consent.cacheable import MEMO_LARGEST_BODY
from asgi_consent.config import ConsentConfig
from helpers import SECRET, body_of, client, make_scope, run_asgi, wrap

pytestmark = pytest.mark.anyio

GTAG = "https://www.googletagmanager.com/gtag/js?id=G-1"
PAGE = (
    b"<!doctype html><html><head><title>News</title>"
    b'<script async src="' + GTAG.encode() + b'"></script></head>'
    b"<body><p>Hello</p></body></html>"
)
HTML = (b"content-type", b"text/html; charset=utf-8")
CACHING = (b"cache-control", b"public, max-age=60")
Headers = list[tuple[bytes, bytes]]


def page_app(
    body: bytes = PAGE, headers: Headers | None = None, *, seen: list[Any] | None = None
) -> Any:
    """A page with an ETag that answers If-None-Match with 304, as a framework does."""
    sent = [HTML, CACHING, (b"etag", b'"v1"')] if headers is None else headers

    async def app(scope: Any, receive: Any, send: Any) -> None:
        asked = [v for k, v in scope["headers"] if k == b"if-none-match"]
        if seen is not None:
            seen.append(asked)
        if asked and b'"v1"' in asked[0]:
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [CACHING, (b"etag", b'"v1"')],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": copy.copy(sent)})
        await send({"type": "http.response.body", "body": body})

    return app


def cookie(mw: ConsentMiddleware, *categories: str) -> tuple[bytes, bytes]:
    return (b"cookie", b"asgi_consent=" + mw.codec.encode(categories).encode())


async def get(mw: ConsentMiddleware, *headers: tuple[bytes, bytes]) -> tuple[Any, bytes]:
    sent = await run_asgi(mw, make_scope(headers=headers))
    return sent[0], body_of(sent)


def header(start: Any, name: bytes) -> list[bytes]:
    return [value for key, value in start["headers"] if key == name]


def script_of(body: bytes, src_part: str) -> Any:
    """The <script> element whose src (live or held back) names `src_part`, as html5lib
    (a browser's tree builder) reads the page."""
    tree = html5lib.parse(body.decode(), treebuilder="etree", namespaceHTMLElements=False)
    for script in tree.iter("script"):
        if any(src_part in value for value in script.attrib.values()):
            return script
    raise AssertionError(f"no script naming {src_part}")


async def test_every_visitor_gets_the_same_bytes_and_headers() -> None:
    mw = wrap(page_app(), cacheable_html=True)
    first = await get(mw)
    accepted = await get(mw, cookie(mw, "analytics", "marketing", "media"))
    rejected = await get(mw, cookie(mw), (b"accept-language", b"de"), (b"sec-gpc", b"1"))
    assert first == accepted == rejected
    start, body = first
    assert b'data-consent-banner=""' in body
    tracker = script_of(body, "googletagmanager")
    assert tracker.attrib.get("type") == "text/plain"  # a browser runs no such script


async def test_the_apps_cache_control_stays_and_no_vary_cookie_is_added() -> None:
    start, _ = await get(wrap(page_app(), cacheable_html=True))
    assert header(start, b"cache-control") == [b"public, max-age=60"]
    assert header(start, b"vary") == [b"Host"]  # the page is read against the host


async def test_the_per_visitor_mode_stays_the_default() -> None:
    start, body = await get(
        wrap(page_app()),
    )
    assert header(start, b"cache-control") == [b"private, max-age=60"]
    assert header(start, b"vary") == [b"Cookie"]
    assert b"consent-cache" not in body


async def test_the_head_script_comes_first_in_head_with_the_pages_nonce() -> None:
    headers = [HTML, (b"content-security-policy", b"script-src 'nonce-abc123'")]
    _, body = await get(wrap(page_app(headers=headers), cacheable_html=True))
    head = body.split(b"<head>", 1)[1]
    assert head.startswith(b'<script src="/_consent/static/consent-cache.')
    first_tag = head.split(b">", 1)[0]
    assert (
        b'nonce="abc123"' in first_tag and b"defer" not in first_tag and b"async" not in first_tag
    )
    assert b'data-cookie="asgi_consent" data-revision="1"' in first_tag
    assert b'<link rel="stylesheet" href="/_consent/static/consent-cache.' in head


async def test_the_head_files_are_served_content_hashed() -> None:
    mw = wrap(page_app(), cacheable_html=True)
    _, body = await get(mw)
    urls = re.findall(rb'"(/_consent/static/consent-cache\.[0-9a-f]{12}\.(?:js|css))"', body)
    assert len(urls) == 2
    async with client(mw) as http:
        for url in urls:
            answer = await http.get(url.decode())
            assert answer.status_code == 200
            assert "immutable" in answer.headers["cache-control"]


async def test_the_banner_language_never_comes_from_accept_language() -> None:
    mw = wrap(page_app(), cacheable_html=True)
    _, english = await get(mw)
    _, asked_german = await get(mw, (b"accept-language", b"de"))
    assert english == asked_german and b'lang="en"' in english
    _, forced = await get(wrap(page_app(), cacheable_html=True, language="de"))
    assert b'lang="de"' in forced


async def test_a_language_selector_sees_no_accept_language() -> None:
    seen: list[str | None] = []

    def selector(request: Any) -> str | None:
        seen.append(request.headers.get("accept-language"))
        return "fr" if request.url.path.startswith("/fr") else None

    mw = wrap(page_app(), cacheable_html=True, language_selector=selector)
    _, body = await get(mw, (b"accept-language", b"de"))
    assert seen == [None] and b'lang="en"' in body


async def test_the_settings_control_waits_in_an_inert_template() -> None:
    _, body = await get(wrap(page_app(), cacheable_html=True))
    tree = html5lib.parse(body.decode(), treebuilder="etree", namespaceHTMLElements=False)
    [template] = tree.iter("template")
    inside = {id(el) for el in template.iter()}
    # A template's content is not in the document: no id there can clash with the banner's.
    ids = [el.get("id") for el in tree.iter() if el.get("id") and id(el) not in inside]
    assert len(ids) == len(set(ids)) and "asgi-consent-settings" not in ids
    assert "asgi-consent-settings" in {el.get("id") for el in template.iter()}
    assert b'<template data-consent-cached><div id="asgi-consent-settings"' in body
    _, without = await get(wrap(page_app(), cacheable_html=True, settings_button=False))
    assert b"<template" not in without


# -- ETag and conditional requests --------------------------------------------------------


async def test_the_etag_is_the_apps_with_our_configurations_fingerprint() -> None:
    start, _ = await get(wrap(page_app(), cacheable_html=True))
    [etag] = header(start, b"etag")
    assert etag.startswith(b'"v1-ac') and etag.endswith(b'"') and len(etag) == len(b'"v1-ac"') + 12
    other, _ = await get(wrap(page_app(), cacheable_html=True, title="Cookies?"))
    assert header(other, b"etag") != [etag]
    again, _ = await get(wrap(page_app(), cacheable_html=True))
    assert header(again, b"etag") == [etag]  # another process, the same config: the same tag


async def test_a_weak_etag_stays_weak() -> None:
    start, _ = await get(wrap(page_app(headers=[HTML, (b"etag", b'W/"v2"')]), cacheable_html=True))
    [etag] = header(start, b"etag")
    assert etag.startswith(b'W/"v2-ac')


async def test_if_none_match_with_our_etag_reaches_the_app_as_its_own_and_304_comes_back() -> None:
    seen: list[Any] = []
    mw = wrap(page_app(seen=seen), cacheable_html=True)
    start, _ = await get(mw)
    [etag] = header(start, b"etag")
    sent = await run_asgi(mw, make_scope(headers=[(b"if-none-match", b'"other", ' + etag)]))
    assert seen[-1] == [b'"other", "v1"']
    assert sent[0]["status"] == 304 and header(sent[0], b"etag") == [etag]
    assert body_of(sent) == b""


async def test_an_etag_of_another_configuration_matches_nothing() -> None:
    seen: list[Any] = []
    old = wrap(page_app(), cacheable_html=True, title="Old title")
    [old_etag] = header((await get(old))[0], b"etag")
    mw = wrap(page_app(seen=seen), cacheable_html=True)
    sent = await run_asgi(mw, make_scope(headers=[(b"if-none-match", old_etag)]))
    assert seen[-1] == [] and sent[0]["status"] == 200
    assert b'data-consent-banner=""' in body_of(sent)


async def test_if_none_match_star_and_the_apps_own_tags_pass_unchanged() -> None:
    seen: list[Any] = []
    mw = wrap(page_app(seen=seen), cacheable_html=True)
    await run_asgi(mw, make_scope(headers=[(b"if-none-match", b"*")]))
    await run_asgi(mw, make_scope(headers=[(b"if-none-match", b'"json-7"')]))
    assert seen == [[b"*"], [b'"json-7"']]


# -- cookies ------------------------------------------------------------------------------


async def test_a_response_that_sets_cookies_is_made_private() -> None:
    headers = [HTML, CACHING, (b"etag", b'"v1"'), (b"set-cookie", b"session=1; Path=/")]
    start, body = await get(wrap(page_app(headers=headers), cacheable_html=True))
    assert header(start, b"cache-control") == [b"private, max-age=60"]
    assert header(start, b"vary") == [b"Cookie"] and header(start, b"etag") == []
    assert b'data-consent-banner=""' in body


async def test_refused_set_cookie_is_still_dropped_and_the_page_stays_shared() -> None:
    headers = [HTML, CACHING, (b"set-cookie", b"_ga=GA1.1.1; Path=/")]
    start, _ = await get(wrap(page_app(headers=headers), cacheable_html=True))
    assert header(start, b"set-cookie") == []
    assert header(start, b"cache-control") == [b"public, max-age=60"]


async def test_a_decided_visitors_stale_tracker_cookies_are_deleted_privately() -> None:
    mw = wrap(page_app(), cacheable_html=True)
    start, _ = await get(mw, (b"cookie", b"_ga=GA1.1.1; " + cookie(mw)[1]))
    assert any(value.startswith(b"_ga=;") for value in header(start, b"set-cookie"))
    assert header(start, b"cache-control") == [b"private, max-age=60"]


async def test_the_consent_cookie_is_readable_by_scripts_only_in_this_mode() -> None:
    form = {"choice": "accept", "next": "/"}
    async with client(wrap(page_app(), cacheable_html=True)) as http:
        cached = (await http.post("/_consent/choice", data=form)).headers["set-cookie"]
    async with client(wrap(page_app())) as http:
        private = (await http.post("/_consent/choice", data=form)).headers["set-cookie"]
    assert "HttpOnly" not in cached and "HttpOnly" in private
    assert cached.startswith("asgi_consent=c1~1~analytics.marketing.media~")


# -- remembered rewrites ------------------------------------------------------------------


async def test_a_repeated_page_is_rewritten_once_and_a_changed_page_again() -> None:
    bodies = [PAGE, PAGE, PAGE.replace(b"Hello", b"Changed")]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [HTML]})
        await send({"type": "http.response.body", "body": bodies.pop(0)})

    mw = wrap(app, cacheable_html=True)
    assert mw.cacheable is not None
    first = (await get(mw))[1]
    second = (await get(mw))[1]
    assert first == second and len(mw.cacheable._rewrites) == 1
    changed = (await get(mw))[1]
    assert b"Changed" in changed and len(mw.cacheable._rewrites) == 2


async def test_a_page_on_another_path_is_not_taken_from_the_memo() -> None:
    mw = wrap(page_app(), cacheable_html=True)
    sent = await run_asgi(mw, make_scope("/other"))
    _, home = await get(mw)
    assert b'value="/other"' in body_of(sent) and b'value="/other"' not in home


async def test_a_long_page_is_not_remembered() -> None:
    long_page = PAGE.replace(b"Hello", b"x" * MEMO_LARGEST_BODY)
    mw = wrap(page_app(long_page), cacheable_html=True)
    await get(mw)
    assert mw.cacheable is not None and len(mw.cacheable._rewrites) == 0


async def test_a_streamed_page_is_rewritten_the_same_as_a_whole_one() -> None:
    chunks = [PAGE[:40], PAGE[40:]]

    async def streamed(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [HTML, CACHING]})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    start, body = await get(wrap(streamed, cacheable_html=True))
    _, whole = await get(wrap(page_app(headers=[HTML, CACHING]), cacheable_html=True))
    assert body == whole and header(start, b"content-length") == []


def test_the_option_reads_from_the_environment() -> None:
    config = ConsentConfig.from_env(
        environ={"CONSENT_SECRET_KEY": SECRET, "CONSENT_CACHEABLE_HTML": "true"}
    )
    assert config.cacheable_html is True
    with pytest.raises(Exception, match="cacheable_html"):
        ConsentConfig(secret_key=SECRET, cacheable_html="yes")


def test_a_long_page_with_a_head_insertion_is_rewritten_as_when_streamed() -> None:
    from asgi_consent.rewrite import HEAD_WINDOW, HtmlRewriter

    mw = wrap(page_app(), cacheable_html=True)
    plan = mw.planner.plan(make_scope(), mw.codec.deferred([]), [HTML])
    for prologue in (b"", b"<!--" + b"x" * HEAD_WINDOW + b"-->"):
        page = prologue + PAGE.replace(b"<p>Hello</p>", b"<p><a href=/x>Hello</a></p>" * 2000)
        whole = HtmlRewriter(plan).rewrite_all(page)
        streamed = HtmlRewriter(plan)
        pieces = [streamed.feed(page[at : at + 1000]) for at in range(0, len(page), 1000)]
        assert whole == b"".join(pieces) + streamed.finish()
        assert b"<head>" + plan.head_start + b"<title>" in whole


async def test_link_headers_to_trackers_are_dropped_even_for_a_visitor_who_accepted() -> None:
    preload = b"<" + GTAG.encode() + b">; rel=preload; as=script"
    headers = [HTML, CACHING, (b"link", preload), (b"link", b"</app.css>; rel=preload; as=style")]
    everything = ("analytics", "marketing", "media")
    shared = wrap(page_app(headers=headers), cacheable_html=True)
    start, _ = await get(shared, cookie(shared, *everything))
    assert header(start, b"link") == [b"</app.css>; rel=preload; as=style"]
    private = wrap(page_app(headers=headers))
    start, _ = await get(private, cookie(private, *everything))
    assert preload in header(start, b"link")


async def test_an_etag_we_cannot_read_is_dropped() -> None:
    start, _ = await get(wrap(page_app(headers=[HTML, (b"etag", b"v1")]), cacheable_html=True))
    assert header(start, b"etag") == []
