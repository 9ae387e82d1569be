"""`cacheable_html` behind a real shared cache: Debian's nginx with proxy_cache in front of
uvicorn, and Chromium through it. One page for everyone, cache hits for the second and
third visitor, trackers held back until a choice and woken in place after it, a decided
visitor's banner never shown, 304s from the cache and through it."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Route
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route as Path

from asgi_consent import ConsentConfig, ConsentMiddleware
from asgi_consent.cookie import ConsentCodec
from helpers import LoopbackServer
from nginx_proxy import NginxCache

from .conftest import SECRET, Visitor, _fake_network
from .test_partial_updates import LIBRARIES, _missing

pytestmark = pytest.mark.browser

NONCE = "c4ch3dN0nce"
CSP = f"default-src 'self'; script-src 'self' 'nonce-{NONCE}'; style-src 'self'"
ARTICLE = f"""<!doctype html><html><head><meta charset="utf-8"><title>Cached news</title>
<script nonce="{NONCE}">document.documentElement.className = "js";</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-CACHED" nonce="{NONCE}"></script>
<script nonce="{NONCE}">
  window.dataLayer = window.dataLayer || [];
  function gtag(){{dataLayer.push(arguments);}}
  gtag('js', new Date());
  gtag('config', 'G-CACHED');
</script>
</head><body><h1>Cached news</h1><p>The same bytes for every reader.</p></body></html>"""
# What the app saw: requests per path, and the If-None-Match values it was asked with.
upstream: Counter[str] = Counter()
asked: list[str] = []


def _page(max_age: int) -> Any:
    body = ARTICLE.encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'

    async def page(request: Request) -> Response:
        upstream[request.url.path] += 1
        headers = {
            "Cache-Control": f"public, max-age={max_age}",
            "ETag": etag,
            "Content-Security-Policy": CSP,
        }
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            asked.append(if_none_match)
            if etag in if_none_match:
                return Response(status_code=304, headers=headers)
        return HTMLResponse(body, headers=headers)

    return page


# Two pages joined by an hx-boost link (no CSP: htmx would need its nonce configured).
GTAG = '<script async src="https://www.googletagmanager.com/gtag/js?id=G-BOOST"></script>'
BOOSTED = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<script src="/vendor/htmx.js"></script></head><body><h1>{title}</h1>{extra}
<a id="boosted" href="/boost/second" hx-boost="true">Second page</a></body></html>"""


def _boosted(title: str, extra: str = "") -> Any:
    async def page(request: Request) -> Response:
        return HTMLResponse(BOOSTED.format(title=title, extra=extra), headers=CACHING)

    return page


async def _htmx(request: Request) -> Response:
    return Response(LIBRARIES["htmx"].read_bytes(), media_type="text/javascript")


CACHING = {"Cache-Control": "public, max-age=300"}
DEEP = "/a/b/c/d/e/f/g/h"  # nine cookie paths above it: one cookie value too many


def _app() -> ConsentMiddleware:
    routes = [
        Path("/article", _page(300)),
        Path("/short", _page(1)),
        Path("/other", _page(300)),
        Path(DEEP, _page(300)),
        Path("/boost/first", _boosted("First page")),
        Path("/boost/second", _boosted("Second page", GTAG)),
        Path("/vendor/htmx.js", _htmx),
    ]
    return ConsentMiddleware(
        Starlette(routes=routes), secret_key=SECRET, cacheable_html=True, consent_mode=True
    )


@pytest.fixture(scope="module")
def cache() -> Iterator[str]:
    server = LoopbackServer(_app())
    server.start()
    try:
        with NginxCache(server.port) as url:
            yield url
    finally:
        server.stop()


def _choose(http: httpx.Client, choice: str) -> str:
    answer = http.post("/_consent/choice", data={"choice": choice, "next": "/"})
    assert answer.status_code == 303 and answer.headers["cache-control"] == "no-store"
    assert answer.headers.get("x-cache-status") is None  # never looked up in the cache
    return answer.headers["set-cookie"].split(";", 1)[0]


