"""ConsentMiddleware as a browser sees it: which responses are touched, and how."""

from __future__ import annotations

import copy
import re
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from asgi_consent import ConsentMiddleware
from asgi_consent.cookie import NO_CHOICE
from asgi_consent.middleware import _Responder
from asgi_consent.plan import RewritePlan
from helpers import SECRET, body_of, client, html_app, make_scope, run_asgi, wrap

PAGE = b"<!doctype html><html><head><title>News</title></head><body><p>Hello</p></body></html>"
HTML = (b"content-type", b"text/html; charset=utf-8")
BANNER_START = b'<div id="asgi-consent" '
SETTINGS_START = b'<div id="asgi-consent-settings" '
ALL_CATEGORIES = ("analytics", "marketing", "media")



def consent_cookie(mw: ConsentMiddleware, *categories: str) -> tuple[bytes, bytes]:
    return (b"cookie", b"asgi_consent=" + mw.codec.encode(categories).encode())


def split_insertion(body: bytes, marker: bytes) -> tuple[bytes, bytes, bytes]:
    """(before, our markup, after): our markup runs from `marker` to the end of our script."""
    start = body.index(marker)
    end = body.index(b"</script>", start) + len(b"</script>")
    return body[:start], body[start:end], body[end:]


def recording_app(messages: list[dict[str, Any]]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        for message in copy.deepcopy(messages):
            await send(message)

    return app


async def assert_passes_through(
    messages: list[dict[str, Any]], *, method: str = "GET", **options: Any
) -> None:
    sent = await run_asgi(wrap(recording_app(messages), **options), make_scope(method=method))
    assert sent == messages


# -- where the banner goes ------------------------------------------------------------


@pytest.mark.anyio
async def test_banner_is_injected_right_before_the_closing_body_tag() -> None:
    async with client(wrap(html_app([PAGE]))) as c:
        response = await c.get("/")
    assert response.status_code == 200
    before, banner, after = split_insertion(response.content, BANNER_START)
    assert before == b"<!doctype html><html><head><title>News</title></head><body><p>Hello</p>"
    assert after == b"</body></html>"
    assert b'action="/_consent/choice"' in banner


@pytest.mark.anyio
async def test_banner_is_injected_before_an_upper_case_closing_body_tag() -> None:
    page = b"<HTML><BODY><P>Hi</P></BODY></HTML>"
    async with client(wrap(html_app([page]))) as c:
        response = await c.get("/")
    before, _, after = split_insertion(response.content, BANNER_START)
    assert (before, after) == (b"<HTML><BODY><P>Hi</P>", b"</BODY></HTML>")


@pytest.mark.anyio
async def test_banner_goes_before_the_last_of_several_closing_body_tags() -> None:
    page = b"<html><body><p>a</p></body><p>b</p></body></html>"
    async with client(wrap(html_app([page]))) as c:
        response = await c.get("/")
    before, _, after = split_insertion(response.content, BANNER_START)
    assert (before, after) == (b"<html><body><p>a</p></body><p>b</p>", b"</body></html>")


@pytest.mark.anyio
async def test_closing_body_tag_inside_a_comment_after_the_real_one_is_ignored() -> None:
    page = b"<html><body><p>a</p></body><!-- </body> --></html>"
    async with client(wrap(html_app([page]))) as c:
        response = await c.get("/")
    before, _, after = split_insertion(response.content, BANNER_START)
    assert (before, after) == (b"<html><body><p>a</p>", b"</body><!-- </body> --></html>")


@pytest.mark.anyio
async def test_closing_body_tag_inside_a_script_after_the_real_one_is_ignored() -> None:
    page = b'<html><body><p>a</p></body><script>var s = "</body>";</script></html>'
    async with client(wrap(html_app([page]))) as c:
        response = await c.get("/")
    before, _, after = split_insertion(response.content, BANNER_START)
    assert before == b"<html><body><p>a</p>"
    assert after == b'</body><script>var s = "</body>";</script></html>'


@pytest.mark.anyio
async def test_closing_body_tag_inside_a_style_after_the_real_one_is_ignored() -> None:
    page = b"<html><body><p>a</p></body><style>/* </body> */</style></html>"
    async with client(wrap(html_app([page]))) as c:
        response = await c.get("/")
    before, _, after = split_insertion(response.content, BANNER_START)
    assert (before, after) == (
        b"<html><body><p>a</p>",
        b"</body><style>/* </body> */</style></html>",
    )


@pytest.mark.anyio
async def test_fragment_whose_only_closing_body_tag_is_in_a_textarea_gets_no_banner() -> None:
    fragment = b"<form><textarea>paste </body> here</textarea></form>"
    async with client(wrap(html_app([fragment]))) as c:
        response = await c.get("/")
    assert response.content == fragment


@pytest.mark.anyio
async def test_fragment_without_a_closing_body_tag_gets_no_banner() -> None:
    fragment = b'<div id="comments" hx-swap-oob="true"><p>New comment</p></div>'
    async with client(wrap(html_app([fragment]))) as c:
        response = await c.get("/comments", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.content == fragment


@pytest.mark.anyio
async def test_settings_control_is_not_injected_into_a_textarea_for_a_fully_granted_visitor() -> (
    None
):
    fragment = b"<form><textarea>paste </body> here</textarea></form>"
    mw = wrap(html_app([fragment]))
    name, value = consent_cookie(mw, *ALL_CATEGORIES)
    async with client(mw) as c:
        response = await c.get("/", headers={name.decode(): value.decode()})
    assert response.content == fragment


# -- after a choice -------------------------------------------------------------------


@pytest.mark.anyio
async def test_after_a_choice_the_banner_is_replaced_by_the_cookie_settings_control() -> None:
    mw = wrap(html_app([PAGE]))
    name, value = consent_cookie(mw, *ALL_CATEGORIES)
    async with client(mw) as c:
        response = await c.get("/", headers={name.decode(): value.decode()})
    assert BANNER_START not in response.content
    before, control, after = split_insertion(response.content, SETTINGS_START)
    assert before + after == PAGE
    assert after == b"</body></html>"
    assert b"Cookie settings" in control


@pytest.mark.anyio
@pytest.mark.parametrize("categories", [ALL_CATEGORIES, ("necessary",)])
async def test_a_base_href_on_another_host_does_not_move_our_own_urls(
    categories: tuple[str, ...],
) -> None:
    """A granted visitor's page is skimmed, not decided tag by tag: its <base href> must
    still be seen, or our script, CSS and form would load from and post to that host."""
    page = (
        b'<!doctype html><html><head><base href="https://static.example.org/x/">'
        b"<title>t</title><script>var a = 1;</script></head><body><p>hi</p></body></html>"
    )
    mw = wrap(html_app([page]))
    name, value = consent_cookie(mw, *categories)
    async with client(mw) as c:
        response = await c.get("/", headers={name.decode(): value.decode()})
    ours = re.findall(rb'(?:src|href|action)="([^"]*/_consent/[^"]*)"', response.content)
    assert ours and all(url.startswith(b"//testserver/_consent/") for url in ours), ours


@pytest.mark.anyio
async def test_after_a_rejection_the_cookie_settings_control_is_shown() -> None:
    mw = wrap(html_app([PAGE]))
    name, value = consent_cookie(mw)
    async with client(mw) as c:
        response = await c.get("/", headers={name.decode(): value.decode()})
    assert BANNER_START not in response.content
    before, _, after = split_insertion(response.content, SETTINGS_START)
    assert before + after == PAGE


@pytest.mark.anyio
async def test_without_the_settings_button_a_decided_page_only_gets_our_script() -> None:
    mw = wrap(html_app([PAGE]), settings_button=False)
    name, value = consent_cookie(mw, *ALL_CATEGORIES)
    async with client(mw) as c:
        response = await c.get("/", headers={name.decode(): value.decode()})
    before, _, after = PAGE.rpartition(b"</body>")
    assert response.content.startswith(before)
    assert response.content.endswith(b"</body>" + after)
    added = response.content[len(before) : -len(b"</body>" + after)]
    assert b"asgi-consent-settings" not in added
    assert added.count(b"<script ") == 1
    assert b'data-granted="analytics marketing media necessary"' in added


# -- request.state.consent ------------------------------------------------------------


async def show_consent(request: Request) -> JSONResponse:
    consent = request.state.consent
    return JSONResponse(
        {
            "decided": consent.decided,
            "analytics": consent.allows("analytics"),
            "categories": sorted(consent.categories),
        }
    )


@pytest.mark.anyio
async def test_starlette_handler_reads_no_choice_from_request_state_before_a_choice() -> None:
    app = wrap(Starlette(routes=[Route("/me", show_consent)]))
    async with client(app) as c:
        response = await c.get("/me")
    assert response.json() == {"decided": False, "analytics": False, "categories": ["necessary"]}


@pytest.mark.anyio
async def test_starlette_handler_reads_the_choice_from_request_state_after_a_choice() -> None:
    app = wrap(Starlette(routes=[Route("/me", show_consent)]))
    name, value = consent_cookie(app, "analytics")
    async with client(app) as c:
        response = await c.get("/me", headers={name.decode(): value.decode()})
    assert response.json() == {
        "decided": True,
        "analytics": True,
        "categories": ["analytics", "necessary"],
    }


@pytest.mark.anyio
async def test_request_state_consent_is_set_when_added_with_add_middleware() -> None:
    app = Starlette(routes=[Route("/me", show_consent)])
    app.add_middleware(ConsentMiddleware, secret_key=SECRET)
    async with client(app) as c:
        response = await c.get("/me")
    assert response.json()["decided"] is False


# -- pass-through, byte for byte ------------------------------------------------------


def one_piece(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> list[dict[str, Any]]:
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


@pytest.mark.anyio
async def test_json_response_passes_through_byte_for_byte() -> None:
    body = b'{"html": "</body>"}'
    await assert_passes_through(
        one_piece(
            200,
            [(b"content-type", b"application/json"), (b"content-length", b"19")],
            body,
        )
    )


@pytest.mark.anyio
async def test_zstd_encoded_html_passes_through_byte_for_byte() -> None:
    # gzip, deflate and br are decoded and rewritten: test_compressed_pages.py
    body = b"\x28\xb5\x2f\xfdzstd bytes"
    headers = [HTML, (b"content-encoding", b"zstd"), (b"content-length", str(len(body)).encode())]
    await assert_passes_through(one_piece(200, headers, body))


@pytest.mark.anyio
async def test_image_passes_through_byte_for_byte() -> None:
    body = b"\x89PNG\r\n\x1a\n</body>\x00\x01"
    await assert_passes_through(one_piece(200, [(b"content-type", b"image/png")], body))


@pytest.mark.anyio
async def test_head_request_for_html_gets_a_pages_headers_and_no_body() -> None:
    # More in test_head_requests.py: the same headers as the GET gets.
    headers = [HTML, (b"content-length", str(len(PAGE)).encode()), (b"etag", b'"v1"')]
    app = wrap(recording_app(one_piece(200, headers, b"")))
    start, body = await run_asgi(app, make_scope(method="HEAD"))
    sent = dict(start["headers"])
    assert HTML in start["headers"] and b"etag" not in sent and b"content-length" not in sent
    assert sent[b"vary"] == b"Cookie" and b"private" in sent[b"cache-control"]
    assert body == {"type": "http.response.body", "body": b""}


@pytest.mark.anyio
async def test_204_with_html_type_passes_through_untouched() -> None:
    await assert_passes_through(one_piece(204, [HTML], b""))


@pytest.mark.anyio
async def test_304_with_html_type_passes_through_untouched() -> None:
    await assert_passes_through(one_piece(304, [HTML, (b"etag", b'"v1"')], b""))


@pytest.mark.anyio
async def test_206_partial_html_passes_through_untouched() -> None:
    # The answer to a Range request (a browser renders no such range as a page).
    headers = [HTML, (b"content-range", b"bytes 0-9/85"), (b"content-length", b"10")]
    messages = one_piece(206, headers, PAGE[:10])
    scope = make_scope(headers=[(b"range", b"bytes=0-9")])
    assert await run_asgi(wrap(recording_app(messages)), scope) == messages


@pytest.mark.anyio
async def test_server_sent_events_pass_through_chunk_by_chunk() -> None:
    messages: list[dict[str, Any]] = [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
        },
        {"type": "http.response.body", "body": b"data: <body>\n\n", "more_body": True},
        {"type": "http.response.body", "body": b"data: </body>\n\n", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]
    await assert_passes_through(messages)


@pytest.mark.anyio
async def test_server_sent_event_is_forwarded_before_the_app_sends_the_next_one() -> None:
    forwarded = anyio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        await forwarded.wait()
        await send({"type": "http.response.body", "body": b"data: 2\n\n"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            forwarded.set()

    with anyio.fail_after(2):
        await wrap(app)(make_scope(), None, send)
    assert [m.get("body") for m in sent] == [None, b"data: 1\n\n", b"data: 2\n\n"]


# -- other scopes and messages --------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("scope_type", ["lifespan"])  # websockets: see test_headers.py
async def test_non_http_scope_reaches_the_app_untouched(scope_type: str) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.extend([scope, copy.deepcopy(scope), receive, send])

    scope = {"type": scope_type, "asgi": {"version": "3.0"}, "path": "/ws", "headers": []}
    original = copy.deepcopy(scope)

    async def receive() -> dict[str, Any]:
        return {}

    async def send(message: dict[str, Any]) -> None:
        return None

    await wrap(app)(scope, receive, send)
    assert seen[0] is scope
    assert seen[1] == original
    assert seen[2] is receive
    assert seen[3] is send


@pytest.mark.anyio
async def test_trailers_message_after_a_page_is_forwarded_in_order() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [HTML], "trailers": True}
        )
        await send({"type": "http.response.body", "body": PAGE})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")]})

    sent = await run_asgi(wrap(app), make_scope())
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.body",
        "http.response.trailers",
    ]
    assert sent[2]["headers"] == [(b"x-checksum", b"1")]


@pytest.mark.anyio
async def test_unknown_message_before_the_body_is_forwarded_in_order() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [HTML]})
        await send({"type": "http.response.zerocopysend", "file": 7})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    sent = await run_asgi(wrap(app), make_scope())
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.zerocopysend",
        "http.response.body",
    ]
    assert sent[1] == {"type": "http.response.zerocopysend", "file": 7}


