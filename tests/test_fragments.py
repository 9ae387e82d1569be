"""Partial page updates (issue 15): which requests ask for a fragment, which page a
fragment returns to, and what a fragment gets (never a banner) compared with a page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from asgi_consent import ConsentMiddleware
from asgi_consent.fragments import fragment_request, return_path
from helpers import client, html_app, make_scope, wrap

HTML = (b"content-type", b"text/html; charset=utf-8")
TURBO_STREAM = (b"content-type", b"text/vnd.turbo-stream.html; charset=utf-8")
BANNER = b'id="asgi-consent"'
SETTINGS = b'id="asgi-consent-settings"'
OUR_SCRIPT = re.compile(rb'<script src="[^"]*/consent\.[0-9a-f]+\.js"')
GA4 = (
    b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXXXXXXXX"></script>'
    b"<script>window.dataLayer = window.dataLayer || [];"
    b"function gtag(){window.dataLayer.push(arguments);}"
    b"gtag('js', new Date()); gtag('config', 'G-XXXXXXXXXX');</script>"
)
META_PIXEL = (
    b"<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?"
    b"n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;"
    b"n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;"
    b"t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}"
    b"(window, document,'script','https://connect.facebook.net/en_US/fbevents.js');"
    b"fbq('init', '000000000000000'); fbq('track', 'PageView');</script>"
)
YOUTUBE = (
    b'<iframe width="560" height="315" src="https://www.youtube.com/embed/XXXXXXXXXXX"'
    b' title="YouTube video player" allowfullscreen></iframe>'
)
FRAGMENT = b'<div id="trackers">' + GA4 + META_PIXEL + YOUTUBE + b"</div>"
DOCUMENT = b"<!doctype html><html><head><title>News</title></head><body><p>Hello</p></body></html>"
ALL_CATEGORIES = ("analytics", "marketing", "media")



def cookie(mw: ConsentMiddleware, *categories: str) -> dict[str, str]:
    return {"cookie": "asgi_consent=" + mw.codec.encode(categories)}


def next_values(body: bytes) -> list[bytes]:
    return re.findall(rb'name="next" value="([^"]*)"', body)


def assert_held_back(body: bytes) -> None:
    """Every tracker script is inert and the video frame has no live src."""
    scripts = re.findall(rb"(<script[^>]*>)(.*?)</script>", body, re.S)
    trackers = [tag for tag, text in scripts if b"googletagmanager" in tag + text]
    trackers += [tag for tag, text in scripts if b"fbevents.js" in text]
    assert len(trackers) == 2, body  # gtag.js and the pixel; gtag("config") only queues
    assert all(b'type="text/plain"' in tag for tag in trackers), trackers
    assert re.search(rb"<iframe[^>]*\ssrc=", body) is None, body
    assert b'data-consent-src="https://www.youtube.com/embed/' in body


def scope_with(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return make_scope("/fragments/video", headers=headers)


async def get(
    body: bytes | list[bytes],
    path: str = "/fragments/video",
    *,
    headers: dict[str, str] | None = None,
    content_type: tuple[bytes, bytes] = HTML,
    categories: tuple[str, ...] | None = None,
    **options: Any,
) -> bytes:
    chunks = body if isinstance(body, list) else [body]
    mw = wrap(html_app(chunks, headers=[content_type]), **options)
    sent = dict(headers or {})
    if categories is not None:
        sent.update(cookie(mw, *categories))
    async with client(mw) as c:
        response = await c.get(path, headers=sent)
    assert response.status_code == 200
    return response.content


# -- which requests ask for a fragment ------------------------------------------------


def test_htmx_request_is_a_fragment_request() -> None:
    assert fragment_request([(b"hx-request", b"true")])


def test_htmx_request_header_value_is_read_without_regard_to_case_or_spaces() -> None:
    assert fragment_request([(b"hx-request", b" True ")])


def test_htmx_request_header_with_another_value_is_not_a_fragment_request() -> None:
    assert not fragment_request([(b"hx-request", b"false")])


def test_htmx_boosted_navigation_is_not_a_fragment_request() -> None:
    # htmx puts a boosted answer in place of the whole body: it must bring its banner.
    assert not fragment_request([(b"hx-request", b"true"), (b"hx-boosted", b"true")])


def test_htmx_history_restore_is_not_a_fragment_request() -> None:
    headers = [(b"hx-request", b"true"), (b"hx-history-restore-request", b"true")]
    assert not fragment_request(headers)


def test_turbo_frame_request_is_a_fragment_request() -> None:
    assert fragment_request([(b"turbo-frame", b"comments")])


def test_turbo_frame_request_that_also_accepts_streams_is_a_fragment_request() -> None:
    accept = (b"accept", b"text/vnd.turbo-stream.html, text/html, application/xhtml+xml")
    assert fragment_request([accept, (b"turbo-frame", b"comments")])


def test_turbo_drive_form_submission_accepting_streams_is_not_a_fragment_request() -> None:
    # Turbo Drive renders an HTML answer to a form (a 422 with errors) as a whole page.
    accept = (b"accept", b"text/vnd.turbo-stream.html, text/html, application/xhtml+xml")
    assert not fragment_request([accept])


def test_unpoly_request_is_a_fragment_request() -> None:
    assert fragment_request([(b"x-up-version", b"3.11.0"), (b"x-up-target", b".menu")])


def test_unpoly_request_without_a_target_is_a_fragment_request() -> None:
    assert fragment_request([(b"x-up-version", b"3.11.0")])


def test_unpoly_request_aimed_at_the_body_is_not_a_fragment_request() -> None:
    assert not fragment_request([(b"x-up-version", b"3.11.0"), (b"x-up-target", b"body")])


def test_unpoly_request_aimed_at_the_body_among_other_targets_is_not_a_fragment_request() -> None:
    headers = [(b"x-up-version", b"3.11.0"), (b"x-up-target", b".flash, body")]
    assert not fragment_request(headers)


def test_plain_browser_navigation_is_not_a_fragment_request() -> None:
    headers = [(b"accept", b"text/html,application/xhtml+xml"), (b"sec-fetch-mode", b"navigate")]
    assert not fragment_request(headers)


def test_header_names_sent_in_upper_case_are_recognised() -> None:
    assert fragment_request([(b"HX-Request", b"true")])


# -- which page a fragment returns to -------------------------------------------------


def test_return_path_is_read_from_hx_current_url() -> None:
    scope = scope_with((b"hx-current-url", b"http://testserver/articles/7?tab=video"))
    assert return_path(scope, ()) == "/articles/7?tab=video"


def test_return_path_prefers_hx_current_url_over_the_referer() -> None:
    scope = scope_with(
        (b"referer", b"http://testserver/older"),
        (b"hx-current-url", b"http://testserver/current"),
    )
    assert return_path(scope, ()) == "/current"


def test_return_path_falls_back_to_a_same_origin_referer() -> None:
    scope = scope_with((b"referer", b"http://testserver/news?page=2"))
    assert return_path(scope, ()) == "/news?page=2"


def test_cross_origin_referer_is_ignored() -> None:
    scope = scope_with((b"referer", b"https://evil.example/phish"))
    assert return_path(scope, ()) is None


def test_cross_origin_hx_current_url_falls_back_to_the_same_origin_referer() -> None:
    scope = scope_with(
        (b"hx-current-url", b"https://evil.example/phish"),
        (b"referer", b"http://testserver/news"),
    )
    assert return_path(scope, ()) == "/news"


def test_referer_on_a_trusted_origin_is_used() -> None:
    scope = scope_with((b"referer", b"https://www.example.com/shop"))
    assert return_path(scope, ("https://www.example.com",)) == "/shop"


def test_referer_on_a_trusted_origin_with_another_scheme_is_ignored() -> None:
    scope = scope_with((b"referer", b"http://www.example.com/shop"))
    assert return_path(scope, ("https://www.example.com",)) is None


def test_referer_with_the_default_port_matches_a_host_without_one() -> None:
    scope = scope_with((b"referer", b"https://testserver:443/news"))
    assert return_path(scope, ()) == "/news"


def test_referer_on_another_port_of_the_same_host_is_ignored() -> None:
    scope = scope_with((b"referer", b"http://testserver:8080/news"))
    assert return_path(scope, ()) is None


def test_referer_with_user_info_is_ignored() -> None:
    scope = scope_with((b"referer", b"http://evil.example@testserver/news"))
    assert return_path(scope, ()) is None


def test_referer_that_is_not_http_is_ignored() -> None:
    for referer in (b"javascript:alert(1)", b"data:text/html,x", b"null", b"/relative"):
        assert return_path(scope_with((b"referer", referer)), ()) is None, referer


def test_return_path_drops_the_fragment_identifier_and_keeps_the_query() -> None:
    scope = scope_with((b"hx-current-url", b"http://testserver/a?b=1&c=2#comments"))
    assert return_path(scope, ()) == "/a?b=1&c=2"


def test_return_path_of_a_bare_origin_is_the_root() -> None:
    assert return_path(scope_with((b"referer", b"http://testserver")), ()) == "/"


def test_return_path_refuses_what_safe_next_refuses() -> None:
    for url in (
        b"http://testserver//evil.example/x",  # a path the browser reads as a host
        b"http://testserver/caf\xe9",  # not ASCII
        b"http://testserver/a b",
    ):
        assert return_path(scope_with((b"referer", url)), ()) is None, url


def test_overlong_referer_is_ignored() -> None:
    scope = scope_with((b"referer", b"http://testserver/" + b"a" * 5000))
    assert return_path(scope, ()) is None


def test_malformed_referer_is_ignored() -> None:
    scope = scope_with((b"referer", b"http://[::1/news"))
    assert return_path(scope, ()) is None


def test_return_path_without_a_page_header_is_none() -> None:
    assert return_path(scope_with(), ()) is None


def test_return_path_without_a_host_header_accepts_only_trusted_origins() -> None:
    scope = make_scope("/f", headers=[(b"referer", b"http://testserver/news")])
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"]
    assert return_path(scope, ()) is None
    assert return_path(scope, ("http://testserver",)) == "/news"


# -- placeholders in a fragment return to the visitor's page --------------------------


@pytest.mark.anyio
async def test_placeholder_in_an_htmx_fragment_returns_to_the_page_the_visitor_is_on() -> None:
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/articles/7?tab=1&x=2"}
    body = await get(FRAGMENT, headers=headers)
    assert b"asgi-consent-placeholder" in body
    assert next_values(body) == [b"/articles/7?tab=1&amp;x=2"]


@pytest.mark.anyio
async def test_placeholder_in_a_turbo_frame_returns_to_the_referring_page() -> None:
    headers = {"Turbo-Frame": "video", "Referer": "http://testserver/articles/7"}
    body = await get(FRAGMENT, headers=headers)
    assert next_values(body) == [b"/articles/7"]


@pytest.mark.anyio
async def test_placeholder_in_an_unpoly_fragment_returns_to_the_referring_page() -> None:
    headers = {"X-Up-Version": "3.11.0", "Referer": "http://testserver/articles/7"}
    body = await get(FRAGMENT, headers=headers)
    assert next_values(body) == [b"/articles/7"]


@pytest.mark.anyio
async def test_placeholder_in_a_fragment_ignores_a_cross_origin_referer() -> None:
    headers = {"HX-Request": "true", "Referer": "https://evil.example/phish"}
    body = await get(FRAGMENT, headers=headers)
    assert next_values(body) == [b"/fragments/video"]


@pytest.mark.anyio
async def test_placeholder_in_a_full_page_returns_to_that_page_whatever_the_referer() -> None:
    page = b"<!doctype html><html><body>" + YOUTUBE + b"</body></html>"
    body = await get(page, "/watch", headers={"Referer": "http://testserver/elsewhere"})
    assert next_values(body)[0] == b"/watch"


@pytest.mark.anyio
async def test_placeholder_after_a_boosted_navigation_returns_to_the_new_page() -> None:
    page = b"<!doctype html><html><body>" + YOUTUBE + b"</body></html>"
    headers = {
        "HX-Request": "true",
        "HX-Boosted": "true",
        "HX-Current-URL": "http://testserver/previous",
    }
    body = await get(page, "/watch", headers=headers)
    assert next_values(body)[0] == b"/watch"


# -- a fragment is held back like a page, and gets nothing of ours --------------------


@pytest.mark.anyio
async def test_fragment_trackers_are_held_back_before_a_choice() -> None:
    body = await get(FRAGMENT, headers={"HX-Request": "true"})
    assert_held_back(body)


@pytest.mark.anyio
async def test_fragment_trackers_are_held_back_after_a_rejection() -> None:
    body = await get(FRAGMENT, headers={"HX-Request": "true"}, categories=())
    assert_held_back(body)


@pytest.mark.anyio
async def test_fragment_is_passed_through_byte_for_byte_after_accept_all() -> None:
    body = await get(FRAGMENT, headers={"HX-Request": "true"}, categories=ALL_CATEGORIES)
    assert body == FRAGMENT


@pytest.mark.anyio
async def test_htmx_fragment_gets_no_banner_and_no_script_before_a_choice() -> None:
    body = await get(FRAGMENT, headers={"HX-Request": "true"})
    assert BANNER not in body
    assert OUR_SCRIPT.search(body) is None


@pytest.mark.anyio
async def test_full_document_answer_to_an_htmx_request_gets_no_banner() -> None:
    # htmx swaps the whole answer into its target: a banner would appear there a second time.
    body = await get(DOCUMENT, headers={"HX-Request": "true"})
    assert body == DOCUMENT


@pytest.mark.anyio
async def test_full_document_answer_to_a_turbo_frame_request_gets_no_banner() -> None:
    body = await get(DOCUMENT, headers={"Turbo-Frame": "comments"})
    assert body == DOCUMENT


@pytest.mark.anyio
async def test_fragment_for_a_decided_visitor_gets_no_settings_control_or_script() -> None:
    body = await get(DOCUMENT, headers={"HX-Request": "true"}, categories=("analytics",))
    assert SETTINGS not in body
    assert OUR_SCRIPT.search(body) is None


@pytest.mark.anyio
async def test_fragment_by_its_bytes_gets_no_banner_even_with_a_stray_closing_body_tag() -> None:
    fragment = b"<li>one</li><li>two</li></body>"
    body = await get(fragment)
    assert body == fragment


@pytest.mark.anyio
async def test_fragment_with_a_script_gets_no_consent_mode_insertion() -> None:
    fragment = b"<div><script>console.log('swapped')</script></div>"
    body = await get(fragment, headers={"HX-Request": "true"}, consent_mode=True)
    assert b"consent-mode" not in body
    assert body == fragment


@pytest.mark.anyio
async def test_fragment_by_its_bytes_gets_no_consent_mode_insertion() -> None:
    fragment = b"<div><script>console.log('swapped')</script></div>"
    body = await get(fragment, consent_mode=True)
    assert body == fragment


@pytest.mark.anyio
async def test_full_document_answer_to_a_boosted_navigation_gets_the_banner() -> None:
    body = await get(DOCUMENT, headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert BANNER in body
    assert OUR_SCRIPT.search(body) is not None


@pytest.mark.anyio
async def test_turbo_stream_trackers_are_held_back_and_get_no_banner() -> None:
    stream = (
        b'<turbo-stream action="append" target="comments"><template>'
        + FRAGMENT
        + b"</template></turbo-stream>"
    )
    body = await get(
        stream,
        headers={"Accept": "text/vnd.turbo-stream.html, text/html"},
        content_type=TURBO_STREAM,
    )
    assert_held_back(body)
    assert BANNER not in body
    assert OUR_SCRIPT.search(body) is None


# -- a document always gets the banner, even without </body> ---------------------------


@pytest.mark.anyio
async def test_document_without_a_closing_body_tag_gets_the_banner_at_its_end() -> None:
    page = b"<!doctype html><html><head><title>News</title></head><body><p>Hello"
    body = await get(page, "/")
    assert body.startswith(page)
    assert BANNER in body[len(page) :]
    assert OUR_SCRIPT.search(body[len(page) :]) is not None


@pytest.mark.anyio
async def test_streamed_document_without_a_closing_body_tag_gets_the_banner_at_its_end() -> None:
    chunks = [b"<!DOCTYPE html>\n<html lang=en>", b"<body><main><p>Hel", b"lo</p></main>"]
    body = await get(chunks, "/")
    page = b"".join(chunks)
    assert body.startswith(page)
    assert BANNER in body[len(page) :]


@pytest.mark.anyio
async def test_document_after_a_bom_whitespace_and_comments_is_a_document() -> None:
    page = b"\xef\xbb\xbf \n<!-- generated -->\n<!--x--><html><body><p>Hello"
    body = await get(page, "/")
    assert BANNER in body[len(page) :]


@pytest.mark.anyio
async def test_document_starting_with_head_or_body_is_a_document() -> None:
    for page in (b"<head><title>x</title></head><p>Hello", b"<BODY class=x><p>Hello"):
        body = await get(page, "/")
        assert BANNER in body[len(page) :], page


@pytest.mark.anyio
async def test_document_starting_with_what_only_a_head_holds_is_a_document() -> None:
    """A page without doctype, <html> or <head> that starts with its <meta>, <title> or
    <base> is a page (it got no banner and no guard: red-team session 4)."""
    for first in (b"<meta charset=utf-8>", b"<TITLE>x</TITLE>", b'<base href="/">'):
        page = first + b"<p>Hello"
        body = await get(page, "/")
        assert BANNER in body[len(page) :], page


@pytest.mark.anyio
async def test_a_fragment_request_starting_with_a_title_stays_a_fragment() -> None:
    """htmx swaps a response's <title> into the page: such an answer is no page."""
    page = b"<title>New title</title><p>Hello</p>"
    body = await get(page, "/", headers={"HX-Request": "true"})
    assert body == page


@pytest.mark.anyio
async def test_document_without_a_closing_body_tag_gets_the_settings_control_after_a_choice() -> (
    None
):
    page = b"<!doctype html><html><body><p>Hello"
    body = await get(page, "/", categories=("analytics",))
    assert SETTINGS in body[len(page) :]