def test_three_visitors_get_the_same_bytes_and_the_second_and_third_are_cache_hits(
    cache: str,
) -> None:
    with httpx.Client(base_url=cache) as http:
        accepted = _choose(http, "accept")
        rejected = _choose(http, "reject")
        answers = [
            http.get("/other"),
            http.get("/other", headers={"Cookie": accepted}),
            http.get("/other", headers={"Cookie": rejected}),
        ]
    assert [a.headers["x-cache-status"] for a in answers] == ["MISS", "HIT", "HIT"]
    assert upstream["/other"] == 1
    assert answers[0].content == answers[1].content == answers[2].content
    assert b"data-consent-banner" in answers[0].content
    assert answers[0].headers.get("vary") == "Host"  # never Cookie: one page for everyone
    assert answers[0].headers["cache-control"] == "public, max-age=300"


def test_an_unchanged_page_is_a_304_from_the_cache(cache: str) -> None:
    with httpx.Client(base_url=cache) as http:
        first = http.get("/article")
        etag = first.headers["etag"]
        again = http.get("/article", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["x-cache-status"] == "HIT"
    assert again.headers["etag"] == etag and again.content == b""


def test_an_expired_page_is_revalidated_with_the_apps_own_etag(cache: str) -> None:
    with httpx.Client(base_url=cache) as http:
        first = http.get("/short")
        time.sleep(2.1)  # max-age=1: stale now (nginx counts whole seconds)
        second = http.get("/short")
    assert second.headers["x-cache-status"] == "REVALIDATED"
    assert asked and asked[-1].startswith('"') and "-ac" not in asked[-1]  # the app's own tag
    assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
    assert upstream["/short"] == 2


# -- in Chromium, through the cache ---------------------------------------------------------

# Records, from before the page's first script, whether a frame was ever about to be
# painted with the banner showing, and how it stood at DOMContentLoaded.
PROBE = """
window.__banner = { shownInFrame: 0, frames: 0, atContentLoaded: null };
const shown = () => {
  const el = document.getElementById("asgi-consent");
  if (!el) { return false; }
  const box = el.getBoundingClientRect();
  return getComputedStyle(el).display !== "none" && box.width > 0 && box.height > 0;
};
const frame = () => {
  window.__banner.frames += 1;
  if (shown()) { window.__banner.shownInFrame += 1; }
  if (window.__banner.frames < 600) { requestAnimationFrame(frame); }
};
requestAnimationFrame(frame);
document.addEventListener("DOMContentLoaded", () => {
  window.__banner.atContentLoaded = shown();
}, { capture: true });
"""


@pytest.fixture
def visitor(browser: Browser, cache: str) -> Iterator[Visitor]:
    context = browser.new_context(viewport={"width": 800, "height": 600})
    context.set_default_timeout(10_000)
    context.route("**/*", _fake_network)
    context.add_init_script(PROBE)
    page = context.new_page()
    visitor = Visitor(page, cache)
    page.on("request", lambda request: visitor.requests.append(request.url))
    yield visitor
    context.close()


def _wait(visitor: Visitor, expression: str) -> None:
    """Poll with evaluate(): wait_for_function evaluates strings, which the CSP forbids."""
    deadline = time.monotonic() + 10
    while not visitor.page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)


def _load(visitor: Visitor, path: str = "/article") -> None:
    visitor.page.goto(visitor.url(path))
    _wait(visitor, "window.asgiConsent !== undefined && document.readyState === 'complete'")


def _consent_default(visitor: Visitor) -> Any:
    """Google Consent Mode's default command, first in the dataLayer."""
    return visitor.page.evaluate("Array.from(window.dataLayer[0])")


def _banner_seen(visitor: Visitor) -> dict[str, Any]:
    seen: dict[str, Any] = visitor.page.evaluate("window.__banner")
    return seen


def test_before_a_choice_no_tracker_request_and_the_banner_shows(visitor: Visitor) -> None:
    _load(visitor)
    assert visitor.tracker_requests() == []
    assert visitor.page.locator("#asgi-consent").is_visible()
    assert _banner_seen(visitor)["atContentLoaded"] is True  # the probe can see a banner
    command, kind, state = _consent_default(visitor)
    assert (command, kind, state["analytics_storage"], state["ad_storage"]) == (
        "consent",
        "default",
        "denied",
        "denied",
    )