@pytest.mark.anyio
async def test_unknown_message_in_the_middle_of_a_page_keeps_every_byte_before_it() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [HTML]})
        await send({"type": "http.response.body", "body": PAGE, "more_body": True})
        await send({"type": "http.response.zerocopysend", "file": 7})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    sent = await run_asgi(wrap(app), make_scope())
    types = [m["type"] for m in sent]
    at = types.index("http.response.zerocopysend")
    before = body_of(sent[:at])
    assert before.startswith(b"<!doctype html><html><head><title>News</title></head><body>")
    assert before.endswith(b"</body></html>")
    assert types[at + 1 :] == ["http.response.body"]


# -- exceptions -----------------------------------------------------------------------


class AppError(Exception):
    pass


@pytest.mark.anyio
async def test_app_exception_before_the_response_starts_propagates_unchanged() -> None:
    error = AppError("database down")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise error

    with pytest.raises(AppError, match="^database down$") as caught:
        await run_asgi(wrap(app), make_scope())
    assert caught.value is error


@pytest.mark.anyio
async def test_app_exception_after_the_response_starts_propagates_unchanged() -> None:
    error = AppError("template failed")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [HTML]})
        await send({"type": "http.response.body", "body": b"<html><body>", "more_body": True})
        raise error

    with pytest.raises(AppError, match="^template failed$") as caught:
        await run_asgi(wrap(app), make_scope())
    assert caught.value is error


