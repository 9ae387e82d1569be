"""Red-team harness: load candidate pages in Chromium with and without the middleware.

    .venv/bin/python tests/redteam/harness.py tests/redteam/candidates.py [name ...]

The candidates module defines PAGES: a dict name -> page (str or bytes, or a list of
them: a body streamed in those chunks), or name -> (page, headers) or (page, headers,
status). Each page is served by uvicorn on 127.0.0.1 as `/raw/<name>` (the app's
bytes) and `/page/<name>` (through ConsentMiddleware), loaded for a visitor with no
choice and one who rejected (and others if asked); every non-loopback request is
answered by a local fake and recorded. A finding: a tracker request with the middleware
on (and the raw page requests one too, so it is a real vector).
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from asgi_consent import ConsentMiddleware
from asgi_consent.config import ConsentConfig
from asgi_consent.rules import TrackerRules
from asgi_consent.urls import parse_url

SECRET = "redteam-secret-0123456789abcdef-xyz"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
VISITORS = ("raw", "none", "reject")
# The choice each visitor who chose posted (a form's fields).
CHOICES: dict[str, dict[str, str]] = {
    "reject": {"choice": "reject"},
    "analytics": {"choice": "save", "category": "analytics"},
    "accept": {"choice": "accept"},
}
RAW_WAIT_S = 10  # a raw page's tracker request is waited for this long at most
RULES = TrackerRules(ConsentConfig(secret_key=SECRET))


def is_tracker(url: str) -> bool:
    parsed = parse_url(url, None)
    if parsed is None:
        return False
    return RULES.match_url(parsed) is not None or bool(RULES.host_categories(parsed))


def make_app(pages: dict[str, Any]) -> Any:
    async def raw(scope: Any, receive: Any, send: Any) -> None:
        name = scope["path"].rpartition("/")[2]
        entry = pages.get(name)
        if entry is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        # (page, headers) or (page, headers, status): status 200 unless given
        body, headers, *status = entry if isinstance(entry, tuple) else (entry, None)
        # a list: the chunks of a streamed body, each its own message
        chunks = body if isinstance(body, list) else [body]
        chunks = [chunk.encode("utf-8") if isinstance(chunk, str) else chunk for chunk in chunks]
        if headers is None:
            headers = [(b"content-type", b"text/html; charset=utf-8")]
        start = {"type": "http.response.start", "status": status[0] if status else 200}
        await send({**start, "headers": headers})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    guarded = ConsentMiddleware(raw, secret_key=SECRET)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/raw/"):
            await raw(scope, receive, send)
        else:
            await guarded(scope, receive, send)

    return app


class Server:
    def __init__(self, app: Any) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


def fake(route: Route, request: Request) -> None:
    host = urlsplit(request.url).hostname or ""
    if host in LOOPBACK:
        route.continue_()
    elif request.resource_type in ("document", "iframe"):
        route.fulfill(status=200, content_type="text/html", body="<p>fake</p>")
    elif request.resource_type == "script":
        route.fulfill(status=200, content_type="text/javascript", body="/* fake */")
    elif request.resource_type == "stylesheet":
        route.fulfill(status=200, content_type="text/css", body="/* fake */")
    else:
        route.fulfill(status=204, body="")


class Tab:
    """One reused page per visitor: each load starts from about:blank, so a request is
    counted for the page that made it (a new page per load costs more than the load)."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.requests: list[str] = []
        self.page = self._new_page()

    def _new_page(self) -> Page:
        page = self.context.new_page()
        # Only the tab's current page counts: one left behind may still be loading.
        page.on("request", lambda request: self.page is page and self.requests.append(request.url))
        return page

    def start(self, url: str) -> None:
        """Load `url` (until its "load" event); its requests are counted from here."""
        self.requests.clear()
        try:
            self.page.goto(url)
        except PlaywrightError as error:  # a meta refresh may navigate on before "load"
            if "interrupted by another navigation" not in str(error):
                raise

    def finish(self) -> list[str]:
        """Every URL the page requested since `start`; the page's document ends here."""
        seen = list(self.requests)
        try:
            self.page.goto("about:blank")
        except PlaywrightError:  # a late navigation raced us: start a fresh page
            stale, self.page = self.page, self._new_page()
            # A page caught mid-navigation can take forever to close: with
            # run_before_unload, close() asks and does not wait.
            with contextlib.suppress(PlaywrightError):
                stale.close(run_before_unload=True)
        return seen


