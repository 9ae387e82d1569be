"""consent.js against inert markup in the server's contract format, in Chromium.

The pages are written by hand, already inert (data-consent, data-consent-<name>,
type="text/plain"), with our banner or settings control and script tag as banner.py
writes them: the server's scanner is not involved. The consent endpoints are the real
ones. Tracker hosts are answered by local fakes; every request the page makes is recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from playwright.sync_api import Browser, Page, Route, expect
from playwright.sync_api import Request as BrowserRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route as Path

from asgi_consent import ConsentConfig, ConsentMiddleware
from asgi_consent.assets import Assets
from asgi_consent.banner import BannerRenderer
from asgi_consent.cookie import ConsentCodec

from .conftest import LOOPBACK, SECRET, _ServerThread

pytestmark = pytest.mark.browser

NONCE = "fragm3ntN0nce"
CSP = f"script-src 'self' 'nonce-{NONCE}'; style-src 'self' 'nonce-{NONCE}'"
BARRIER = "/pixel.gif?necessary"  # wakes on any choice: once loaded, waking has run
FORGED = """<div data-granted="analytics marketing media"><p>A visitor's comment.</p></div>
<div id="asgiConsent"></div>
<script type="text/plain" data-consent="analytics"
  data-consent-src="https://www.googletagmanager.com/gtag/js?id=G-FORGED"></script>
<img data-consent="marketing" data-consent-src="https://www.facebook.com/tr?id=forged" alt="">
<iframe data-consent="media" data-consent-src="https://www.youtube.com/embed/forged"
  hidden="hidden" data-consent-hidden=""></iframe>
<img data-consent="necessary" data-consent-src="/pixel.gif?necessary" alt="">"""
BOTH = """<img id="both" data-consent="analytics marketing"
  data-consent-src="https://www.google-analytics.com/both.gif" alt="">
<img id="one" data-consent="analytics" data-consent-src="https://www.google-analytics.com/one.gif"
  alt="">"""
RESTORE = """<img id="srcset" data-consent="analytics"
  data-consent-srcset="https://www.google-analytics.com/srcset.gif 1x" alt="">
{placeholder}<iframe id="frame" data-consent="media"
  data-consent-src="https://www.youtube.com/embed/restore" hidden="hidden"
  data-consent-hidden=""></iframe>
<video id="video" data-consent="media" data-consent-poster="https://i.ytimg.com/poster.jpg"
  preload="auto"><source data-consent="media" data-consent-src="https://www.youtube.com/v.webm">
</video>
<picture><source data-consent="analytics"
  data-consent-srcset="https://www.google-analytics.com/picture.gif"><img alt=""></picture>
<svg width="10" height="10"><image data-consent="marketing" width="10" height="10"
  data-consent-xlink:href="https://www.facebook.com/svg-image.png"/>
<script type="text/plain" data-consent="analytics">window.__svgInline = true;</script>
<script type="text/plain" data-consent="analytics"
  data-consent-xlink:href="https://www.googletagmanager.com/svg-script.js"></script></svg>
<script type="text/plain" data-consent="analytics" nomodule
  data-consent-src="https://www.google-analytics.com/nomodule.js"></script>
<script type="text/plain" data-consent="analytics">window.__afterSvg = [...window.__order];</script>
<script type="text/plain" data-category="analytics"
  data-src="https://www.googletagmanager.com/vanilla.js"></script>
<iframe data-consent="marketing"
  data-consent-srcdoc="<img src='https://www.facebook.com/srcdoc.gif'>"></iframe>
<style type="text/plain" data-consent="marketing" data-consent-type="text/css"
  data-consent-css='@import url("https://www.facebook.com/import.css");
  #styled {{ color: rgb(1, 2, 3); }}'></style><p id="styled">styled</p>
<link data-consent="marketing" rel="stylesheet"
  data-consent-href="https://connect.facebook.net/sheet.css">
<button id="handler" type="button" data-consent="analytics" data-consent-style="color: rgb(4, 5, 6)"
  data-consent-onclick="window.__clicked = true">a handler</button>
<img data-consent="analytics" data-consent-onerror="window.__errored = true"
  data-consent-src="https://www.google-analytics.com/broken.gif" alt="">
<div id="control" data-consent="analytics" data-consent-ping="https://www.google-analytics.com/p"
  data-consent-type="text/javascript" data-consent-placeholder="x" data-consent-form=""
  data-consent-hidden-not="1"></div>"""
SWAP = f"""<div id="slot"></div><script nonce="{NONCE}">
  window.swap = async (name) => {{
    const answer = await fetch("/fragment/" + name);
    document.getElementById("slot").insertAdjacentHTML("beforeend", await answer.text());
  }};
</script>"""
FRAGMENT = f"""<p>A fragment.</p>
<script type="text/plain" data-consent="analytics" data-consent-src="/js/slow"
  nonce="{NONCE}"></script>
