"""Google Consent Mode v2 and a strict Content-Security-Policy, in a real browser."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from asgi_consent import ConsentMiddleware

from .conftest import SECRET, Visitor, _fake_network, _ServerThread

pytestmark = pytest.mark.browser

NONCE = "r4nd0mN0nce"
GTAG_PAGE = f"""<!doctype html><html><head><title>Consent Mode</title>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXXXXXXXX"
  nonce="{NONCE}"></script>
<script nonce="{NONCE}">
  window.dataLayer = window.dataLayer || [];
  function gtag(){{dataLayer.push(arguments);}}
  gtag('js', new Date());
  gtag('config', 'G-XXXXXXXXXX');
  window.__inline_ran = true;
</script>
<script src="/first-party.js" data-consent="analytics" nonce="{NONCE}"></script>
</head><body><h1>Consent Mode</h1><p>A page with a strict CSP.</p></body></html>"""
CSP = f"default-src 'self'; script-src 'self' 'nonce-{NONCE}'; style-src 'self'"


def _app(**options: Any) -> ConsentMiddleware:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(GTAG_PAGE, headers={"Content-Security-Policy": CSP})

    async def script(request: Request) -> HTMLResponse:
        return HTMLResponse("window.__first_party_ran = true;", media_type="text/javascript")

    routes = [Route("/", page), Route("/first-party.js", script)]
    return ConsentMiddleware(Starlette(routes=routes), secret_key=SECRET, **options)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = _ServerThread(_app(consent_mode=True))
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture
def console(browser: Browser) -> list[str]:
    """Console messages of the page under test (CSP violations are reported there)."""
    return []


@pytest.fixture
def visitor(browser: Browser, site: str, console: list[str]) -> Iterator[Visitor]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    context.route("**/*", _fake_network)
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    visitor = Visitor(page, site)
    page.on("request", lambda request: visitor.requests.append(request.url))
    yield visitor
    context.close()


def wait_for(visitor: Visitor, expression: str, timeout: float = 10.0) -> None:
    """Poll with evaluate(): wait_for_function evaluates strings, which a strict CSP forbids."""
    deadline = time.monotonic() + timeout
    while not visitor.page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        visitor.page.wait_for_timeout(50)


CONSENT_COMMANDS = """() => (window.dataLayer || [])
  .filter(e => e && e[0] === 'consent')
  .map(e => [e[1], e[2].analytics_storage, e[2].ad_storage])"""


def test_the_consent_mode_default_comes_first_and_denies_everything(visitor: Visitor) -> None:
    visitor.goto("/")
    commands: list[Any] = visitor.page.evaluate(CONSENT_COMMANDS)
    assert commands == [["default", "denied", "denied"]]
    assert visitor.tracker_requests() == []


def test_accept_sends_a_consent_mode_update_without_reload(visitor: Visitor) -> None:
    visitor.goto("/")
    visitor.page.evaluate("window.__marker = 1")
    visitor.page.get_by_role("button", name="Accept all").click()
    expect(visitor.page.locator("#asgi-consent")).to_have_count(0)
    wait_for(visitor, "window.__first_party_ran === true")
    commands: list[Any] = visitor.page.evaluate(CONSENT_COMMANDS)
    assert commands[0] == ["default", "denied", "denied"]
    assert ["update", "granted", "granted"] in commands
    assert visitor.page.evaluate("window.__marker") == 1


def test_a_returning_visitor_starts_with_the_choice_in_the_default(visitor: Visitor) -> None:
    visitor.goto("/")
    visitor.page.get_by_role("button", name="Reject all").click()
    expect(visitor.page.locator("#asgi-consent")).to_have_count(0)
    visitor.reload()
    commands: list[Any] = visitor.page.evaluate(CONSENT_COMMANDS)
    assert commands == [["default", "denied", "denied"]]
    assert visitor.tracker_requests() == []


def test_under_a_strict_csp_our_script_runs_and_activated_scripts_keep_the_nonce(
    visitor: Visitor, console: list[str]
) -> None:
    visitor.goto("/")  # waits for consent.js: it ran under script-src 'self' 'nonce-…'
    assert visitor.page.evaluate("window.__inline_ran === undefined")
    visitor.page.get_by_role("button", name="Accept all").click()
    wait_for(visitor, "window.__inline_ran === true")
    wait_for(visitor, "window.__first_party_ran === true")
    assert any("googletagmanager.com/gtag/js" in url for url in visitor.tracker_requests())
    assert [text for text in console if "Content Security Policy" in text] == []
