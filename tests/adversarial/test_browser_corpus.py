"""The leak corpus in Chromium: each page with and without the middleware.

Served by uvicorn on 127.0.0.1: `/raw/<name>` is the page as the app wrote it, `/page/<name>`
the same page through `ConsentMiddleware`. Every request the page makes is recorded; any
non-loopback request is answered by a local fake, so nothing leaves the machine. Without
the middleware the page must fetch a catalogued tracker (else it proves nothing); with it,
a visitor with no choice and a visitor who rejected see zero tracker requests.

Generated pages (fixed seeds) also check the judge of the differential test: every
tracker host Chromium requests from a raw generated page is one the html5lib oracle
reported, so the oracle is not blind where a browser fetches.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Request, Route, sync_playwright
from starlette.types import Receive, Scope, Send

from asgi_consent import ConsentMiddleware
from helpers import LoopbackServer, require_chromium
from redteam.harness import Tab, wait_for_a_request, wait_quiet

from . import grammar, oracle
from .corpus import PAGES
from .corpus import Page as CorpusPage
from .visitors import CATEGORIES

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = Path("/usr/bin/chromium")
# As in tests/browser/conftest.py.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SECRET = "browser-corpus-secret-0123456789abcdef"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
# After "load", late requests (meta refresh, prefetch) still get counted: the three
# visitors' tabs must all have tried no new request for this long.
SETTLE_MS = 100
VISITORS = ("raw", "none", "reject")
# Generated pages whose raw form makes Chromium request a tracker (checked below).
GENERATED_SEEDS = (0, 1, 2, 3, 4, 5, 6, 8, 9, 10)
GENERATED = {f"generated-{seed}": grammar.document(random.Random(seed)) for seed in GENERATED_SEEDS}
Load = Callable[[str, bool], dict[str, list[str]]]


def is_tracker(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return bool(oracle.tracker_categories(host))


def _corpus_app() -> Any:
    bodies = {page.name: page.html.encode("utf-8") for page in PAGES}
    bodies |= {name: document.render() for name, document in GENERATED.items()}

    async def pages(scope: Scope, receive: Receive, send: Send) -> None:
        body = bodies.get(scope["path"].rpartition("/")[2])
        status, kind = (200, b"text/html; charset=utf-8") if body else (404, b"text/plain")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind)]})  # fmt: skip
        await send({"type": "http.response.body", "body": body or b"not found"})

    guarded = ConsentMiddleware(pages, secret_key=SECRET)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope["type"] == "http" and scope["path"].startswith("/raw/")
        await (pages if raw else guarded)(scope, receive, send)

    return app


def _fake_network(route: Route, request: Request) -> None:
    host = urlsplit(request.url).hostname or ""
    if host in LOOPBACK:
        route.continue_()
    elif request.resource_type in ("document", "iframe"):
        route.fulfill(status=200, content_type="text/html", body="<p>fake</p>")
    elif request.resource_type == "script":
        route.fulfill(status=200, content_type="text/javascript", body="/* fake */")
    else:
        route.fulfill(status=204, body="")


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def load(browser: Browser) -> Iterator[Load]:
    """`load(path, javascript)` -> every URL requested while loading `path`, by visitor:
    "raw" (no middleware), "none" (no choice yet) and "reject". The three load side by
    side, each in its own context, and settle together."""
    contexts: list[BrowserContext] = []
    tabs: dict[tuple[str, bool], Tab] = {}
    with LoopbackServer(_corpus_app()) as base_url:

        def tab_for(visitor: str, javascript: bool) -> Tab:
            key = (visitor, javascript)
            if key not in tabs:
                context = browser.new_context(java_script_enabled=javascript)
                contexts.append(context)
                context.set_default_timeout(10_000)
                context.route("**/*", _fake_network)
                if visitor == "reject":
                    response = context.request.post(
                        base_url + "/_consent/choice",
                        form={"choice": "reject"},
                        headers={"Origin": base_url},
                        max_redirects=0,
                    )
                    assert response.status in (200, 303), response.status
                    assert any(c["name"] == "asgi_consent" for c in context.cookies())
                tabs[key] = Tab(context)
            return tabs[key]

        def load_page(path: str, javascript: bool) -> dict[str, list[str]]:
            opened = {visitor: tab_for(visitor, javascript) for visitor in VISITORS}
            for visitor, tab in opened.items():
                tab.start(base_url + ("/raw" if visitor == "raw" else "") + path)
            wait_quiet(list(opened.values()), SETTLE_MS)
            wait_for_a_request(opened["raw"], is_tracker)
            return {visitor: tab.finish() for visitor, tab in opened.items()}

        yield load_page
        for context in contexts:
            context.close()


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_corpus_page_requests_no_tracker_through_the_middleware(
    load: Load, page: CorpusPage
) -> None:
    loaded = load(f"/page/{page.name}", page.javascript)
    raw = [url for url in loaded["raw"] if is_tracker(url)]
    assert raw, f"{page.name}: Chromium requests no tracker even without the middleware"
    for visitor in ("none", "reject"):
        leaked = [url for url in loaded[visitor] if is_tracker(url)]
        assert leaked == [], f"{page.name}, visitor {visitor}: {leaked}"


@pytest.mark.parametrize("name", list(GENERATED))
def test_generated_page_requests_no_tracker_and_the_oracle_saw_every_raw_one(
    load: Load, name: str
) -> None:
    loaded = load(f"/page/{name}", True)
    requested = [url for url in loaded["raw"] if is_tracker(url)]
    assert requested, f"{name}: Chromium requests no tracker even without the middleware"
    seen = set().union(
        *(leak.hosts for leak in oracle.find_leaks(GENERATED[name].render(), CATEGORIES))
    )
    missed = [
        url
        for url in requested
        if not set(oracle.tracker_hosts(urlsplit(url).hostname or "")) & seen
    ]
    assert missed == [], f"{name}: Chromium requested {missed}, the oracle did not see them"
    for visitor in ("none", "reject"):
        leaked = [url for url in loaded[visitor] if is_tracker(url)]
        assert leaked == [], f"{name}, visitor {visitor}: {leaked}"
