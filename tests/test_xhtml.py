"""XHTML pages are rewritten too, so everything we put into them must be well-formed XML."""

from __future__ import annotations

from xml.dom import minidom

import httpx
import pytest

from helpers import html_app, wrap

XHTML = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><title>x</title></head>'
    b"<body><p>News &amp; views</p>"
    b'<iframe src="https://www.youtube.com/embed/abc" width="560" height="315"></iframe>'
    b'<script data-consent="analytics" src="/stats.js"></script>'
    b"</body></html>"
)
HEADERS = ((b"content-type", b"application/xhtml+xml; charset=utf-8"),)


async def fetch(cookie: str | None = None, **options: object) -> bytes:
    mw = wrap(html_app([XHTML], headers=HEADERS), **options)
    headers = {"cookie": f"asgi_consent={mw.codec.encode(cookie.split())}"} if cookie else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mw), base_url="http://t") as c:
        return (await c.get("/", headers=headers)).content


@pytest.mark.anyio
async def test_an_xhtml_page_before_a_choice_stays_well_formed() -> None:
    body = await fetch(policy_url="/privacy?a=1&b=2", position="modal", consent_mode=True)
    assert b'id="asgi-consent"' in body and b"asgi-consent-placeholder" in body
    minidom.parseString(body)  # raises on anything an XML parser would refuse


@pytest.mark.anyio
async def test_an_xhtml_page_after_a_choice_stays_well_formed() -> None:
    body = await fetch("analytics")
    assert b'id="asgi-consent-settings"' in body
    minidom.parseString(body)