def wait_quiet(tabs: list[Tab], quiet_ms: int) -> None:
    """Wait until no tab has tried a new request for `quiet_ms` (late requests, such as a
    meta refresh's, still count; under load they come late)."""
    deadline = time.monotonic() + 15
    seen, since = sum(len(tab.requests) for tab in tabs), time.monotonic()
    while time.monotonic() - since < quiet_ms / 1000:
        if time.monotonic() > deadline:
            raise AssertionError("the pages kept making requests for 15 s")
        tabs[0].page.wait_for_timeout(25)
        tried = sum(len(tab.requests) for tab in tabs)
        if tried != seen:
            seen, since = tried, time.monotonic()


def wait_for_a_request(tab: Tab, wanted: Callable[[str], bool]) -> None:
    """Wait (RAW_WAIT_S at most) until the tab has requested a `wanted` URL: under load a
    raw page's late tracker request comes late. It may never come; the caller judges."""
    deadline = time.monotonic() + RAW_WAIT_S
    while not any(map(wanted, tab.requests)) and time.monotonic() < deadline:
        tab.page.wait_for_timeout(50)


Load = Callable[..., dict[str, list[str]]]


@contextlib.contextmanager
def chromium(
    pages: dict[str, Any], settle_ms: int = 400, visitors: tuple[str, ...] = VISITORS
) -> Iterator[Load]:
    """`load(name)` -> the tracker requests (and load errors, as "ERROR ...") of page
    `name` for each visitor: "raw" (no middleware), "none" (no choice yet), "reject",
    and if asked "analytics" (analytics alone granted) or "accept". They load side by
    side, each in its own context, and settle together."""
    with Server(make_app(pages)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        try:
            tabs = {
                (visitor, javascript): Tab(_context(browser, base, visitor, javascript))
                for visitor in visitors
                for javascript in (True, False)
            }

            def load(name: str, proof: str = "raw") -> dict[str, list[str]]:
                # `proof`: the visitor whose tracker request shows the page fetches one (the
                # raw page, or for markup only consent.js wakes, a visitor who granted it)
                javascript = not name.endswith("-nojs")  # a page for visitors without JS
                opened = {visitor: tabs[visitor, javascript] for visitor in visitors}
                for visitor, tab in opened.items():
                    try:
                        tab.start(base + ("/raw/" if visitor == "raw" else "/page/") + name)
                    except PlaywrightError as error:
                        tab.requests.append(f"ERROR {error!s:.80}")
                wait_quiet(list(opened.values()), settle_ms)
                wait_for_a_request(opened[proof], is_tracker)
                return {
                    visitor: [u for u in tab.finish() if is_tracker(u) or u.startswith("ERROR")]
                    for visitor, tab in opened.items()
                }

            yield load
        finally:
            browser.close()


def _context(browser: Browser, base: str, visitor: str, javascript: bool) -> BrowserContext:
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    context.route("**/*", fake)
    if visitor in CHOICES:
        context.request.post(
            base + "/_consent/choice",
            form=CHOICES[visitor],
            headers={"Origin": base},
            max_redirects=0,
        )
        if not any(cookie["name"] == "asgi_consent" for cookie in context.cookies()):
            raise RuntimeError(f"the {visitor} visitor got no consent cookie")
    return context


def run(
    pages: dict[str, Any], names: list[str], settle: int = 400
) -> dict[str, dict[str, list[str]]]:
    with chromium(pages, settle) as load:
        return {name: load(name) for name in names}


def main() -> None:
    spec = importlib.util.spec_from_file_location("candidates", sys.argv[1])
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pages = module.PAGES
    names = sys.argv[2:] or list(pages)
    for name, seen in run(pages, names).items():
        leak = seen["none"] or seen["reject"]
        flag = "LEAK " if leak else ("dud  " if not seen["raw"] else "held ")
        print(
            f"{flag}{name}: raw={len(seen['raw'])} none={seen['none'][:2]} "
            f"reject={seen['reject'][:2]}"
        )


if __name__ == "__main__":
    main()