<script type="text/plain" data-consent="analytics" nonce="{NONCE}">
  window.__order.push(window.__slow ? "inline after slow" : "inline before slow");
</script>
<script type="text/plain" data-consent="analytics">window.__noNonce = true;</script>
<script type="text/plain" data-consent="marketing" nonce="{NONCE}"
  data-consent-src="https://connect.facebook.net/en_US/fbevents.js"></script>
<img data-consent="marketing" data-consent-src="https://www.facebook.com/tr?fragment" alt="">
<script type="text/plain" data-consent="analytics" nonce="{NONCE}"
  data-consent-src="https://www.googletagmanager.com/gtag/js?id=G-FRAGMENT"></script>
<img data-consent="necessary" data-consent-src="/pixel.gif?necessary" alt="">"""
FITS = (
    "getComputedStyle(document.documentElement).scrollPaddingBottom === "
    "document.getElementById('asgi-consent').offsetHeight + 'px'"
)
TALL = "".join(f"<p>Paragraph {n} of a long page.</p>" for n in range(60))
PAGES = {"forged": FORGED, "both": BOTH, "restore": RESTORE, "swap": SWAP, "tall": TALL}


def _site() -> Any:
    config = ConsentConfig(secret_key=SECRET)
    renderer = BannerRenderer(config, Assets(config))
    codec = ConsentCodec(config)

    async def not_found(scope: Any, receive: Any, send: Any) -> None:
        await Response(status_code=404)(scope, receive, send)

    endpoints = ConsentMiddleware(not_found, config=config)

    async def page(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in PAGES:
            return Response(status_code=404)
        csp = name == "swap"
        nonce = NONCE if csp else None
        consent = codec.decode(request.cookies.get(config.cookie_name))
        if consent.decided:
            ours = renderer.settings("en", consent.categories, next_path="/", nonce=nonce)
        else:
            ours = renderer.banner("en", next_path="/", gpc=False, nonce=nonce)
        box = renderer.placeholder("en", "media", "YouTube", "/").decode()
        body = PAGES[name].format(placeholder=box) if name == "restore" else PAGES[name]
        html = f"<!doctype html><html><head><title>{name}</title></head><body>{body}"
        headers = {"Content-Security-Policy": CSP} if csp else {}
        return HTMLResponse(html + ours.decode() + "</body></html>", headers=headers)

    async def fragment(request: Request) -> Response:
        return HTMLResponse(FRAGMENT)

    async def slow(request: Request) -> Response:
        await anyio.sleep(0.5)  # inline code after it must still find what it defines
        body = 'window.__order.push("slow"); window.__slow = true;'
        return Response(body, media_type="text/javascript")

    async def pixel(request: Request) -> Response:
        return Response(b"GIF89a", media_type="image/gif")

    pages = Starlette(
        routes=[
            Path("/js/slow", slow),
            Path("/pixel.gif", pixel),
            Path("/fragment/{name}", fragment),
            Path("/{name}", page),
        ]
    )

    async def app(scope: Any, receive: Any, send: Any) -> None:
        inside = scope["type"] == "http" and scope["path"].startswith("/_consent/")
        await (endpoints if inside else pages)(scope, receive, send)

    return app


def _fake_world(route: Route, request: BrowserRequest) -> None:
    """Loopback goes to the site; any other host gets a local fake, never the internet."""
    url = urlsplit(request.url)
    host = (url.hostname or "").lower()
    if host in LOOPBACK:
        route.continue_()
    elif url.path.endswith(".js") or url.path == "/gtag/js":
        body = f"(window.__order = window.__order || []).push({json.dumps(host + url.path)});"
        route.fulfill(status=200, content_type="text/javascript", body=body)
    elif url.path.endswith(".css"):
        route.fulfill(status=200, content_type="text/css", body="p { margin: 1px; }")
    elif url.path.startswith("/embed/"):
        route.fulfill(status=200, content_type="text/html", body="<p>fake embed</p>")
    else:
        route.fulfill(status=204, body="")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = _ServerThread(_site())
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


class Tab:
    """One visitor's page on the site, with every URL it requested."""

    def __init__(self, page: Page, site: str) -> None:
        self.page = page
        self.site = site
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, name: str) -> None:
        self.page.goto(f"{self.site}/{name}")
        self.until("window.asgiConsent !== undefined")

    def wait(self, ready: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            self.page.wait_for_timeout(25)

    def until(self, expression: str) -> None:
        """Poll with evaluate(): wait_for_function evaluates strings, which a CSP forbids."""
        self.wait(lambda: bool(self.page.evaluate(expression)), expression)

    def requested(self, part: str) -> None:
        self.wait(lambda: any(part in url for url in self.requests), f"a request for {part}")

    def quiet(self, still: float = 0.5) -> None:
        """Wait until the page has tried no new request for `still` seconds, before an
        assertion that something was not requested (a fixed sleep is too short under load)."""
        deadline = time.monotonic() + 15
        seen, since = len(self.requests), time.monotonic()
        while time.monotonic() - since < still:
            assert time.monotonic() < deadline, "the page kept making requests for 15 s"
            self.page.wait_for_timeout(25)
            if len(self.requests) != seen:
                seen, since = len(self.requests), time.monotonic()

    def offsite(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).hostname not in LOOPBACK]

    def choose(self, *labels: str) -> None:
        """Save exactly these categories, from the banner or from the settings control."""
        banner = self.page.locator("#asgi-consent[data-consent-banner]")
        if banner.count():
            banner.get_by_text("Manage preferences").click()
            form = banner
        else:
            form = self.page.locator("#asgi-consent-settings")
            form.locator(":scope > [data-consent-open]").click()
        for box in form.get_by_role("switch").all():
            if box.is_enabled():
                box.uncheck()
        for label in labels:
            form.get_by_label(label).check()
        form.get_by_role("button", name="Save my choices").click()
        expect(self.page.locator("#asgi-consent-settings")).to_be_visible()