# -- Content-Length and streaming -----------------------------------------------------


@pytest.mark.anyio
async def test_content_length_is_recomputed_for_a_one_piece_page() -> None:
    app = html_app([PAGE], headers=[HTML, (b"content-length", str(len(PAGE)).encode())])
    sent = await run_asgi(wrap(app), make_scope())
    body = body_of(sent)
    assert len(body) > len(PAGE)
    lengths = [v for k, v in sent[0]["headers"] if k == b"content-length"]
    assert lengths == [str(len(body)).encode()]


@pytest.mark.anyio
async def test_content_length_is_dropped_for_a_streamed_page() -> None:
    chunks = [PAGE[:40], PAGE[40:]]
    app = html_app(chunks, headers=[HTML, (b"content-length", str(len(PAGE)).encode())])
    sent = await run_asgi(wrap(app), make_scope())
    assert [k for k, _ in sent[0]["headers"] if k == b"content-length"] == []
    assert len([m for m in sent if m["type"] == "http.response.body"]) == 2


@pytest.mark.anyio
async def test_one_piece_page_gets_exactly_the_expected_headers() -> None:
    app = html_app([PAGE], headers=[HTML, (b"content-length", str(len(PAGE)).encode())])
    sent = await run_asgi(wrap(app), make_scope())
    assert sorted(sent[0]["headers"]) == sorted(
        [
            HTML,
            (b"content-length", str(len(body_of(sent))).encode()),
            (b"vary", b"Cookie"),
            (b"cache-control", b"private"),
        ]
    )


