"""What every framework integration must show, written once; each test_<framework>.py
builds its app the framework's way and calls these with it."""

from __future__ import annotations

import gzip
from typing import Any

import httpx

BANNER = "data-consent-banner"


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def accept_all(client: httpx.AsyncClient) -> httpx.Response:
    """Accept through the banner's form post, as a browser without JavaScript would."""
    response = await client.post(
        "/_consent/choice",
        data={"choice": "accept", "next": "/"},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert response.headers["set-cookie"].startswith("asgi_consent=")
    return response


async def banner_appears(app: Any) -> httpx.Response:
    async with client_for(app) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert BANNER in response.text
    assert response.text.index(BANNER) < response.text.index("</body>")
    assert "cookie" in response.headers["vary"].lower()
    return response


async def accept_removes_the_banner(app: Any) -> None:
    async with client_for(app) as client:
        await accept_all(client)
        response = await client.get("/")
    assert BANNER not in response.text
    assert 'id="asgi-consent-settings"' in response.text


async def consent_is_readable_in_a_handler(app: Any) -> None:
    """The app's /whoami answers from the consent it reads the framework's way."""
    async with client_for(app) as client:
        before = await client.get("/whoami")
        await accept_all(client)
        after = await client.get("/whoami")
    assert before.text == "decided=False analytics=False"
    assert after.text == "decided=True analytics=True"


async def passes_byte_for_byte(bare: Any, wrapped: Any, path: str = "/api") -> None:
    async with client_for(bare) as client:
        expected = await client.get(path)
    async with client_for(wrapped) as client:
        got = await client.get(path)
    assert got.status_code == expected.status_code == 200
    assert got.content == expected.content
    assert got.headers.raw == expected.headers.raw


async def compressed_page_has_the_banner(app: Any) -> None:
    """Consent inside compression: the page is rewritten, then compressed."""
    async with client_for(app) as client:
        async with client.stream("GET", "/", headers={"Accept-Encoding": "gzip"}) as response:
            wire = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert BANNER.encode() in gzip.decompress(wire)


async def session_and_consent_cookies_coexist(app: Any, session: str) -> None:
    """/cart counts visits in the framework's session and sets a _ga cookie."""
    async with client_for(app) as client:
        first = await client.get("/cart")
        names = [c.split("=", 1)[0] for c in first.headers.get_list("set-cookie")]
        assert names == [session]  # _ga held back before a choice
        await accept_all(client)
        second = await client.get("/cart")
        whoami = await client.get("/whoami")
    assert set(client.cookies) >= {session, "asgi_consent"}
    assert "Shop 2</h1>" in second.text  # the session survived the consent post
    names = sorted(c.split("=", 1)[0] for c in second.headers.get_list("set-cookie"))
    assert names == sorted(["_ga", session])  # after consent the app's own cookies all pass
    assert whoami.text == "decided=True analytics=True"


async def compressed_before_us_is_rewritten(app: Any, page: str) -> None:
    """Compression inside consent: the gzip page is decoded, rewritten and compressed
    again (the client decodes it as a browser does), like the identity one."""
    async with client_for(app) as client:
        compressed = await client.get("/", headers={"Accept-Encoding": "gzip"})
        identity = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert compressed.status_code == 200
    assert compressed.headers["content-encoding"] == "gzip"
    assert BANNER in compressed.text and BANNER in identity.text
    assert compressed.text.startswith(page[:20])