@pytest.fixture
def tab(browser: Browser, site: str) -> Iterator[Tab]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    context.route("**/*", _fake_world)
    yield Tab(context.new_page(), site)
    context.close()


def test_page_content_claiming_granted_categories_wakes_nothing(tab: Tab) -> None:
    tab.open("forged")
    assert tab.page.evaluate("window.asgiConsent.granted()") == []
    tab.page.get_by_role("button", name="Reject all").click()
    tab.requested(BARRIER)
    tab.quiet()
    assert tab.offsite() == []
    assert tab.page.evaluate("window.asgiConsent.granted()") == ["necessary"]
    tab.requests.clear()
    tab.open("forged")  # a returning visitor who refused
    tab.requested(BARRIER)
    tab.quiet()
    assert tab.offsite() == []
    assert tab.errors == []


def test_an_element_needing_two_categories_wakes_only_when_both_are_granted(tab: Tab) -> None:
    tab.open("both")
    tab.choose("Analytics")
    tab.requested("/one.gif")
    tab.quiet()
    assert not any("/both.gif" in url for url in tab.requests)
    assert tab.page.locator("#both").get_attribute("src") is None
    tab.requests.clear()
    tab.open("both")  # returning: the same on load
    tab.requested("/one.gif")
    tab.quiet()
    assert not any("/both.gif" in url for url in tab.requests)
    tab.choose("Analytics", "Marketing")
    tab.requested("/both.gif")
    assert tab.page.locator("#both").get_attribute("data-consent-src") is None


def test_every_kind_of_held_back_element_comes_back_after_accept(tab: Tab) -> None:
    tab.open("restore")
    expect(tab.page.locator(".asgi-consent-placeholder")).to_be_visible()
    tab.page.get_by_role("button", name="Accept all").click()
    for part in (
        "/srcset.gif",
        "/embed/restore",
        "/poster.jpg",
        "/v.webm",
        "/picture.gif",
        "/svg-image.png",
        "/svg-script.js",
        "/import.css",
        "/sheet.css",
        "/broken.gif",
        "/srcdoc.gif",
    ):
        tab.requested(part)
    tab.until("window.__svgInline === true && window.__errored === true")
    tab.until("(window.__order || []).length === 2")
    svg = "www.googletagmanager.com/svg-script.js"
    assert tab.page.evaluate("window.__order") == [svg, "www.googletagmanager.com/vanilla.js"]
    assert tab.page.evaluate("window.__afterSvg") == [svg]  # awaited, in order
    assert not any("/nomodule.js" in url for url in tab.requests)
    color = "getComputedStyle(document.getElementById('{}')).color"
    assert tab.page.evaluate(color.format("styled")) == "rgb(1, 2, 3)"
    assert tab.page.evaluate(color.format("handler")) == "rgb(4, 5, 6)"
    expect(tab.page.locator(".asgi-consent-placeholder")).to_have_count(0)
    expect(tab.page.locator("#frame")).to_be_visible()
    tab.page.locator("#handler").click()
    assert tab.page.evaluate("window.__clicked") is True
    assert tab.errors == []


def test_control_attributes_are_never_restored(tab: Tab) -> None:
    tab.open("restore")
    tab.page.get_by_role("button", name="Accept all").click()
    tab.until("document.getElementById('control').hasAttribute('ping')")
    names = tab.page.evaluate(
        "[...document.getElementById('control').attributes].map(a => a.name).sort()"
    )
    assert names == [
        "data-consent",
        "data-consent-form",
        "data-consent-hidden-not",
        "data-consent-placeholder",
        "data-consent-type",
        "id",
        "ping",
    ]


