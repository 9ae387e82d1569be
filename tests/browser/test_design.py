"""Issue 11, points 10 to 15, seen in Chromium: a placeholder's grant leaves the banner's
question open; placeholders keep the iframe's size; the no-JavaScript preferences page;
the compact bar; the preferences dialog; the `color_scheme` option."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from asgi_consent import ConsentMiddleware

from .conftest import SECRET, Visitor, _fake_network, _ServerThread

pytestmark = pytest.mark.browser

Visit = Callable[..., Visitor]
BANNER = "#asgi-consent"
DIALOG = "#asgi-consent-preferences"
YOUTUBE = "https://www.youtube.com/embed/M7lc1UVf-VE"

_HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    # A responsive site: its iframes shrink with the page and keep their ratio.
    "<style>body{margin:1rem;font-family:sans-serif}"
    "iframe{border:0;max-width:100%;height:auto;aspect-ratio:560/315}"
    "iframe.fluid{aspect-ratio:auto;height:400px}</style>"
    "<title>Design</title></head><body><main>"
)
_TAIL = '<p id="after">The text after the video.</p></main></body></html>'
PAGES = {
    "/": "<h1>Example news</h1><p>A short article.</p>",
    "/sized": f'<h1>A video</h1><iframe width="560" height="315" src="{YOUTUBE}"'
    ' title="YouTube video player"></iframe>',
    "/fluid": f'<h1>A map</h1><iframe class="fluid" width="100%" height="400" src="{YOUTUBE}"'
    ' title="YouTube video player"></iframe>',
}


def _app(**options: Any) -> ConsentMiddleware:
    def page(request: Request) -> HTMLResponse:
        return HTMLResponse(_HEAD + PAGES[request.url.path] + _TAIL)

    routes = [Route(path, page) for path in PAGES]
    return ConsentMiddleware(
        Starlette(routes=routes), secret_key=SECRET, policy_url="/privacy", **options
    )


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, str]]:
    """One server per colour scheme (the default is light)."""
    servers = {
        scheme: _ServerThread(_app(**({} if scheme == "default" else {"color_scheme": scheme})))
        for scheme in ("default", "dark", "system")
    }
    for server in servers.values():
        server.start()
    try:
        yield {scheme: f"http://127.0.0.1:{s.port}" for scheme, s in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    contexts = []

    def opened(url: str, **options: Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 720})
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.route("**/*", _fake_network)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.asgiConsent !== undefined")
        page.evaluate("Promise.all(document.getAnimations().map((a) => a.finished))")
        return page

    yield opened
    for context in contexts:
        context.close()


def box(page: Page, selector: str) -> tuple[float, float, float, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, selector
    return (found["x"], found["y"], found["width"], found["height"])


def close_to(a: tuple[float, ...], b: tuple[float, ...], within: float = 1.0) -> bool:
    return all(abs(x - y) <= within for x, y in zip(a, b, strict=True))


# -- 10: "Allow and load" grants one category; the banner keeps asking --------------------


def test_allow_and_load_grants_only_that_category_and_the_banner_keeps_asking(
    visit: Visit,
) -> None:
    visitor = visit()
    visitor.goto("/video")
    page = visitor.page

    with page.expect_request(lambda r: r.url.startswith("https://www.youtube.com/embed/")):
        page.get_by_role("button", name="Allow and load").click()

    expect(page.locator("iframe[title='YouTube video player']")).to_be_visible()
    expect(page.locator(BANNER)).to_be_visible()  # the question is still open
    state = visitor.status()
    assert (state["decided"], state["categories"]) == (False, ["media", "necessary"])
    assert page.evaluate("window.__fake_ga") is None

    visitor.goto("/privacy")  # the next page asks again, and shows what was granted
    expect(page.locator(BANNER)).to_be_visible()
    page.locator(f"{BANNER} > form [data-consent-open]").click()
    expect(page.locator(DIALOG).get_by_label("External content")).to_be_checked()
    expect(page.locator(DIALOG).get_by_label("Analytics")).not_to_be_checked()

    page.locator(DIALOG).get_by_role("button", name="Reject all").click()  # the answer
    expect(page.locator(BANNER)).to_have_count(0)
    state = visitor.status()
    assert (state["decided"], state["categories"]) == (True, ["necessary"])


def test_allow_and_load_without_javascript_also_leaves_the_banner(visit: Visit) -> None:
    visitor = visit(javascript=False)
    visitor.goto("/video")
    page = visitor.page

    with page.expect_request(lambda r: r.url.startswith("https://www.youtube.com/embed/")):
        page.get_by_role("button", name="Allow and load").click()

    assert page.url == visitor.url("/video")
    expect(page.locator(BANNER)).to_be_visible()
    assert visitor.status()["decided"] is False


# -- 11: the placeholder keeps the iframe's size --------------------------------------------


@pytest.mark.parametrize(
    ("path", "width"), [("/sized", 1280), ("/sized", 360), ("/fluid", 1280), ("/fluid", 360)]
)
def test_the_placeholder_is_as_large_as_the_iframe_and_nothing_moves_when_it_loads(
    sites: dict[str, str], open_page: Callable[..., Page], path: str, width: int
) -> None:
    page = open_page(sites["default"] + path, viewport={"width": width, "height": 900})
    placeholder = box(page, ".asgi-consent-placeholder")
    after = box(page, "#after")
    main = box(page, "main")
    if path == "/sized":
        expected_width = min(560, main[2])
        assert close_to(placeholder[2:], (expected_width, expected_width * 315 / 560))
    else:
        assert close_to(placeholder[2:], (main[2], 400))

    page.get_by_role("button", name="Allow and load").click()
    page.locator("iframe[title='YouTube video player']").wait_for(state="visible")

    assert close_to(box(page, "iframe[title='YouTube video player']"), placeholder)
    assert close_to(box(page, "#after"), after)


# -- 12: the preferences page without JavaScript ------------------------------------------


def test_the_preferences_page_has_one_heading_a_way_back_and_no_withdraw_before_a_choice(
    visit: Visit,
) -> None:
    visitor = visit(javascript=False)
    visitor.goto("/_consent/preferences?next=/privacy")
    page = visitor.page

    expect(page.get_by_role("heading", name="Cookie preferences")).to_have_count(1)
    expect(page.locator("legend, details, summary")).to_have_count(0)
    expect(page.get_by_text("Manage preferences")).to_have_count(0)
    expect(page.get_by_role("button", name="Withdraw consent")).to_have_count(0)
    expect(page.get_by_role("switch")).to_have_count(4)

    page.get_by_role("link", name="Back to the site").click()
    page.wait_for_url(visitor.url("/privacy"))

    visitor.goto("/_consent/preferences?next=/privacy")
    page.get_by_role("button", name="Reject all").click()
    page.wait_for_url(visitor.url("/privacy"))
    visitor.goto("/_consent/preferences")
    expect(page.get_by_role("button", name="Withdraw consent")).to_be_visible()


def test_the_way_back_never_leaves_the_site(visit: Visit) -> None:
    visitor = visit(javascript=False)
    visitor.goto("/_consent/preferences?next=https://evil.example/")
    link = visitor.page.get_by_role("link", name="Back to the site")
    expect(link).to_have_attribute("href", "/")


# -- 13: the compact bar ----------------------------------------------------------------------

_LOOK = """(el) => {
  const s = getComputedStyle(el);
  return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderRadius, s.padding];
}"""


@pytest.mark.parametrize("language", ["en", "de", "ar"])
def test_the_bar_is_compact_and_accept_and_reject_are_twins_sized_to_their_labels(
    sites: dict[str, str], open_page: Callable[..., Page], language: str
) -> None:
    page = open_page(
        sites["default"] + "/", locale=language, extra_http_headers={"Accept-Language": language}
    )
    reject = page.locator(f"{BANNER} > form [data-choice=reject]")
    accept = page.locator(f"{BANNER} > form [data-choice=accept]")
    reject_box, accept_box = (
        box(page, f"{BANNER} > form [data-choice=reject]"),
        box(page, f"{BANNER} > form [data-choice=accept]"),
    )
    assert reject_box[2:] == accept_box[2:]  # same width and height
    assert reject.evaluate(_LOOK) == accept.evaluate(_LOOK)
    assert reject_box[1] == accept_box[1]  # side by side
    # Sized to the wider label, not stretched across the bar (they were ~500 px each).
    widest = max(el.evaluate("el => el.scrollWidth") for el in (reject, accept))
    assert widest <= reject_box[2] < 260
    assert box(page, BANNER)[3] < 180  # the bar was 215 px high; vanilla's is 185


# -- 14: the preferences dialog ---------------------------------------------------------------


@pytest.mark.parametrize("viewport", [(1280, 720), (320, 480)])
def test_the_preferences_are_a_modal_dialog_with_switches_a_close_button_and_save_in_view(
    sites: dict[str, str], open_page: Callable[..., Page], viewport: tuple[int, int]
) -> None:
    width, height = viewport
    page = open_page(sites["default"] + "/", viewport={"width": width, "height": height})
    trigger = page.locator(f"{BANNER} > form [data-consent-open]")
    trigger.click()
    dialog = page.locator(DIALOG)
    assert dialog.evaluate("el => el.matches(':modal')")
    switches = dialog.get_by_role("switch")
    expect(switches).to_have_count(4)
    assert switches.evaluate_all("els => els.every((el) => el.type === 'checkbox')")
    save = dialog.get_by_role("button", name="Save my choices")
    x, y, w, h = box(page, f"{DIALOG} [data-choice=save]")
    assert 0 <= y and y + h <= height and 0 <= x and x + w <= width  # never cut off
    on_top = "(el) => { const r = el.getBoundingClientRect();"
    on_top += " return el.contains(document.elementFromPoint(r.x + r.width / 2, r.y + 2)); }"
    assert save.evaluate(on_top)

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).not_to_have_attribute("open", "")
    expect(trigger).to_be_focused()

    trigger.click()
    page.keyboard.press("Escape")
    expect(dialog).not_to_have_attribute("open", "")

    trigger.click()
    dialog.get_by_text("Analytics", exact=True).click()  # the label toggles the switch
    save.click()
    expect(page.locator(BANNER)).to_have_count(0)
    state = page.request.get(sites["default"] + "/_consent/status").json()
    assert state["categories"] == ["analytics", "necessary"]


# -- 15: color_scheme -------------------------------------------------------------------------

WHITE = "rgb(255, 255, 255)"
_BACKGROUND = "(el) => getComputedStyle(el).backgroundColor"


@pytest.mark.parametrize(
    ("scheme", "system", "light"),
    [
        ("default", "dark", True),  # a dark system does not darken a light site's banner
        ("dark", "light", False),
        ("system", "light", True),
        ("system", "dark", False),
    ],
)
def test_color_scheme_decides_the_banner_and_placeholder_colours(
    sites: dict[str, str],
    open_page: Callable[..., Page],
    scheme: str,
    system: str,
    light: bool,
) -> None:
    page = open_page(sites[scheme] + "/sized", color_scheme=system)
    for selector in (BANNER, ".asgi-consent-placeholder"):
        background = page.locator(selector).evaluate(_BACKGROUND)
        assert (background in (WHITE, "rgb(243, 245, 247)")) == light, (selector, background)