SPLIT_PAGE = b"<html><head><title>t</title></head><body><p>Hi</p><!-- c --></BODY></html>"


@pytest.mark.anyio
@pytest.mark.parametrize("at", range(1, len(SPLIT_PAGE)))
async def test_page_split_at_any_byte_gets_the_same_banner_as_in_one_piece(at: int) -> None:
    whole = body_of(await run_asgi(wrap(html_app([SPLIT_PAGE])), make_scope()))
    split = body_of(
        await run_asgi(wrap(html_app([SPLIT_PAGE[:at], SPLIT_PAGE[at:]])), make_scope())
    )
    assert split == whole
    before, _, after = split_insertion(split, BANNER_START)
    assert after == b"</BODY></html>"


@pytest.mark.anyio
@pytest.mark.parametrize("at", range(1, len(SPLIT_PAGE)))
async def test_page_split_at_any_byte_gets_the_same_settings_control_as_in_one_piece(
    at: int,
) -> None:
    mw_whole = wrap(html_app([SPLIT_PAGE]))
    mw_split = wrap(html_app([SPLIT_PAGE[:at], SPLIT_PAGE[at:]]))
    cookie = consent_cookie(mw_whole, *ALL_CATEGORIES)
    whole = body_of(await run_asgi(mw_whole, make_scope(headers=[cookie])))
    split = body_of(await run_asgi(mw_split, make_scope(headers=[cookie])))
    assert split == whole
    _, _, after = split_insertion(split, SETTINGS_START)
    assert after == b"</BODY></html>"