def test_a_placeholder_button_wakes_its_own_embed(tab: Tab) -> None:
    tab.open("restore")
    tab.page.locator(".asgi-consent-placeholder").get_by_role("button").click()
    tab.requested("/embed/restore")
    expect(tab.page.locator("#frame")).to_be_visible()
    assert tab.page.evaluate("window.asgiConsent.granted()") == ["media", "necessary"]
    assert not any("/srcset.gif" in url for url in tab.requests)


def test_a_fragment_after_a_choice_wakes_granted_scripts_in_order_with_their_nonce(
    tab: Tab,
) -> None:
    tab.open("swap")
    tab.choose("Analytics")
    tab.page.evaluate("window.__order = []; window.swap('a')")
    tab.until("window.__order.length === 3")
    assert tab.page.evaluate("window.__order") == [
        "slow",
        "inline after slow",
        "www.googletagmanager.com/gtag/js",
    ]
    tab.requested(BARRIER)
    tab.quiet()
    assert not any("facebook" in url for url in tab.requests)
    assert tab.page.evaluate("window.__noNonce") is None  # the CSP still holds it
    assert tab.errors == []


def test_a_fragment_after_reject_stays_inert(tab: Tab) -> None:
    tab.open("swap")
    tab.page.get_by_role("button", name="Reject all").click()
    expect(tab.page.locator("#asgi-consent-settings")).to_be_visible()
    tab.page.evaluate("window.__order = []; window.swap('r')")
    tab.requested(BARRIER)
    tab.quiet()
    assert tab.offsite() == []
    assert not any("/js/slow" in url for url in tab.requests)
    assert tab.page.evaluate("window.__order") == []


def test_a_fragment_for_a_returning_visitor_wakes_by_the_granted_categories(tab: Tab) -> None:
    tab.open("swap")
    tab.choose("Analytics")
    tab.open("swap")
    tab.page.evaluate("window.__order = []; window.swap('b')")
    tab.until("window.__order.length === 3")
    assert tab.page.evaluate("window.__order")[:2] == ["slow", "inline after slow"]
    assert not any("facebook" in url for url in tab.requests)


def test_a_fragment_before_any_choice_waits_for_the_choice(tab: Tab) -> None:
    tab.open("swap")
    tab.page.evaluate("window.__order = []; window.swap('c')")
    tab.until("document.querySelector('#slot p') !== null")
    tab.quiet()
    assert tab.offsite() == []
    tab.page.get_by_role("button", name="Accept all").click()
    tab.until("window.__order.length === 4")
    assert tab.page.evaluate("window.__order")[:2] == ["slow", "inline after slow"]


def test_the_bars_reserved_space_follows_its_height(tab: Tab) -> None:
    tab.page.set_viewport_size({"width": 1200, "height": 700})
    tab.open("tall")
    height = "document.getElementById('asgi-consent').offsetHeight"
    tab.until(FITS)
    wide = tab.page.evaluate(height)
    tab.page.set_viewport_size({"width": 480, "height": 700})
    tab.until(f"{height} > {wide} && {FITS}")
    tab.page.set_viewport_size({"width": 1200, "height": 700})
    tab.until(f"{height} === {wide} && {FITS}")
    # The preferences open as a dialog above the page: the bar keeps its height.
    tab.page.get_by_text("Manage preferences").click()
    tab.until(f"{height} === {wide} && {FITS}")
    tab.page.locator("dialog[open]").get_by_role("button", name="Accept all").click()
    tab.until("document.documentElement.style.scrollPaddingBottom === ''")


REPLACE_BODY = """async () => {
  const html = await (await fetch(location.href)).text();
  const fresh = new DOMParser().parseFromString(html, "text/html").body;
  document.body.replaceWith(document.adoptNode(fresh));
  for (const old of document.body.querySelectorAll("script")) {  // as Turbo Drive does
    const script = document.createElement("script");
    for (const { name, value } of old.attributes) { script.setAttribute(name, value); }
    script.textContent = old.textContent;
    old.replaceWith(script);
  }
}"""


def test_a_second_copy_of_our_script_hands_over_to_the_first(tab: Tab) -> None:
    tab.open("both")
    tab.page.evaluate("window.__first = window.asgiConsent")
    tab.page.evaluate(REPLACE_BODY)
    tab.until(FITS)  # the new bar is looked after
    posts: list[str] = []
    tab.page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    tab.page.get_by_role("button", name="Accept all").click()
    tab.requested("/both.gif")
    expect(tab.page.locator("#asgi-consent")).to_have_count(0)
    expect(tab.page.locator("#asgi-consent-settings")).to_have_count(1)
    assert len(posts) == 1
    assert tab.page.evaluate("window.__first === window.asgiConsent")
    assert tab.errors == []
