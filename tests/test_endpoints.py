"""The consent endpoints under /_consent: choices, withdraw, status, preferences, assets."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse

from asgi_consent import ConsentMiddleware
from helpers import app_with, body_of, client, make_scope, run_asgi, wrap

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"




def cookie_header(mw: ConsentMiddleware, *categories: str, extra: str = "") -> dict[str, str]:
    value = f"asgi_consent={mw.codec.encode(categories)}"
    return {"Cookie": f"{extra}; {value}" if extra else value}


def set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def consent_set_cookie(response: httpx.Response) -> str:
    (found,) = [v for v in set_cookies(response) if v.startswith("asgi_consent=")]
    return found


def attributes(set_cookie: str) -> list[str]:
    """The attributes of a Set-Cookie header, without its value and Expires date."""
    return [part for part in set_cookie.split("; ")[1:] if not part.startswith("Expires=")]


async def post_choice(
    mw: ConsentMiddleware,
    data: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    base_url: str = "http://testserver",
) -> httpx.Response:
    async with client(mw, base_url) as c:
        return await c.post("/_consent/choice", data=data, headers=headers)


async def post_json(
    mw: ConsentMiddleware, payload: Any, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    async with client(mw) as c:
        return await c.post("/_consent/choice", json=payload, headers=headers)


def granted_by(mw: ConsentMiddleware, response: httpx.Response) -> list[str]:
    value = consent_set_cookie(response).split("; ")[0].split("=", 1)[1]
    return sorted(mw.codec.decode(value).categories)


# -- form posts -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_form_accept_redirects_303_to_next() -> None:
    response = await post_choice(app_with(), {"choice": "accept", "next": "/news/1?p=2"})
    assert response.status_code == 303
    assert response.headers["location"] == "/news/1?p=2"
    assert response.content == b""


@pytest.mark.anyio
async def test_form_post_without_next_redirects_to_the_home_page() -> None:
    response = await post_choice(app_with(), {"choice": "reject"})
    assert (response.status_code, response.headers["location"]) == (303, "/")


@pytest.mark.anyio
async def test_choice_response_is_never_cached() -> None:
    response = await post_choice(app_with(), {"choice": "accept"})
    assert response.headers.get_list("cache-control") == ["no-store"]


@pytest.mark.anyio
async def test_consent_cookie_attributes_on_plain_http() -> None:
    response = await post_choice(app_with(expiry_days=20), {"choice": "accept"})
    assert attributes(consent_set_cookie(response)) == [
        "Max-Age=1728000",
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
    ]


@pytest.mark.anyio
async def test_consent_cookie_expires_after_expiry_days() -> None:
    response = await post_choice(app_with(expiry_days=20), {"choice": "accept"})
    (expires,) = [p for p in consent_set_cookie(response).split("; ") if p.startswith("Expires=")]
    when = parsedate_to_datetime(expires.removeprefix("Expires="))
    expected = datetime.now(UTC) + timedelta(days=20)
    assert abs((when - expected).total_seconds()) < 60


@pytest.mark.anyio
async def test_consent_cookie_is_secure_on_https() -> None:
    response = await post_choice(app_with(), {"choice": "accept"}, base_url="https://testserver")
    assert attributes(consent_set_cookie(response)) == [
        "Max-Age=15552000",
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
    ]


@pytest.mark.anyio
async def test_consent_cookie_is_secure_on_http_when_configured() -> None:
    response = await post_choice(app_with(cookie_secure=True), {"choice": "accept"})
    assert "Secure" in attributes(consent_set_cookie(response))


@pytest.mark.anyio
async def test_consent_cookie_is_not_secure_on_https_when_configured_off() -> None:
    response = await post_choice(
        app_with(cookie_secure=False), {"choice": "accept"}, base_url="https://testserver"
    )
    assert "Secure" not in attributes(consent_set_cookie(response))


@pytest.mark.anyio
async def test_consent_cookie_carries_the_configured_domain() -> None:
    response = await post_choice(app_with(cookie_domain="example.com"), {"choice": "accept"})
    assert attributes(consent_set_cookie(response)) == [
        "Max-Age=15552000",
        "Domain=example.com",
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
    ]


@pytest.mark.anyio
async def test_accept_grants_every_category() -> None:
    mw = app_with()
    response = await post_choice(mw, {"choice": "accept"})
    assert granted_by(mw, response) == ["analytics", "marketing", "media", "necessary"]


@pytest.mark.anyio
async def test_reject_grants_only_necessary() -> None:
    mw = app_with()
    response = await post_choice(mw, {"choice": "reject"})
    assert granted_by(mw, response) == ["necessary"]


@pytest.mark.anyio
async def test_save_grants_the_selected_categories() -> None:
    mw = app_with()
    response = await post_choice(mw, {"choice": "save", "category": ["analytics", "media"]})
    assert granted_by(mw, response) == ["analytics", "media", "necessary"]


@pytest.mark.anyio
async def test_save_without_categories_grants_only_necessary() -> None:
    mw = app_with()
    response = await post_choice(mw, {"choice": "save"})
    assert granted_by(mw, response) == ["necessary"]


@pytest.mark.anyio
async def test_grant_adds_a_category_to_the_existing_choice() -> None:
    mw = app_with()
    response = await post_choice(
        mw, {"choice": "grant", "category": "media"}, headers=cookie_header(mw, "analytics")
    )
    assert granted_by(mw, response) == ["analytics", "media", "necessary"]


@pytest.mark.anyio
async def test_grant_without_a_category_is_400() -> None:
    response = await post_choice(app_with(), {"choice": "grant"})
    assert (response.status_code, response.text) == (400, "grant needs a category")


@pytest.mark.anyio
async def test_accept_with_gpc_does_not_grant_marketing() -> None:
    mw = app_with()
    response = await post_choice(mw, {"choice": "accept"}, headers={"Sec-GPC": "1"})
    assert granted_by(mw, response) == ["analytics", "media", "necessary"]


@pytest.mark.anyio
async def test_save_with_marketing_grants_it_despite_gpc() -> None:
    mw = app_with()
    response = await post_choice(
        mw, {"choice": "save", "category": "marketing"}, headers={"Sec-GPC": "1"}
    )
    assert granted_by(mw, response) == ["marketing", "necessary"]


@pytest.mark.anyio
async def test_the_single_button_notice_honours_gpc_too() -> None:
    mw = app_with(mode="notice", accept_text="Ok, Go it!")
    async with client(mw) as c:
        page = await c.get("/", headers={"Sec-GPC": "1"})
    assert "Global Privacy Control" in page.text
    response = await post_choice(mw, {"choice": "accept"}, headers={"Sec-GPC": "1"})
    assert granted_by(mw, response) == ["analytics", "media", "necessary"]


@pytest.mark.anyio
async def test_gpc_is_ignored_when_honor_gpc_is_off() -> None:
    mw = app_with(honor_gpc=False)
    response = await post_choice(mw, {"choice": "accept"}, headers={"Sec-GPC": "1"})
    assert granted_by(mw, response) == ["analytics", "marketing", "media", "necessary"]


# -- JSON -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_json_accept_answers_with_the_new_state() -> None:
    mw = app_with(expiry_days=20)
    response = await post_json(mw, {"choice": "accept"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    state = response.json()
    assert sorted(state) == [
        "categories",
        "consent_id",
        "decided",
        "expires_at",
        "given_at",
        "revision",
        "settings_html",
    ]
    assert state["decided"] is True
    assert state["categories"] == ["analytics", "marketing", "media", "necessary"]
    assert state["revision"] == 1
    given = datetime.fromisoformat(state["given_at"])
    assert datetime.fromisoformat(state["expires_at"]) - given == timedelta(days=20)
    assert state["settings_html"].startswith('<div id="asgi-consent-settings"')


@pytest.mark.anyio
async def test_json_answer_is_what_json_response_would_render() -> None:
    # The settings fragment is escaped once per language and choice, not per answer:
    # the body must still be exactly Starlette's rendering of the whole state.
    mw = app_with(language="fr")
    page = '/a"<&b?q=<x>'
    response = await post_json(mw, {"choice": "save", "categories": ["media"], "next": page})
    state = response.json()
    assert response.content == JSONResponse(state).body
    assert state["settings_html"] == mw.banner.settings_fragment(
        "fr", frozenset({"necessary", "media"}), page, state["consent_id"]
    )


@pytest.mark.parametrize("next_path", ["/", "/p?q=1&r=<x>", '/"\\\t\u2028é', "/\x01"])
@pytest.mark.parametrize("consent_id", [None, "abc", '"<id>'])
def test_the_json_settings_fragment_is_the_fragment_as_json(
    next_path: str, consent_id: str | None
) -> None:
    banner = app_with().banner
    granted = frozenset({"necessary", "analytics"})
    expected = banner.settings_fragment("en", granted, next_path, consent_id)
    text = banner.settings_fragment_json("en", granted, next_path, consent_id)
    assert json.loads(text) == expected
    assert text == json.dumps(expected, ensure_ascii=False)


@pytest.mark.anyio
async def test_json_state_agrees_with_the_cookie_it_sets() -> None:
    mw = app_with()
    response = await post_json(mw, {"choice": "save", "categories": ["media"]})
    assert response.json()["categories"] == granted_by(mw, response) == ["media", "necessary"]


@pytest.mark.anyio
async def test_form_post_accepting_json_gets_json_state() -> None:
    mw = app_with()
    response = await post_choice(mw, {"choice": "reject"}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["categories"] == ["necessary"]
    assert response.json()["decided"] is True


@pytest.mark.anyio
async def test_json_state_has_no_settings_html_without_the_settings_button() -> None:
    response = await post_json(app_with(settings_button=False), {"choice": "accept"})
    assert "settings_html" not in response.json()


@pytest.mark.anyio
async def test_json_errors_are_json() -> None:
    response = await post_json(app_with(), {"choice": "maybe"})
    assert response.status_code == 400
    assert response.json() == {"error": "choice must be one of accept, reject, save, grant"}


# -- expiring refused tracker cookies -------------------------------------------------


def expired(name: str, domain: str | None = None) -> str:
    where = f"; Domain={domain}" if domain else ""
    return f"{name}=; Max-Age=0; Expires={EPOCH}{where}; Path=/; SameSite=Lax"


@pytest.mark.anyio
async def test_reject_expires_tracker_cookies_on_the_host_and_parent_domains() -> None:
    mw = app_with()
    response = await post_choice(
        mw,
        {"choice": "reject"},
        headers={"Cookie": "_ga=GA1.2.3; session=abc; _fbp=fb.1"},
        base_url="http://www.news.example.com",
    )
    others = [v for v in set_cookies(response) if not v.startswith("asgi_consent=")]
    assert others == [
        expired("_ga"),
        expired("_ga", "www.news.example.com"),
        expired("_ga", "news.example.com"),
        expired("_ga", "example.com"),
        expired("_fbp"),
        expired("_fbp", "www.news.example.com"),
        expired("_fbp", "news.example.com"),
        expired("_fbp", "example.com"),
    ]


@pytest.mark.anyio
async def test_reject_never_expires_non_tracker_cookies() -> None:
    response = await post_choice(
        app_with(), {"choice": "reject"}, headers={"Cookie": "session=abc; csrftoken=x"}
    )
    assert [v.split("=")[0] for v in set_cookies(response)] == ["asgi_consent"]


@pytest.mark.anyio
async def test_save_expires_only_the_refused_categories_cookies() -> None:
    response = await post_choice(
        app_with(),
        {"choice": "save", "category": "analytics"},
        headers={"Cookie": "_ga=1; _fbp=2"},
    )
    assert [v for v in set_cookies(response) if not v.startswith("asgi_consent=")] == [
        expired("_fbp")
    ]


@pytest.mark.anyio
async def test_accept_expires_no_cookies() -> None:
    response = await post_choice(
        app_with(), {"choice": "accept"}, headers={"Cookie": "_ga=1; _fbp=2"}
    )
    assert [v.split("=")[0] for v in set_cookies(response)] == ["asgi_consent"]


@pytest.mark.anyio
async def test_refused_cookies_are_also_expired_on_configured_parent_domains() -> None:
    response = await post_choice(
        app_with(cookie_parent_domains=[".example.org"]),
        {"choice": "reject"},
        headers={"Cookie": "_ga=1"},
    )
    assert [v for v in set_cookies(response) if not v.startswith("asgi_consent=")] == [
        expired("_ga"),
        expired("_ga", "example.org"),
    ]


@pytest.mark.anyio
async def test_withdraw_clears_the_consent_cookie() -> None:
    mw = app_with()
    async with client(mw) as c:
        response = await c.post(
            "/_consent/withdraw", data={"next": "/article"}, headers=cookie_header(mw, "media")
        )
    assert (response.status_code, response.headers["location"]) == (303, "/article")
    assert set_cookies(response) == [
        f"asgi_consent=; Max-Age=0; Expires={EPOCH}; Path=/; HttpOnly; SameSite=Lax"
    ]
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.anyio
async def test_withdraw_expires_tracker_cookies_but_not_others() -> None:
    mw = app_with()
    async with client(mw) as c:
        response = await c.post(
            "/_consent/withdraw",
            headers=cookie_header(mw, *("analytics", "media"), extra="_ga=1; session=2"),
        )
    assert [v for v in set_cookies(response) if not v.startswith("asgi_consent=")] == [
        expired("_ga")
    ]


@pytest.mark.anyio
async def test_withdraw_with_json_answers_no_choice() -> None:
    mw = app_with()
    async with client(mw) as c:
        response = await c.post(
            "/_consent/withdraw", headers={**cookie_header(mw), "Accept": "application/json"}
        )
    assert response.json()["decided"] is False
    assert response.json()["categories"] == ["necessary"]


# -- status and preferences -----------------------------------------------------------


@pytest.mark.anyio
async def test_status_before_a_choice() -> None:
    async with client(app_with()) as c:
        response = await c.get("/_consent/status")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "decided": False,
        "categories": ["necessary"],
        "revision": 1,
        "given_at": None,
        "expires_at": None,
        "consent_id": None,
    }


@pytest.mark.anyio
async def test_status_after_a_choice() -> None:
    mw = app_with(policy_revision=3, expiry_days=30)
    async with client(mw) as c:
        response = await c.get("/_consent/status", headers=cookie_header(mw, "analytics"))
    state = response.json()
    assert state["decided"] is True
    assert state["categories"] == ["analytics", "necessary"]
    assert state["revision"] == 3
    given = datetime.fromisoformat(state["given_at"])
    assert datetime.fromisoformat(state["expires_at"]) - given == timedelta(days=30)
    assert isinstance(state["consent_id"], str) and state["consent_id"]


@pytest.mark.anyio
async def test_status_treats_a_tampered_cookie_as_no_choice() -> None:
    mw = app_with()
    value = cookie_header(mw, "analytics")["Cookie"]
    async with client(mw) as c:
        response = await c.get("/_consent/status", headers={"Cookie": value[:-2] + "xx"})
    assert response.json()["decided"] is False


@pytest.mark.anyio
async def test_preferences_page_shows_a_switch_per_category_and_returns_to_next() -> None:
    mw = app_with()
    async with client(mw) as c:
        response = await c.get(
            "/_consent/preferences", params={"next": "/video"}, headers=cookie_header(mw, "media")
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert page.startswith("<!doctype html>")
    assert '<input type="hidden" name="next" value="/video"/>' in page
    assert (
        'value="necessary" aria-describedby="asgi-consent-p-necessary-desc"'
        ' checked="checked" disabled="disabled"/>'
    ) in page
    assert ' value="media" aria-describedby="asgi-consent-p-media-desc" checked="checked"/>' in page
    assert ' value="analytics" aria-describedby="asgi-consent-p-analytics-desc"/>' in page
    assert '<a href="/video">Back to the site</a>' in page
    assert "Withdraw consent" in page  # there is a choice to withdraw


@pytest.mark.anyio
async def test_preferences_page_before_a_choice_is_one_heading_and_no_withdraw() -> None:
    async with client(app_with()) as c:
        response = await c.get("/_consent/preferences", params={"next": "/a?b=1&c=2"})
    page = response.text
    assert page.count("Cookie preferences") == 2  # <title> and <h1>, no legend repeating it
    assert "<legend" not in page and "<details" not in page
    assert "Manage preferences" not in page
    assert "Withdraw consent" not in page
    assert '<a href="/a?b=1&amp;c=2">Back to the site</a>' in page


@pytest.mark.anyio
async def test_a_grant_before_any_choice_grants_that_category_and_leaves_the_question_open() -> (
    None
):
    mw = app_with()
    async with client(mw) as c:
        response = await c.post(
            "/_consent/choice",
            data={"choice": "grant", "category": "media"},
            headers={"Accept": "application/json"},
        )
        state = response.json()
        assert state["decided"] is False
        assert state["categories"] == ["media", "necessary"]
        assert "settings_html" not in state
        status = (await c.get("/_consent/status")).json()
        assert status["decided"] is False and status["categories"] == ["media", "necessary"]
        page = await c.get("/_consent/preferences")
        assert "Withdraw consent" in page.text  # the grant can be taken back
        # Answering the banner afterwards is a whole decision.
        await c.post("/_consent/choice", data={"choice": "reject"})
        status = (await c.get("/_consent/status")).json()
        assert status["decided"] is True and status["categories"] == ["necessary"]


@pytest.mark.anyio
async def test_a_grant_after_a_choice_keeps_the_choice_decided() -> None:
    mw = app_with()
    async with client(mw) as c:
        await c.post("/_consent/choice", data={"choice": "reject"})
        await c.post("/_consent/choice", data={"choice": "grant", "category": "media"})
        status = (await c.get("/_consent/status")).json()
    assert status["decided"] is True and status["categories"] == ["media", "necessary"]


@pytest.mark.anyio
async def test_preferences_page_sends_an_unsafe_next_back_home() -> None:
    async with client(app_with()) as c:
        response = await c.get("/_consent/preferences", params={"next": "//evil.com"})
    assert '<input type="hidden" name="next" value="/"/>' in response.text


# -- static assets --------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("consent.css", "text/css; charset=utf-8"),
        ("consent.js", "text/javascript; charset=utf-8"),
        ("consent-mode.js", "text/javascript; charset=utf-8"),
    ],
)
async def test_static_asset_is_served_under_its_content_hash_with_a_long_cache(
    name: str, media_type: str
) -> None:
    mw = app_with()
    url = mw.assets.url(name)
    async with client(mw) as c:
        response = await c.get(url)
    assert response.status_code == 200
    stem, ext = name.rsplit(".", 1)
    digest = hashlib.sha256(response.content).hexdigest()[:12]
    assert url == f"/_consent/static/{stem}.{digest}.{ext}"
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.anyio
async def test_banner_links_the_served_assets() -> None:
    mw = app_with()
    async with client(mw) as c:
        page = (await c.get("/")).text
        css = await c.get(mw.assets.url("consent.css"))
    assert f'<link rel="stylesheet" href="{mw.assets.url("consent.css")}"/>' in page
    assert css.status_code == 200


def test_theme_changes_the_css_hash() -> None:
    plain = app_with().assets.url("consent.css")
    themed = app_with(theme={"accent": "#123456"}).assets.url("consent.css")
    assert plain != themed


@pytest.mark.anyio
async def test_static_asset_with_a_wrong_hash_is_404() -> None:
    async with client(app_with()) as c:
        response = await c.get("/_consent/static/consent.000000000000.css")
    assert (response.status_code, response.text) == (404, "Not Found")


@pytest.mark.anyio
async def test_static_asset_without_a_hash_is_404() -> None:
    async with client(app_with()) as c:
        response = await c.get("/_consent/static/consent.css")
    assert response.status_code == 404


@pytest.mark.anyio
async def test_unknown_endpoint_path_is_404() -> None:
    async with client(app_with()) as c:
        response = await c.get("/_consent/nope")
    assert (response.status_code, response.text) == (404, "Not Found")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.anyio
async def test_prefix_itself_is_handled_as_an_endpoint_404() -> None:
    async with client(app_with()) as c:
        response = await c.get("/_consent")
    assert response.status_code == 404


@pytest.mark.anyio
async def test_path_that_only_starts_like_the_prefix_is_app_traffic() -> None:
    async with client(app_with()) as c:
        response = await c.get("/_consentfoo")
    assert response.status_code == 200
    assert response.content.startswith(b"<html><body><p>Hello</p>")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/_consent/choice", "POST"),
        ("PUT", "/_consent/choice", "POST"),
        ("GET", "/_consent/withdraw", "POST"),
        ("POST", "/_consent/status", "GET, HEAD"),
        ("DELETE", "/_consent/preferences", "GET, HEAD"),
    ],
)
async def test_wrong_method_is_405_with_allow(method: str, path: str, allow: str) -> None:
    async with client(app_with()) as c:
        response = await c.request(method, path)
    assert (response.status_code, response.text) == (405, "Method Not Allowed")
    assert response.headers["allow"] == allow


# -- cross-site posts -----------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["other-origin", "null-origin", "suffix-origin", "other-referer", "fetch-site", "both"],
)
async def test_cross_site_choice_post_is_403(headers: dict[str, str]) -> None:
    response = await post_choice(app_with(), {"choice": "accept"}, headers=headers)
    assert (response.status_code, response.text) == (403, "cross-site consent posts are refused")
    assert set_cookies(response) == []


@pytest.mark.anyio
async def test_cross_site_withdraw_post_is_403() -> None:
    async with client(app_with()) as c:
        response = await c.post("/_consent/withdraw", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert set_cookies(response) == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver"},
        {"Referer": "http://testserver/news/1"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        {},
    ],
    ids=["origin", "referer", "fetch-site", "no-origin-header"],
)
async def test_same_origin_choice_post_is_accepted(headers: dict[str, str]) -> None:
    response = await post_choice(app_with(), {"choice": "accept"}, headers=headers)
    assert response.status_code == 303


@pytest.mark.anyio
async def test_post_from_a_trusted_origin_is_accepted() -> None:
    mw = app_with(trusted_origins=["https://shop.example.com"])
    response = await post_choice(
        mw, {"choice": "accept"}, headers={"Origin": "https://shop.example.com"}
    )
    assert response.status_code == 303


@pytest.mark.anyio
async def test_origin_matching_a_host_with_the_default_port_is_accepted() -> None:
    response = await post_choice(
        app_with(),
        {"choice": "accept"},
        headers={"Host": "example.com:80", "Origin": "http://example.com"},
    )
    assert response.status_code == 303


@pytest.mark.anyio
async def test_origin_with_another_port_is_403() -> None:
    response = await post_choice(
        app_with(),
        {"choice": "accept"},
        headers={"Host": "example.com", "Origin": "http://example.com:8080"},
    )
    assert response.status_code == 403


# -- bad bodies -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_body_over_the_limit_by_content_length_is_413() -> None:
    response = await post_choice(
        app_with(max_body_size=100), {"choice": "accept", "next": "/" + "a" * 200}
    )
    assert (response.status_code, response.text) == (413, "body over 100 bytes")
    assert set_cookies(response) == []


@pytest.mark.anyio
async def test_streamed_body_over_the_limit_without_content_length_is_413() -> None:
    chunks = [b"choice=accept&next=/", *([b"a" * 50] * 10)]
    messages = iter(
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    )

    async def receive() -> dict[str, Any]:
        return next(messages)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = make_scope(
        "/_consent/choice",
        method="POST",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
    )
    await app_with(max_body_size=100)(scope, receive, send)
    assert sent[0]["status"] == 413
    assert body_of(sent) == b"body over 100 bytes"


@pytest.mark.anyio
async def test_body_at_the_limit_is_accepted() -> None:
    body = b"choice=accept&next=/"
    body += b"a" * (100 - len(body))
    async with client(app_with(max_body_size=100)) as c:
        response = await c.post("/_consent/choice", content=body, headers=FORM)
    assert response.status_code == 303


@pytest.mark.anyio
async def test_malformed_json_is_400() -> None:
    async with client(app_with()) as c:
        response = await c.post(
            "/_consent/choice",
            content=b'{"choice": "accept"',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 400
    assert response.json() == {"error": "malformed JSON body"}


@pytest.mark.anyio
async def test_unknown_choice_is_400() -> None:
    response = await post_choice(app_with(), {"choice": "maybe"})
    assert (response.status_code, response.text) == (
        400,
        "choice must be one of accept, reject, save, grant",
    )


@pytest.mark.anyio
async def test_missing_choice_is_400() -> None:
    response = await post_choice(app_with(), {"next": "/"})
    assert response.status_code == 400


@pytest.mark.anyio
async def test_unknown_category_is_400() -> None:
    response = await post_choice(app_with(), {"choice": "save", "category": "spying"})
    assert (response.status_code, response.text) == (400, "unknown category: spying")


@pytest.mark.anyio
async def test_json_categories_that_are_not_a_list_is_400() -> None:
    response = await post_json(app_with(), {"choice": "save", "categories": "analytics"})
    assert response.status_code == 400


@pytest.mark.anyio
async def test_multipart_body_is_415() -> None:
    async with client(app_with()) as c:
        response = await c.post("/_consent/choice", files={"choice": ("c.txt", b"accept")})
    assert response.status_code == 415
    assert set_cookies(response) == []


@pytest.mark.anyio
async def test_endpoint_error_response_is_never_cached() -> None:
    response = await post_choice(app_with(), {"choice": "maybe"})
    assert response.headers["cache-control"] == "no-store"


# -- prefix ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_custom_endpoint_prefix_serves_the_endpoints() -> None:
    mw = app_with(endpoint_prefix="/privacy/consent")
    async with client(mw) as c:
        response = await c.post("/privacy/consent/choice", data={"choice": "accept"})
    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert granted_by(mw, response) == ["analytics", "marketing", "media", "necessary"]


@pytest.mark.anyio
async def test_custom_endpoint_prefix_is_used_by_the_banner() -> None:
    mw = app_with(endpoint_prefix="/privacy/consent")
    async with client(mw) as c:
        page = await c.get("/")
    assert '<form class="asgi-consent__form" method="post" action="/privacy/consent/choice"' in (
        page.text
    )
    assert '<script src="/privacy/consent/static/consent.' in page.text


@pytest.mark.anyio
async def test_default_prefix_is_app_traffic_under_a_custom_prefix() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})

    async with client(wrap(app, endpoint_prefix="/privacy/consent")) as c:
        response = await c.post("/_consent/choice", data={"choice": "accept"})
    assert (response.status_code, response.text) == (200, "app")
    assert seen == ["/_consent/choice"]


@pytest.mark.anyio
async def test_head_on_status_is_allowed() -> None:
    sent = await run_asgi(app_with(), make_scope("/_consent/status", method="HEAD"))
    assert sent[0]["status"] == 200


# -- tracker cookies set with a Path, and planted consent cookies --------------------------------


def expired_at(response: httpx.Response) -> list[tuple[str, str, str | None]]:
    """(name, path, domain) of each deleting Set-Cookie but our own."""
    found = []
    for value in set_cookies(response):
        name = value.split("=", 1)[0]
        parts = dict(p.split("=", 1) for p in value.split("; ")[1:] if "=" in p)
        if name != "asgi_consent" and parts.get("Max-Age") == "0":
            found.append((name, parts["Path"], parts.get("Domain")))
    return found


@pytest.mark.anyio
async def test_reject_expires_tracker_cookies_on_every_path_above_the_page() -> None:
    response = await post_choice(
        app_with(),
        {"choice": "reject", "next": "/shop/cart?item=3"},
        headers={"Cookie": "_fbp=fb.1; session=abc"},
        base_url="http://shop.example",
    )
    assert expired_at(response) == [
        (name, path, domain)
        for path in ("/", "/shop", "/shop/", "/shop/cart")
        for name in ("_fbp",)
        for domain in (None, "shop.example")
    ]


@pytest.mark.anyio
async def test_withdraw_expires_on_the_paths_of_the_page_it_was_sent_from() -> None:
    mw = app_with()
    async with client(mw) as c:
        response = await c.post(
            "/_consent/withdraw",
            headers={
                **cookie_header(mw, *("analytics", "media"), extra="_ga=1"),
                "Referer": "http://testserver/blog/post",
            },
        )
    assert [path for _, path, _ in expired_at(response)] == ["/", "/blog", "/blog/", "/blog/post"]


@pytest.mark.anyio
async def test_a_page_path_from_another_site_expires_only_at_the_root() -> None:
    response = await post_choice(
        app_with(),
        {"choice": "reject", "next": "https://evil.example/shop/x"},
        headers={"Cookie": "_ga=1"},
    )
    assert [path for _, path, _ in expired_at(response)] == ["/"]


@pytest.mark.anyio
async def test_the_expiring_headers_of_one_answer_are_bounded() -> None:
    names = "; ".join(f"_ga_{i}=1" for i in range(40))
    response = await post_choice(
        app_with(),
        {"choice": "reject", "next": "/a/b/c/d/e/f"},
        headers={"Cookie": names},
        base_url="http://www.news.example.com",
    )
    expired = expired_at(response)
    assert len(expired) == 48
    assert {path for _, path, _ in expired} == {"/"}  # shallow paths come first


@pytest.mark.anyio
async def test_a_planted_accept_cookie_does_not_override_the_visitors_reject() -> None:
    mw = app_with()
    planted, own = mw.codec.encode(["analytics", "marketing", "media"]), mw.codec.encode([])
    async with client(mw) as c:
        response = await c.get(
            "/_consent/status", headers={"Cookie": f"asgi_consent={planted}; asgi_consent={own}"}
        )
    assert response.json()["decided"] is True
    assert response.json()["categories"] == ["necessary"]


@pytest.mark.anyio
async def test_a_grant_adds_to_the_most_restrictive_of_several_choices() -> None:
    mw = app_with()
    planted, own = mw.codec.encode(["analytics", "marketing"]), mw.codec.encode(["analytics"])
    response = await post_choice(
        mw,
        {"choice": "grant", "category": "media"},
        headers={"Cookie": f"asgi_consent={planted}; asgi_consent={own}"},
    )
    assert granted_by(mw, response) == ["analytics", "media", "necessary"]
