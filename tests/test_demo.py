"""The demo site (`make demo`): every page carries the banner and the official tracker
snippets, neutralised before a choice and intact after accept; `/notice` is the classic
single-button notice."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from demo import DEV_SECRET_KEY, create_app, pages
from demo import __main__ as demo_main

from helpers import SECRET

pytestmark = pytest.mark.anyio

PAGES = ["/", "/video", "/privacy", "/notice"]
BANNER = b'id="asgi-consent"'


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(secret_key=SECRET))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def choose(client: httpx.AsyncClient, choice: str, prefix: str = "/_consent") -> None:
    response = await client.post(
        f"{prefix}/choice",
        data={"choice": choice, "next": "/"},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 303


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_shows_the_banner_before_a_choice(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.content.count(BANNER) == 1
    assert b'href="/privacy"' in response.content


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_links_the_others_and_the_cookie_settings(
    client: httpx.AsyncClient, path: str
) -> None:
    html = (await client.get(path)).text
    for link in ('href="/"', 'href="/video"', 'href="/privacy"', 'href="/notice"'):
        assert link in html
    assert "data-consent-open>Cookie settings</a>" in html
    assert "Network" in html


@pytest.mark.parametrize("path", PAGES)
async def test_trackers_are_neutralised_before_a_choice(
    client: httpx.AsyncClient, path: str
) -> None:
    html = (await client.get(path)).text
    assert pages.GA4_SNIPPET not in html
    assert pages.META_PIXEL_SNIPPET not in html
    assert pages.FIRST_PARTY_ANALYTICS not in html
    assert (
        '<script type="text/plain" data-consent="analytics" async'
        ' src="https://www.googletagmanager.com/gtag/js?id=G-XXXXXXXXXX">' in html
    )
    assert html.count('<script type="text/plain" data-consent="analytics">') == 2
    assert '<script type="text/plain" data-consent="marketing">' in html
    assert 'data-consent-src="https://www.facebook.com/tr?' in html
    assert 'src="https://www.facebook.com/tr?' not in html.replace("data-consent-src=", "")
    assert '<script type="text/plain" src="/static/analytics-demo.js"' in html
    assert 'data-status="blocked">analytics script: blocked<' in html


async def test_the_video_is_a_click_to_load_placeholder_before_a_choice(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/video")).text
    assert pages.YOUTUBE_EMBED not in html
    assert 'data-consent-placeholder="media"' in html
    assert "Allow and load</button>" in html
    assert 'data-consent-src="https://www.youtube.com/embed/XXXXXXXXXXX"' in html
    assert ' src="https://www.youtube.com' not in html


@pytest.mark.parametrize("path", ["/", "/video", "/privacy"])
async def test_trackers_are_intact_after_accept(client: httpx.AsyncClient, path: str) -> None:
    await choose(client, "accept")
    html = (await client.get(path)).text
    assert BANNER not in html.encode()
    assert pages.GA4_SNIPPET in html
    assert pages.META_PIXEL_SNIPPET in html
    assert pages.FIRST_PARTY_ANALYTICS in html
    assert '<script type="text/plain"' not in html
    assert "granted: analytics, marketing, media, necessary" in html


async def test_the_video_embed_is_intact_after_accept(client: httpx.AsyncClient) -> None:
    await choose(client, "accept")
    html = (await client.get("/video")).text
    assert pages.YOUTUBE_EMBED in html
    assert "asgi-consent-placeholder" not in html


async def test_trackers_stay_neutralised_after_reject(client: httpx.AsyncClient) -> None:
    await choose(client, "reject")
    html = (await client.get("/video")).text
    assert BANNER not in html.encode()
    assert pages.GA4_SNIPPET not in html
    assert pages.META_PIXEL_SNIPPET not in html
    assert pages.YOUTUBE_EMBED not in html
    assert "granted: necessary" in html


async def test_the_notice_path_shows_one_button(client: httpx.AsyncClient) -> None:
    html = (await client.get("/notice")).text
    banner = html[html.index('<div id="asgi-consent"') :]
    assert "Bullion Bite uses cookies to enhance your experience." in banner
    assert ">How We Use Cookies?</a>" in banner
    assert banner.count("<button") == 1
    assert 'value="accept"' in banner and ">Ok, Go it!</button>" in banner
    assert "Reject all" not in banner
    assert 'action="/notice/_consent/choice"' in banner


async def test_the_notice_keeps_trackers_blocked_until_it_is_clicked(
    client: httpx.AsyncClient,
) -> None:
    assert pages.GA4_SNIPPET not in (await client.get("/notice")).text
    await choose(client, "accept", prefix="/notice/_consent")
    html = (await client.get("/notice")).text
    assert pages.GA4_SNIPPET in html
    assert pages.META_PIXEL_SNIPPET in html


async def test_the_notice_choice_lasts_20_days(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/notice/_consent/choice",
        data={"choice": "accept", "next": "/notice"},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/notice"
    (cookie,) = [
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("asgi_consent_notice=")
    ]
    assert f"Max-Age={20 * 86400}" in cookie


async def test_the_notice_and_the_site_keep_separate_choices(client: httpx.AsyncClient) -> None:
    await choose(client, "accept", prefix="/notice/_consent")
    assert BANNER not in (await client.get("/notice")).content
    assert BANNER in (await client.get("/")).content


async def test_the_demo_serves_its_analytics_script(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/analytics-demo.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert b"analytics script: ran" in response.content


async def test_the_demo_without_a_key_uses_the_development_key_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="demo"):
        app = create_app()
    assert "DEVELOPMENT secret key" in caplog.text
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert BANNER in (await client.get("/")).content
    assert len(DEV_SECRET_KEY) >= 16


def test_python_m_demo_reads_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(demo_main.uvicorn, "run", lambda app, **kw: served.update(kw, app=app))
    monkeypatch.setenv("HOST", "127.0.0.2")
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("CONSENT_SECRET_KEY", SECRET)
    demo_main.main()
    assert (served["host"], served["port"]) == ("127.0.0.2", 8123)
    assert callable(served["app"])


def test_python_m_demo_defaults_to_loopback_port_8000(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(demo_main.uvicorn, "run", lambda app, **kw: served.update(kw))
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.setenv("CONSENT_SECRET_KEY", SECRET)
    demo_main.main()
    assert (served["host"], served["port"]) == ("127.0.0.1", 8000)
