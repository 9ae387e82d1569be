"""The README's quick start, run as written: its app.py and template, taken from the
README itself, served in process. (tests/test_startup.py starts a real uvicorn.)"""

from __future__ import annotations

import re
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import SECRET

pytestmark = pytest.mark.anyio

README = Path(__file__).parent.parent / "README.md"


def _quick_start_blocks() -> dict[str, str]:
    text = README.read_text("utf-8")
    section = text[text.index("## Quick start") : text.index("### The demo site")]
    blocks: dict[str, str] = {}
    for language, body in re.findall(r"```(\w+)\n(.*?)```", section, re.S):
        blocks.setdefault(language, body)
    return blocks


@pytest.fixture
def quick_start_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    blocks = _quick_start_blocks()
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "index.html").write_text(blocks["html"], encoding="utf-8")
    (tmp_path / "app.py").write_text(blocks["python"], encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # Jinja2Templates(directory="templates") is relative
    monkeypatch.setenv("CONSENT_SECRET_KEY", SECRET)
    yield runpy.run_path(str(tmp_path / "app.py"))["app"]


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def test_the_quick_start_shows_how_to_install_run_and_make_a_secret() -> None:
    commands = _quick_start_blocks()["sh"]
    assert "pip install asgi-consent fastapi jinja2 uvicorn" in commands
    assert "secrets.token_urlsafe(32)" in commands
    assert "uvicorn app:app" in commands


async def test_the_quick_start_page_has_the_banner_and_an_inert_google_tag(
    quick_start_app: Any,
) -> None:
    async with _client(quick_start_app) as client:
        page = (await client.get("/")).text
    assert "data-consent-banner" in page
    assert "Analytics allowed: False" in page
    tags = re.findall(r"<script\b[^>]*>", page.split('id="asgi-consent"')[0])
    scripts = [tag for tag in tags if "/_consent/static/" not in tag]  # not the guard, ours
    assert len(scripts) == 2
    assert all('type="text/plain"' in tag and 'data-consent="analytics"' in tag for tag in scripts)


async def test_the_quick_start_page_after_accept_all_says_analytics_is_allowed(
    quick_start_app: Any,
) -> None:
    async with _client(quick_start_app) as client:
        choice = await client.post(
            "/_consent/choice",
            data={"choice": "accept", "next": "/"},
            headers={"Origin": "http://testserver"},
        )
        page = (await client.get("/")).text
    assert choice.status_code == 303
    assert "Analytics allowed: True" in page
    assert '<script async src="https://www.googletagmanager.com/gtag/js' in page
    assert "data-consent-banner" not in page


async def test_the_quick_start_policy_link_leads_to_a_page(quick_start_app: Any) -> None:
    async with _client(quick_start_app) as client:
        page = (await client.get("/")).text
        privacy = await client.get("/privacy")
    assert 'href="/privacy"' in page
    assert privacy.status_code == 200
