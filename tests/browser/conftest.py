"""Real-browser fixtures: the demo site served by uvicorn on loopback, one headless
Debian Chromium driven by Playwright, and a fresh context per test whose requests to
tracker hosts are answered by local fakes (nothing leaves the machine).

The server and the browser are package-scoped: started once for this folder and gone
before the rest of the test session (Playwright's sync API must not outlive into
tests that run their own asyncio loop).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from demo import create_app
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright

from helpers import LoopbackServer, require_chromium

# expect() does not follow a context's default timeout: its own is 5 s, short for a
# reload on a loaded 2-core CI machine. The same 10 s as every action here.
expect.set_options(timeout=10_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SECRET = "browser-test-secret-0123456789abcdef"
TRACKER_HOSTS = (
    "googletagmanager.com",
    "google-analytics.com",
    "connect.facebook.net",
    "facebook.com",
    "youtube.com",
    "ytimg.com",
    "doubleclick.net",
)
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}

# The fakes record when they ran in window.__order, so tests can check order.
FAKE_GTAG_JS = """
window.__order = window.__order || [];
window.__order.push("gtag.js");
window.__fake_ga = (window.__fake_ga || 0) + 1;
(function () {
  var queue = window.dataLayer = window.dataLayer || [];
  function seen(command, when) {
    if (command && command[0] === "config") {
      window.__order.push("gtag:config:" + command[1] + ":" + when);
    }
  }
  for (var i = 0; i < queue.length; i++) { seen(queue[i], "queued"); }
  var push = queue.push;
  queue.push = function () {
    for (var j = 0; j < arguments.length; j++) { seen(arguments[j], "pushed"); }
    return push.apply(queue, arguments);
  };
})();
"""
FAKE_FBEVENTS_JS = """
window.__order = window.__order || [];
window.__order.push("fbevents.js");
window.__fake_fb = (window.__fake_fb || 0) + 1;
window.__fb_queue = (window.fbq && window.fbq.queue || []).map(function (c) { return c[0]; });
"""
FAKE_YOUTUBE_EMBED = (
    "<!doctype html><html><head><title>fake YouTube</title></head>"
    '<body><p id="fake-youtube">fake YouTube player</p></body></html>'
)


def is_tracker(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == t or host.endswith("." + t) for t in TRACKER_HOSTS)


def _fake_network(route: Route, request: Request) -> None:
    """Loopback goes to the demo; every other host gets a local fake, never the internet."""
    url = urlsplit(request.url)
    host = (url.hostname or "").lower()
    if host in LOOPBACK:
        route.continue_()
    elif host.endswith("googletagmanager.com") and url.path == "/gtag/js":
        route.fulfill(status=200, content_type="text/javascript", body=FAKE_GTAG_JS)
    elif host == "connect.facebook.net" and url.path.endswith("/fbevents.js"):
        route.fulfill(status=200, content_type="text/javascript", body=FAKE_FBEVENTS_JS)
    elif host.endswith("youtube.com") and url.path.startswith("/embed/"):
        route.fulfill(status=200, content_type="text/html", body=FAKE_YOUTUBE_EMBED)
    else:
        route.fulfill(status=204, body="")


# The name the browser tests import (the server itself is shared with a11y/ and adversarial/)
_ServerThread = LoopbackServer


@pytest.fixture(scope="package")
def base_url() -> Iterator[str]:
    """The demo site, served by uvicorn on loopback."""
    server = _ServerThread(create_app(secret_key=SECRET))
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visitor:
    """One visitor: a page in its own browser context, and every request it made."""

    page: Page
    base_url: str
    javascript: bool = True
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> None:
        self.page.goto(self.url(path))
        self.wait_until_ready()

    def reload(self) -> None:
        self.page.reload()
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        if self.javascript:
            # consent.js is deferred: once it has run, the page is ready for clicks.
            self.page.wait_for_function("window.asgiConsent !== undefined")

    def tracker_requests(self) -> list[str]:
        return [url for url in self.requests if is_tracker(url)]

    def cookie(self, name: str) -> dict[str, Any] | None:
        for cookie in self.page.context.cookies(self.base_url):
            if cookie["name"] == name:
                return dict(cookie)
        return None

    def status(self, prefix: str = "/_consent") -> dict[str, Any]:
        """The consent endpoint's view of this visitor (shares the context's cookies)."""
        response = self.page.request.get(self.url(prefix + "/status"))
        assert response.ok
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
def visit(browser: Browser, base_url: str) -> Iterator[Callable[..., Visitor]]:
    """A factory: `visit(javascript=False)` opens a fresh context and page."""
    contexts = []

    def open_visitor(*, javascript: bool = True) -> Visitor:
        context = browser.new_context(java_script_enabled=javascript)
        context.set_default_timeout(10_000)
        context.route("**/*", _fake_network)
        contexts.append(context)
        page = context.new_page()
        visitor = Visitor(page, base_url, javascript)
        page.on("request", lambda request: visitor.requests.append(request.url))
        return visitor

    yield open_visitor
    for context in contexts:
        context.close()
