"""Red-team harness: load candidate pages in Chromium with and without the middleware.

    .venv/bin/python tests/redteam/harness.py tests/redteam/candidates.py [name ...]

The candidates module defines PAGES: a dict name -> page (str or bytes) or
name -> (page, headers). Each page is served by uvicorn on 127.0.0.1 as `/raw/<name>`
(the app's bytes) and `/page/<name>` (through ConsentMiddleware), loaded for a visitor
with no choice and one who rejected; every non-loopback request is answered by a local
fake and recorded. A finding: a tracker request with the middleware on (and the raw page
requests one too, so it is a real vector).
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from playwright.sync_api import Request, Route, sync_playwright

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
        body, headers = entry if isinstance(entry, tuple) else (entry, None)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if headers is None:
            headers = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

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


def run(
    pages: dict[str, Any], names: list[str], settle: int = 400
) -> dict[str, dict[str, list[str]]]:
    results: dict[str, dict[str, list[str]]] = {}
    with Server(make_app(pages)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        contexts: dict[tuple[str, bool], Any] = {}
        for visitor in ("raw", "none", "reject"):
            for javascript in (True, False):
                ctx = browser.new_context(java_script_enabled=javascript)
                ctx.route("**/*", fake)
                if visitor == "reject":
                    ctx.request.post(
                        base + "/_consent/choice",
                        form={"choice": "reject"},
                        headers={"Origin": base},
                        max_redirects=0,
                    )
                contexts[visitor, javascript] = ctx
        for name in names:
            results[name] = {}
            javascript = not name.endswith("-nojs")  # a page for visitors without JS
            for visitor in ("raw", "none", "reject"):
                ctx = contexts[visitor, javascript]
                page = ctx.new_page()
                seen: list[str] = []
                page.on("request", lambda r, seen=seen: seen.append(r.url))
                path = ("/raw/" if visitor == "raw" else "/page/") + name
                try:
                    page.goto(base + path, wait_until="load", timeout=10_000)
                except Exception as exc:  # noqa: BLE001
                    seen.append(f"ERROR {exc!s:.80}")
                page.wait_for_timeout(settle)
                page.close()
                results[name][visitor] = [u for u in seen if is_tracker(u) or u.startswith("ERROR")]
        browser.close()
    return results


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