def test_accepting_starts_the_trackers_in_place(visitor: Visitor) -> None:
    _load(visitor)
    visitor.page.evaluate("window.__same_page = true")
    visitor.page.locator('#asgi-consent > form [data-choice="accept"]').click()
    _wait(visitor, "window.__fake_ga === 1")
    assert visitor.page.evaluate("window.__same_page") is True  # no reload
    assert any("googletagmanager.com/gtag/js" in url for url in visitor.tracker_requests())
    cookie = visitor.cookie("asgi_consent")
    assert cookie is not None and cookie["httpOnly"] is False


def test_a_decided_visitor_never_sees_the_banner_and_trackers_wake(visitor: Visitor) -> None:
    _load(visitor)
    visitor.page.locator('#asgi-consent > form [data-choice="accept"]').click()
    _wait(visitor, "window.__fake_ga === 1")
    visitor.requests.clear()
    _load(visitor, "/other")  # a cached page, as it was for a visitor without a choice
    _wait(visitor, "window.__fake_ga === 1")
    seen = _banner_seen(visitor)
    assert seen["atContentLoaded"] is False and seen["frames"] > 0
    assert seen["shownInFrame"] == 0
    assert visitor.page.locator("#asgi-consent-settings").is_visible()
    assert visitor.page.evaluate(
        "[...document.querySelectorAll('#asgi-consent-settings input[name=category]')]"
        ".every((box) => box.checked)"
    )
    assert any("googletagmanager.com/gtag/js" in url for url in visitor.tracker_requests())
    _, _, state = _consent_default(visitor)  # from the cookie, on a page cached for everyone
    assert state["analytics_storage"] == state["ad_user_data"] == "granted"


def test_a_decided_visitors_cached_page_shows_their_consent_id(visitor: Visitor) -> None:
    # The settings control of a cached page is everyone's: its consent id comes from the
    # cookie, as the server writes it on a page made for one visitor.
    _load(visitor)
    visitor.page.locator('#asgi-consent > form [data-choice="reject"]').click()
    _wait(visitor, "document.cookie.includes('asgi_consent=')")
    cookie = visitor.cookie("asgi_consent")
    assert cookie is not None
    consent_id = cookie["value"].strip('"').split("~")[3]
    _load(visitor, "/other")
    shown = visitor.page.locator("#asgi-consent-settings .asgi-consent__id")
    assert shown.count() == 1 and shown.locator("code").text_content() == consent_id


def test_rejecting_and_reloading_loads_no_tracker(visitor: Visitor) -> None:
    _load(visitor)
    visitor.page.locator('#asgi-consent > form [data-choice="reject"]').click()
    _wait(visitor, "document.getElementById('asgi-consent') === null")
    visitor.page.reload()
    _wait(visitor, "window.asgiConsent !== undefined && document.readyState === 'complete'")
    assert visitor.tracker_requests() == []
    seen = _banner_seen(visitor)
    assert seen["atContentLoaded"] is False and seen["shownInFrame"] == 0


def _hold_back_consent_js(route: Route) -> None:
    route.fulfill(status=200, content_type="text/javascript", body="")


def _screenshots(visitor: Visitor) -> tuple[bytes, bytes]:
    """The page as painted with consent-cache.js and its CSS only (consent.js held back),
    and the same page with any banner element taken out."""
    visitor.page.context.route("**/_consent/static/consent.*.js", _hold_back_consent_js)
    visitor.page.goto(visitor.url("/other"))
    _wait(visitor, "document.readyState === 'complete'")
    painted = visitor.page.screenshot()
    visitor.page.evaluate("document.getElementById('asgi-consent')?.remove()")
    return painted, visitor.page.screenshot()


def test_before_consent_js_runs_a_decided_visitors_banner_is_not_painted(
    visitor: Visitor,
) -> None:
    with httpx.Client(base_url=visitor.base_url) as http:
        name, value = _choose(http, "reject").split("=", 1)
    visitor.page.context.add_cookies([{"name": name, "value": value, "url": visitor.base_url}])
    painted, without_banner = _screenshots(visitor)
    assert painted == without_banner