@pytest.mark.anyio
async def test_page_sent_byte_by_byte_gets_the_banner_before_the_closing_body_tag() -> None:
    chunks = [SPLIT_PAGE[i : i + 1] for i in range(len(SPLIT_PAGE))]
    whole = body_of(await run_asgi(wrap(html_app([SPLIT_PAGE])), make_scope()))
    assert body_of(await run_asgi(wrap(html_app(chunks)), make_scope())) == whole


FIRST_CHUNK = b"<html><body><p>The first paragraph, long enough"


@pytest.mark.anyio
async def test_streamed_page_sends_its_first_chunk_before_the_app_sends_the_second() -> None:
    forwarded = anyio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [HTML]})
        await send({"type": "http.response.body", "body": FIRST_CHUNK, "more_body": True})
        await forwarded.wait()
        await send({"type": "http.response.body", "body": b"</p><p>two</p></body></html>"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            forwarded.set()

    with anyio.fail_after(2):
        await wrap(app)(make_scope(), None, send)
    assert sent[1]["body"] == FIRST_CHUNK
    assert sent[1]["more_body"] is True
    assert BANNER_START in sent[-1]["body"]


# -- Set-Cookie -----------------------------------------------------------------------

TRACKER_COOKIES = [
    b"_ga=GA1.1.1.1; Path=/; Domain=example.com",
    b"_ga_ABC123=GS1.1; Path=/",
    b"_fbp=fb.1.1.1; Path=/",
    b"_hjSessionUser_1=abc; Path=/",
]
SESSION_COOKIE = b"session=s3cr3t; Path=/; HttpOnly"


def cookie_app() -> Any:
    headers = [HTML, *((b"set-cookie", v) for v in [*TRACKER_COOKIES, SESSION_COOKIE])]
    return html_app([PAGE], headers=headers)


@pytest.mark.anyio
async def test_repeated_set_cookie_headers_are_all_kept() -> None:
    cookies = [b"a=1; Path=/", b"b=2; Path=/", b"a=3; Path=/sub"]
    app = html_app([PAGE], headers=[HTML, *((b"set-cookie", v) for v in cookies)])
    sent = await run_asgi(wrap(app), make_scope())
    assert [v for k, v in sent[0]["headers"] if k == b"set-cookie"] == cookies


@pytest.mark.anyio
async def test_tracker_set_cookies_are_dropped_before_a_choice() -> None:
    sent = await run_asgi(wrap(cookie_app()), make_scope())
    assert [v for k, v in sent[0]["headers"] if k == b"set-cookie"] == [SESSION_COOKIE]


@pytest.mark.anyio
async def test_tracker_set_cookies_are_dropped_after_a_rejection() -> None:
    mw = wrap(cookie_app())
    sent = await run_asgi(mw, make_scope(headers=[consent_cookie(mw)]))
    assert [v for k, v in sent[0]["headers"] if k == b"set-cookie"] == [SESSION_COOKIE]


@pytest.mark.anyio
async def test_tracker_set_cookies_are_kept_after_accepting_all() -> None:
    mw = wrap(cookie_app())
    sent = await run_asgi(mw, make_scope(headers=[consent_cookie(mw, *ALL_CATEGORIES)]))
    assert [v for k, v in sent[0]["headers"] if k == b"set-cookie"] == [
        *TRACKER_COOKIES,
        SESSION_COOKIE,
    ]


@pytest.mark.anyio
async def test_tracker_set_cookies_are_dropped_from_json_responses_too() -> None:
    headers = [(b"content-type", b"application/json"), (b"set-cookie", b"_ga=1"), (b"x", b"y")]
    sent = await run_asgi(wrap(html_app([b"{}"], headers=headers)), make_scope())
    assert sent[0]["headers"] == [(b"content-type", b"application/json"), (b"x", b"y")]


# -- caching headers ------------------------------------------------------------------


async def page_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    sent = await run_asgi(wrap(html_app([PAGE], headers=[HTML, *headers])), make_scope())
    return [(k, v) for k, v in sent[0]["headers"] if k not in (b"content-type", b"content-length")]


@pytest.mark.anyio
async def test_vary_cookie_is_appended_to_an_existing_vary() -> None:
    headers = await page_headers([(b"vary", b"Accept-Encoding"), (b"cache-control", b"private")])
    assert headers == [(b"vary", b"Accept-Encoding, Cookie"), (b"cache-control", b"private")]


@pytest.mark.anyio
async def test_cache_control_private_is_added_when_absent() -> None:
    assert await page_headers([]) == [(b"vary", b"Cookie"), (b"cache-control", b"private")]


@pytest.mark.anyio
async def test_public_cache_control_becomes_private() -> None:
    headers = await page_headers([(b"cache-control", b"public, max-age=60")])
    assert headers == [(b"cache-control", b"private, max-age=60"), (b"vary", b"Cookie")]


@pytest.mark.anyio
async def test_no_store_cache_control_is_kept() -> None:
    headers = await page_headers([(b"cache-control", b"no-store")])
    assert headers == [(b"cache-control", b"no-store"), (b"vary", b"Cookie")]


@pytest.mark.anyio
async def test_etag_and_accept_ranges_are_removed_from_a_rewritten_page() -> None:
    headers = await page_headers(
        [(b"etag", b'"abc"'), (b"accept-ranges", b"bytes"), (b"x-frame-options", b"DENY")]
    )
    assert sorted(headers) == [
        (b"cache-control", b"private"),
        (b"vary", b"Cookie"),
        (b"x-frame-options", b"DENY"),
    ]


@pytest.mark.anyio
async def test_the_responder_rewrites_with_the_plan_function_it_is_given() -> None:
    mw = wrap(html_app([PAGE]))
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    def plan(scope: Any, consent: Any, headers: Any) -> RewritePlan:
        return RewritePlan(frozenset(), frozenset(), mw.rules, before_body_end=b"<!--ours-->")

    scope = make_scope()
    responder = _Responder(
        scope, NO_CHOICE, send, scan=mw.content_types.scan_response, plan=plan, headers=mw.headers
    )
    await html_app([PAGE[:30], PAGE[30:]])(scope, None, responder.send)
    assert body_of(sent) == PAGE.replace(b"</body>", b"<!--ours--></body>")


# -- banner details -------------------------------------------------------------------


@pytest.mark.anyio
async def test_csp_nonce_of_the_response_is_carried_onto_our_script() -> None:
    csp = (b"content-security-policy", b"default-src 'self'; script-src 'nonce-r4nd0m+/='")
    sent = await run_asgi(wrap(html_app([PAGE], headers=[HTML, csp])), make_scope())
    _, banner, _ = split_insertion(body_of(sent), BANNER_START)
    script = banner[banner.index(b"<script ") :]
    assert script.startswith(b'<script src="/_consent/static/consent.')
    assert b' nonce="r4nd0m+/="' in script


@pytest.mark.anyio
async def test_our_script_names_the_consent_mode_signals_it_updates() -> None:
    sent = await run_asgi(wrap(html_app([PAGE]), consent_mode=True), make_scope())
    _, banner, _ = split_insertion(body_of(sent), BANNER_START)
    assert (
        b' data-consent-mode="analytics_storage:analytics ad_storage:marketing'
        b' ad_user_data:marketing ad_personalization:marketing"'
    ) in banner[banner.index(b"<script ") :]


@pytest.mark.anyio
async def test_without_consent_mode_our_script_names_no_signals() -> None:
    sent = await run_asgi(wrap(html_app([PAGE])), make_scope())
    assert b"data-consent-mode" not in body_of(sent)
    assert b"consent-mode." not in body_of(sent)


@pytest.mark.anyio
async def test_the_consent_mode_default_goes_first_in_the_head_with_the_visitors_choice() -> None:
    mw = wrap(html_app([PAGE]), consent_mode=True)
    sent = await run_asgi(mw, make_scope(headers=[consent_cookie(mw, "marketing")]))
    head = body_of(sent).split(b"<head>", 1)[1]
    assert head.startswith(b'<script src="/_consent/static/consent-mode.')
    assert (
        b'data-consent-state="analytics_storage:denied ad_storage:granted'
        b' ad_user_data:granted ad_personalization:granted"></script><title>'
    ) in head


@pytest.mark.anyio
async def test_our_script_has_no_nonce_when_the_response_has_no_csp() -> None:
    sent = await run_asgi(wrap(html_app([PAGE])), make_scope())
    assert b"nonce=" not in body_of(sent)


@pytest.mark.anyio
async def test_gpc_signal_shows_the_gpc_notice_in_the_banner() -> None:
    async with client(wrap(html_app([PAGE]))) as c:
        response = await c.get("/", headers={"Sec-GPC": "1"})
    _, banner, _ = split_insertion(response.content, BANNER_START)
    assert b'<p class="asgi-consent__gpc">Your browser sends a Global Privacy Control' in banner


@pytest.mark.anyio
async def test_banner_has_no_gpc_notice_without_the_gpc_signal() -> None:
    async with client(wrap(html_app([PAGE]))) as c:
        response = await c.get("/")
    assert b"asgi-consent__gpc" not in response.content


@pytest.mark.anyio
async def test_banner_form_returns_to_the_page_it_was_shown_on() -> None:
    async with client(wrap(html_app([PAGE]))) as c:
        response = await c.get("/news/1?page=2")
    assert b'<input type="hidden" name="next" value="/news/1?page=2"/>' in response.content


@pytest.mark.anyio
async def test_pathsend_extension_is_removed_from_the_scope_the_app_sees() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["extensions"])
        await send({"type": "http.response.start", "status": 200, "headers": [HTML]})
        await send({"type": "http.response.body", "body": PAGE})

    scope = make_scope()
    scope["extensions"] = {"http.response.pathsend": {}, "http.response.trailers": {}}
    await run_asgi(wrap(app), scope)
    assert seen == [{"http.response.trailers": {}}]


@pytest.mark.anyio
async def test_repeated_cache_control_headers_are_merged_so_no_store_survives() -> None:
    headers = await page_headers(
        [(b"cache-control", b"public, max-age=60"), (b"cache-control", b"no-store")]
    )
    assert (b"cache-control", b"public, max-age=60, no-store") in headers
