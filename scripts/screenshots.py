"""Screenshots of the banner, the preferences view, the settings control and the embed
placeholder, taken with Debian's Chromium from a real server, into docs/.

    .venv/bin/python scripts/screenshots.py [--out docs]

The page is a tiny Starlette app behind ConsentMiddleware, served by uvicorn on
127.0.0.1 on a free port; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import uvicorn
from playwright.sync_api import Browser, Page, Route, sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route as StarletteRoute

from asgi_consent import ConsentMiddleware

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots only: this key signs nothing that leaves the machine.
SECRET = "screenshots-only-secret-key-0123456789"

_HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta name="color-scheme" content="light dark">'
    "<style>body{{font-family:sans-serif;margin:2rem;line-height:1.5;background:#fff;"
    "color:#1f2328}}main{{max-width:40rem}}a{{color:#1a4fbf}}"
    "@media (prefers-color-scheme: dark){{body{{background:#0d1117;color:#e6edf3}}"
    "a{{color:#9cc2ff}}}}</style><title>{title}</title></head><body>"
)
_ARTICLE = (
    "<p>The town library opens on Sundays from next month. The council agreed the new hours"
    " on Tuesday after a petition signed by more than two thousand residents.</p>"
    "<p>Volunteers will staff the reading room, and the children's corner gets a new shelf"
    " of picture books donated by the school.</p>"
)
HOME = (
    _HEAD.format(title="Example news")
    + "<header><h1>Example news</h1></header><main>"
    + _ARTICLE
    + '<p><a href="/article">Read the whole article</a></p>'
    '<button type="button">Subscribe</button></main></body></html>'
)
VIDEO = (
    _HEAD.format(title="A video")
    + "<header><h1>A video</h1></header><main><p>Our interview with the librarian.</p>"
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/M7lc1UVf-VE"'
    ' title="YouTube video player" allowfullscreen></iframe></main></body></html>'
)


def build_app(position: str, **options: Any) -> ConsentMiddleware:
    def page(html: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> HTMLResponse:
            return HTMLResponse(html)

        return endpoint

    app = Starlette(
        routes=[
            StarletteRoute("/", page(HOME)),
            StarletteRoute("/article", page(HOME)),
            StarletteRoute("/video", page(VIDEO)),
        ]
    )
    return ConsentMiddleware(
        app, secret_key=SECRET, policy_url="/privacy", position=position, **options
    )


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """uvicorn on 127.0.0.1, a port the OS picked, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _loopback_only(route: Route) -> None:
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    else:
        route.abort()


def open_page(
    browser: Browser,
    *,
    language: str = "en",
    width: int = 1280,
    height: int = 720,
    scale: float = 1,
    scheme: Literal["light", "dark"] = "light",
) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=scale,
        locale=language,
        extra_http_headers={"Accept-Language": language},
        color_scheme=scheme,
    )
    context.route("**/*", _loopback_only)
    return context.new_page()


def shoot(page: Page, out: Path, name: str) -> None:
    page.mouse.move(0, 0)
    page.screenshot(path=str(out / name), animations="disabled", caret="hide")
    page.context.close()
    print(f"wrote {out / name}")


def take_all(browser: Browser, urls: dict[str, str], out: Path) -> None:
    for position in ("bottom", "corner", "modal"):
        page = open_page(browser)
        page.goto(urls[position] + "/")
        shoot(page, out, f"banner-{position}.png")

    page = open_page(browser)
    page.goto(urls["bottom"] + "/")
    page.locator("#asgi-consent > form [data-consent-open]").click()
    page.locator("#asgi-consent-preferences").wait_for()
    shoot(page, out, "preferences.png")

    page = open_page(browser)
    page.goto(urls["bottom"] + "/_consent/preferences?next=/article")
    shoot(page, out, "preferences-page.png")

    page = open_page(browser)
    page.goto(urls["bottom"] + "/")
    page.locator("#asgi-consent > form [data-choice=accept]").click()
    page.locator("#asgi-consent-settings").wait_for()
    page.reload()
    page.locator("#asgi-consent-settings [data-consent-open]").click()
    page.locator("#asgi-consent-preferences").wait_for()
    shoot(page, out, "settings.png")

    page = open_page(browser)
    page.goto(urls["bottom"] + "/")
    page.locator("#asgi-consent > form [data-choice=reject]").click()
    page.locator("#asgi-consent-settings").wait_for()
    page.goto(urls["bottom"] + "/video")
    page.locator(".asgi-consent-placeholder").wait_for()
    shoot(page, out, "placeholder.png")

    page = open_page(browser, width=320, height=568)
    page.goto(urls["bottom"] + "/")
    shoot(page, out, "banner-320px.png")

    # 200 % zoom of a 1280 x 800 window: a 640 x 400 CSS viewport at twice the pixels.
    page = open_page(browser, width=640, height=400, scale=2)
    page.goto(urls["bottom"] + "/")
    shoot(page, out, "banner-zoom200.png")

    # color_scheme="system" on a visitor's dark system (the default, "light", stays light)
    page = open_page(browser, scheme="dark")
    page.goto(urls["system"] + "/")
    shoot(page, out, "banner-dark.png")

    page = open_page(browser, language="de")
    page.goto(urls["bottom"] + "/")
    shoot(page, out, "banner-de.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        serve(build_app("bottom")) as bottom,
        serve(build_app("corner")) as corner,
        serve(build_app("modal")) as modal,
        serve(build_app("bottom", color_scheme="system")) as system,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            urls = {"bottom": bottom, "corner": corner, "modal": modal, "system": system}
            take_all(browser, urls, args.out)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