def test_the_screenshot_check_sees_an_undecided_visitors_banner(visitor: Visitor) -> None:
    painted, without_banner = _screenshots(visitor)
    assert painted != without_banner


def test_without_javascript_the_form_records_the_choice_and_trackers_stay_inert(
    browser: Browser, cache: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    context.route("**/*", _fake_network)
    page = context.new_page()
    visitor = Visitor(page, cache, javascript=False)
    page.on("request", lambda request: visitor.requests.append(request.url))
    try:
        visitor.goto("/article")
        page.locator('#asgi-consent > form [data-choice="accept"]').click()
        page.wait_for_url(visitor.url("/article"))
        assert visitor.cookie("asgi_consent") is not None  # the choice is kept...
        assert page.locator("#asgi-consent").is_visible()  # ...the cached page asks again
        assert visitor.tracker_requests() == []
    finally:
        context.close()


def test_an_hx_boost_navigation_keeps_a_decided_visitors_banner_away(visitor: Visitor) -> None:
    if not LIBRARIES["htmx"].exists():
        _missing(f"htmx is not installed at {LIBRARIES['htmx']} (run make, which needs npm)")
    with httpx.Client(base_url=visitor.base_url) as http:
        name, value = _choose(http, "accept").split("=", 1)
    visitor.page.context.add_cookies([{"name": name, "value": value, "url": visitor.base_url}])
    _load(visitor, "/boost/first")
    visitor.page.evaluate("window.__same_document = true")
    visitor.page.locator("#boosted").click()
    _wait(visitor, "document.title === 'Second page' && window.__fake_ga === 1")
    assert visitor.page.evaluate("window.__same_document") is True  # swapped, not loaded
    seen = _banner_seen(visitor)
    assert seen["shownInFrame"] == 0 and seen["frames"] > 0
    assert visitor.page.locator("#asgi-consent-settings").count() == 1
    assert visitor.page.locator("#asgi-consent-settings").is_visible()


ASK_HEAD_SCRIPT = """(() => {
  const asked = new CustomEvent("asgi-consent:cached-choice", { detail: {} });
  document.dispatchEvent(asked);
  return asked.detail.granted;
})()"""


def test_the_head_script_reads_the_cookie_as_the_server_does(visitor: Visitor) -> None:
    config = ConsentConfig(secret_key=SECRET, cacheable_html=True)
    codec = ConsentCodec(config)
    sibling = ConsentConfig(secret_key="another-site-on-the-parent-domain", cacheable_html=True)
    everything = codec.encode(("analytics", "marketing", "media"))
    analytics = codec.encode(("analytics",))
    old_revision = ConsentCodec(config.replace(policy_revision=2)).encode(("analytics",))
    expired = ConsentCodec(config, clock=lambda: time.time() - 181 * 86400).encode(("media",))
    cases = [
        ([("/", everything)], ["analytics", "marketing", "media", "necessary"]),
        # Two values (one on a deeper path): only what both grant, as the server reads them.
        ([("/", everything), ("/article", analytics)], ["analytics", "necessary"]),
        ([("/", old_revision)], None),
        ([("/", ConsentCodec(sibling).encode(("analytics",)))], None),  # another site's key
        ([("/", expired)], None),
        ([("/", "c1~1~analytics~id.%%%.sig")], None),
        ([("/", everything)] + [(DEEP[:end], analytics) for end in range(2, 17, 2)], None),
    ]
    context = visitor.page.context
    for values, expected in cases:
        context.clear_cookies()
        context.add_cookies(
            [
                {"name": "asgi_consent", "value": value, "domain": "127.0.0.1", "path": path}
                for path, value in values
            ]
        )
        _load(visitor, DEEP if len(values) > 8 else "/article")
        granted = visitor.page.evaluate(ASK_HEAD_SCRIPT)
        assert (sorted(granted) if granted is not None else None) == expected, values
        with httpx.Client(base_url=visitor.base_url) as http:
            header = "; ".join(f"asgi_consent={value}" for _, value in reversed(values))
            state = http.get("/_consent/status", headers={"Cookie": header}).json()
        assert state["decided"] == (expected is not None)
