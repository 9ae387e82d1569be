"""Hostile requests (issue 5): each gets a clear 4xx or counts as no choice, never a 500,
and the site keeps serving afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from asgi_consent import ConsentMiddleware
from helpers import app_with, body_of, client, make_scope, run_asgi, wrap

BANNER_START = b'<div id="asgi-consent" '
SETTINGS_START = b'<div id="asgi-consent-settings" '
FORM = (b"content-type", b"application/x-www-form-urlencoded")
JSON = (b"content-type", b"application/json")




async def assert_still_serving(app: Any) -> None:
    async with client(app) as c:
        response = await c.get("/")
    assert response.status_code == 200
    assert response.content.startswith(b"<html><body><p>Hello</p>")


async def post_raw(
    mw: ConsentMiddleware, body: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    sent = await run_asgi(mw, make_scope("/_consent/choice", method="POST", headers=headers), body)
    return sent[0]["status"], body_of(sent)


# -- open redirects through `next` ----------------------------------------------------

REDIRECT_TRICKS = [
    "//evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "%2F%2Fevil.com",
    "https:evil.com",
    "https://evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r/evil.com",
    "http:/evil.com",
    "javascript:alert(1)",
    " //evil.com",
    "/ /evil",
    "/\uff05\uff12\uff26evil",
    "/\uff0fevil.com",
    "evil.com",
    "",
    "/" + "a" * 5000,
]


@pytest.mark.anyio
@pytest.mark.parametrize("trick", REDIRECT_TRICKS, ids=repr)
async def test_next_that_could_leave_the_site_redirects_home(trick: str) -> None:
    mw = app_with()
    async with client(mw) as c:
        response = await c.post("/_consent/choice", data={"choice": "accept", "next": trick})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    await assert_still_serving(mw)


@pytest.mark.anyio
async def test_next_with_encoded_slashes_after_a_slash_stays_a_same_origin_path() -> None:
    async with client(app_with()) as c:
        response = await c.post(
            "/_consent/choice", data={"choice": "accept", "next": "/%2F%2Fevil.com"}
        )
    assert (response.status_code, response.headers["location"]) == (303, "/%2F%2Fevil.com")


@pytest.mark.anyio
async def test_json_next_that_is_not_a_string_falls_back_to_home() -> None:
    async with client(app_with()) as c:
        response = await c.post(
            "/_consent/choice", json={"choice": "accept", "next": {"url": "//evil.com"}}
        )
    assert response.status_code == 200
    assert '<input type="hidden" name="next" value="/"/>' in response.json()["settings_html"]


@pytest.mark.anyio
@pytest.mark.parametrize("trick", ["//evil.com", "/\\evil.com", "https://evil.com"])
async def test_json_next_trick_does_not_reach_the_settings_markup(trick: str) -> None:
    async with client(app_with()) as c:
        response = await c.post("/_consent/choice", json={"choice": "accept", "next": trick})
    assert '<input type="hidden" name="next" value="/"/>' in response.json()["settings_html"]


@pytest.mark.anyio
async def test_page_path_with_quotes_is_escaped_in_the_banner_next_field() -> None:
    async with client(app_with()) as c:
        response = await c.get('/a"><script>x</script>')
    assert b"<script>x</script>" not in response.content
    assert response.status_code == 200


# -- cookies --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_ten_thousand_cookies_still_find_our_choice() -> None:
    mw = app_with()
    others = "; ".join(f"c{i}=v{i}" for i in range(10_000))
    cookie = f"{others}; asgi_consent={mw.codec.encode(['analytics'])}"
    async with client(mw) as c:
        response = await c.get("/", headers={"Cookie": cookie})
    assert response.status_code == 200
    assert SETTINGS_START in response.content
    assert BANNER_START not in response.content


@pytest.mark.anyio
async def test_ten_thousand_cookies_on_a_reject_post_are_handled() -> None:
    mw = app_with()
    cookie = "; ".join(f"c{i}=v{i}" for i in range(10_000))
    async with client(mw) as c:
        response = await c.post(
            "/_consent/choice", data={"choice": "reject"}, headers={"Cookie": cookie}
        )
    assert response.status_code == 303
    assert [v.split("=")[0] for v in response.headers.get_list("set-cookie")] == ["asgi_consent"]
    await assert_still_serving(mw)


@pytest.mark.anyio
async def test_a_64_kb_consent_cookie_counts_as_no_choice() -> None:
    mw = app_with()
    async with client(mw) as c:
        response = await c.get("/", headers={"Cookie": "asgi_consent=" + "A" * 65536})
    assert response.status_code == 200
    assert BANNER_START in response.content


@pytest.mark.anyio
async def test_a_64_kb_cookie_header_of_other_cookies_is_served() -> None:
    mw = app_with()
    async with client(mw) as c:
        response = await c.get("/", headers={"Cookie": "big=" + "x" * 65536})
    assert response.status_code == 200
    assert BANNER_START in response.content


@pytest.mark.anyio
async def test_a_64_kb_consent_cookie_reads_as_no_choice_on_status() -> None:
    async with client(app_with()) as c:
        response = await c.get(
            "/_consent/status", headers={"Cookie": "asgi_consent=" + "A" * 65536}
        )
    assert response.status_code == 200
    assert response.json()["decided"] is False


@pytest.mark.anyio
async def test_our_cookie_repeated_with_the_same_value_counts_as_the_choice() -> None:
    mw = app_with()
    value = mw.codec.encode(["media"])
    async with client(mw) as c:
        response = await c.get(
            "/", headers={"Cookie": f"asgi_consent={value}; asgi_consent={value}"}
        )
    assert SETTINGS_START in response.content


@pytest.mark.anyio
async def test_our_cookie_repeated_with_a_forged_copy_is_served_without_error() -> None:
    mw = app_with()
    value = mw.codec.encode(["media"])
    async with client(mw) as c:
        response = await c.get(
            "/", headers={"Cookie": f"asgi_consent=forged; asgi_consent={value}"}
        )
        status = await c.get(
            "/_consent/status", headers={"Cookie": f"asgi_consent=forged; asgi_consent={value}"}
        )
    assert response.status_code == 200
    assert status.status_code == 200


@pytest.mark.anyio
async def test_garbage_bytes_in_our_cookie_count_as_no_choice() -> None:
    sent = await run_asgi(app_with(), make_scope(headers=[(b"cookie", b"asgi_consent=\xff\xfe")]))
    assert sent[0]["status"] == 200
    assert BANNER_START in body_of(sent)


@pytest.mark.anyio
async def test_garbage_bytes_in_our_cookie_are_no_choice_on_status() -> None:
    sent = await run_asgi(
        app_with(),
        make_scope("/_consent/status", headers=[(b"cookie", b"asgi_consent=\xff\xfe")]),
    )
    assert sent[0]["status"] == 200
    assert b'"decided":false' in body_of(sent)


@pytest.mark.anyio
async def test_garbage_bytes_in_cookies_do_not_break_a_reject_post() -> None:
    status, _ = await post_raw(
        app_with(), b"choice=reject", [FORM, (b"cookie", b"_ga=\xff\xfe; asgi_consent=\xff\xfe")]
    )
    assert status == 303


@pytest.mark.anyio
async def test_request_state_consent_of_a_garbage_cookie_is_no_choice() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["state"]["consent"].decided)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await run_asgi(wrap(app), make_scope(headers=[(b"cookie", b"asgi_consent=a.b.c~~\xff")]))
    assert seen == [False]


# -- bodies ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_form_with_100_000_fields_is_413() -> None:
    mw = app_with()
    status, _ = await post_raw(mw, b"choice=accept" + b"&a=1" * 100_000, [FORM])
    assert status == 413
    await assert_still_serving(mw)


@pytest.mark.anyio
async def test_form_with_100_000_fields_under_a_large_limit_is_400() -> None:
    mw = app_with(max_body_size=2**20)
    status, body = await post_raw(mw, b"choice=accept" + b"&a" * 100_000, [FORM])
    assert (status, body) == (400, b"malformed form body")
    await assert_still_serving(mw)


@pytest.mark.anyio
async def test_deeply_nested_json_within_the_size_limit_is_400() -> None:
    mw = app_with()
    body = b"[" * 4000 + b"]" * 4000
    status, reply = await post_raw(mw, body, [JSON])
    assert (status, reply) == (400, b'{"error":"malformed JSON body"}')
    await assert_still_serving(mw)


@pytest.mark.anyio
async def test_deeply_nested_json_objects_within_the_size_limit_are_400() -> None:
    body = b'{"a":' * 1200 + b"1" + b"}" * 1200
    status, _ = await post_raw(app_with(), body, [JSON])
    assert status == 400


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b'["accept"]', b'"accept"', b"42", b"null", b"true"])
async def test_json_body_that_is_not_an_object_is_400(body: bytes) -> None:
    status, reply = await post_raw(app_with(), body, [JSON])
    assert (status, reply) == (400, b'{"error":"the JSON body must be an object"}')


@pytest.mark.anyio
async def test_json_choice_that_is_not_a_string_is_400() -> None:
    status, _ = await post_raw(app_with(), b'{"choice": ["accept"]}', [JSON])
    assert status == 400


@pytest.mark.anyio
async def test_json_categories_holding_non_strings_are_400() -> None:
    status, _ = await post_raw(app_with(), b'{"choice": "save", "categories": [["a"], {}]}', [JSON])
    assert status == 400


@pytest.mark.anyio
async def test_json_with_invalid_utf8_is_400() -> None:
    status, _ = await post_raw(app_with(), b'{"choice": "accept", "x": "\xff"}', [JSON])
    assert status == 400


@pytest.mark.anyio
async def test_form_with_choice_twice_is_400() -> None:
    status, body = await post_raw(app_with(), b"choice=reject&choice=accept", [FORM])
    assert (status, body) == (400, b"choice given twice")


@pytest.mark.anyio
async def test_form_with_next_twice_is_400() -> None:
    status, body = await post_raw(app_with(), b"choice=accept&next=/a&next=//evil.com", [FORM])
    assert (status, body) == (400, b"next given twice")


@pytest.mark.anyio
async def test_non_utf8_form_body_is_400() -> None:
    mw = app_with()
    status, body = await post_raw(mw, b"choice=accept&next=/caf\xe9", [FORM])
    assert (status, body) == (400, b"malformed form body")
    await assert_still_serving(mw)


@pytest.mark.anyio
@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3", b"", b"12 34", b"0x10"])
async def test_content_length_that_is_not_a_number_is_400(length: bytes) -> None:
    mw = app_with()
    status, body = await post_raw(mw, b"choice=accept", [FORM, (b"content-length", length)])
    assert (status, body) == (400, b"bad Content-Length")
    await assert_still_serving(mw)


@pytest.mark.anyio
async def test_content_length_of_a_superscript_digit_is_400() -> None:
    status, body = await post_raw(
        app_with(), b"choice=accept", [FORM, (b"content-length", b"\xb2")]
    )
    assert (status, body) == (400, b"bad Content-Length")


@pytest.mark.anyio
async def test_content_length_of_five_thousand_digits_is_413() -> None:
    status, _ = await post_raw(
        app_with(), b"choice=accept", [FORM, (b"content-length", b"9" * 5000)]
    )
    assert status == 413


@pytest.mark.anyio
async def test_huge_but_parseable_content_length_is_413() -> None:
    status, _ = await post_raw(app_with(), b"choice=accept", [FORM, (b"content-length", b"9" * 40)])
    assert status == 413


@pytest.mark.anyio
@pytest.mark.parametrize("header", [b"origin", b"referer"])
async def test_origin_with_a_broken_ipv6_host_is_403(header: bytes) -> None:
    status, _ = await post_raw(app_with(), b"choice=accept", [FORM, (header, b"http://[::1")])
    assert status == 403


@pytest.mark.anyio
async def test_origin_with_non_ascii_bytes_is_403() -> None:
    status, _ = await post_raw(app_with(), b"choice=accept", [FORM, (b"origin", b"http://\xff")])
    assert status == 403


@pytest.mark.anyio
async def test_client_that_disconnects_while_posting_raises_nothing() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = make_scope("/_consent/choice", method="POST", headers=[FORM])
    await app_with()(scope, receive, send)
    assert not sent or sent[0]["status"] < 500


@pytest.mark.anyio
async def test_host_header_with_odd_bytes_does_not_break_a_reject_post() -> None:
    status, _ = await post_raw(
        app_with(),
        b"choice=reject",
        [FORM, (b"cookie", b"_ga=1"), (b"host", b"\xff..example.com:99")],
    )
    assert status == 303


@pytest.mark.anyio
async def test_ip_host_gets_no_parent_domain_cookies() -> None:
    sent = await run_asgi(
        app_with(),
        make_scope(
            "/_consent/choice",
            method="POST",
            headers=[FORM, (b"cookie", b"_ga=1"), (b"host", b"192.168.0.10:8000")],
        ),
        b"choice=reject",
    )
    expired = [v for k, v in sent[0]["headers"] if k == b"set-cookie" and v[:4] == b"_ga="]
    assert [b"Domain=" in v for v in expired] == [False]


@pytest.mark.anyio
async def test_non_ascii_page_path_is_served_with_the_banner() -> None:
    scope = make_scope("/café")
    scope["raw_path"] = "/café".encode()
    sent = await run_asgi(app_with(), scope)
    assert sent[0]["status"] == 200
    assert b'<input type="hidden" name="next" value="/"/>' in body_of(sent)


@pytest.mark.anyio
async def test_garbage_accept_language_is_served_with_the_banner() -> None:
    sent = await run_asgi(
        app_with(), make_scope(headers=[(b"accept-language", b"\xff;q=abc, ,,;q=1e999," * 100)])
    )
    assert sent[0]["status"] == 200
    assert BANNER_START in body_of(sent)
