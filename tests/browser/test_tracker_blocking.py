"""Tracker blocking in a real browser (issue 3). Every request the page makes is
recorded; tracker hosts are answered by local fakes that leave a mark in `window`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from .conftest import Visitor, is_tracker

pytestmark = pytest.mark.browser

Visit = Callable[..., Visitor]
PAGES = ["/", "/video", "/privacy", "/notice"]
YOUTUBE_EMBED = "https://www.youtube.com/embed/XXXXXXXXXXX"


def test_no_tracker_request_before_a_choice(visit: Visit) -> None:
    visitor = visit()
    for path in PAGES:
        visitor.goto(path)
        expect(visitor.page.locator("#asgi-consent")).to_be_visible()
    assert visitor.tracker_requests() == []
    assert visitor.page.evaluate("window.dataLayer") is None
    assert visitor.page.evaluate("typeof window.fbq") == "undefined"
    expect(visitor.page.locator("#analytics-status")).to_have_text("analytics script: blocked")


def test_no_tracker_request_after_reject_and_reload(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/video")
    visitor.page.get_by_role("button", name="Reject all").click()
    expect(visitor.page.locator("#asgi-consent")).to_have_count(0)

    for path in PAGES:
        visitor.goto(path)
    visitor.reload()

    assert visitor.tracker_requests() == []
    expect(visitor.page.locator("#analytics-status")).to_have_text("analytics script: blocked")


def test_accept_starts_the_trackers_without_a_reload(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/video")
    page = visitor.page
    page.evaluate("window.__same_document = 'still here'")
    assert visitor.tracker_requests() == []

    page.get_by_role("button", name="Accept all").click()

    page.wait_for_function("window.__fake_ga === 1 && window.__fake_fb === 1")
    expect(
        page.frame_locator("iframe[title='YouTube video player']").locator("#fake-youtube")
    ).to_have_text("fake YouTube player")
    expect(page.locator("#analytics-status")).to_have_text(
        "analytics script: ran (events: page_view)"
    )
    assert page.evaluate("window.__same_document") == "still here"
    hosts = {url.split("/")[2] for url in visitor.tracker_requests()}
    assert {"www.googletagmanager.com", "connect.facebook.net", "www.youtube.com"} <= hosts
    # The Meta snippet ran before its library loaded, so its calls were queued for it.
    assert page.evaluate("window.__fb_queue") == ["init", "track"]


def test_accept_runs_the_reactivated_scripts_in_order(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page

    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function(
        "window.__fake_ga === 1 && window.__fake_fb === 1"
        " && (window.__order || []).includes('track:page_view')"
    )

    order = page.evaluate("window.__order")
    # gtag.js is async (as in Google's snippet): the inline config may be queued in
    # dataLayer before it loads or pushed after; either way gtag.js must see it, once.
    config = [step for step in order if step.startswith("gtag:config:G-XXXXXXXXXX")]
    assert len(config) == 1
    assert order.index("gtag.js") < order.index(config[0])
    # analytics-demo.js is not async and the inline call after it needs it: it must
    # have loaded before the inline script ran.
    assert order.index("analytics-demo.js") < order.index("track:page_view")
    assert page.evaluate("window.__fake_ga") == 1  # each script re-created once


def test_after_accept_the_next_page_runs_the_trackers_as_written(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    visitor.page.get_by_role("button", name="Accept all").click()
    visitor.page.wait_for_function("window.__fake_ga === 1")

    visitor.goto("/privacy")

    visitor.page.wait_for_function("window.__fake_ga === 1 && window.__fake_fb === 1")
    expect(visitor.page.locator("#analytics-status")).to_have_attribute("data-status", "ran")
    assert visitor.page.locator('script[type="text/plain"]').count() == 0


def test_the_placeholder_loads_exactly_that_embed(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/video")
    page = visitor.page
    placeholder = page.locator(".asgi-consent-placeholder")
    expect(placeholder).to_contain_text("YouTube")
    expect(page.locator("iframe[title='YouTube video player']")).to_be_hidden()
    assert visitor.tracker_requests() == []

    with page.expect_request(lambda r: r.url.startswith(YOUTUBE_EMBED)):
        placeholder.get_by_role("button", name="Allow and load").click()

    expect(placeholder).to_have_count(0)
    video = page.locator("iframe[title='YouTube video player']")
    expect(video).to_be_visible()
    expect(video).to_have_attribute("src", YOUTUBE_EMBED)
    expect(
        page.frame_locator("iframe[title='YouTube video player']").locator("#fake-youtube")
    ).to_have_text("fake YouTube player")
    assert [url for url in visitor.tracker_requests() if not url.startswith(YOUTUBE_EMBED)] == []
    assert visitor.status()["categories"] == ["media", "necessary"]
    assert page.evaluate("window.__fake_ga") is None
    expect(page.locator("#analytics-status")).to_have_text("analytics script: blocked")


def test_without_javascript_the_noscript_pixel_is_never_requested(visit: Visit) -> None:
    visitor = visit(javascript=False)
    for path in PAGES:
        visitor.goto(path)
        expect(visitor.page.locator("#asgi-consent")).to_be_visible()
    visitor.goto("/video")
    visitor.page.get_by_role("button", name="Reject all").click()
    visitor.page.wait_for_url(visitor.url("/video"))
    for path in PAGES:
        visitor.goto(path)

    assert visitor.tracker_requests() == []


def test_without_javascript_the_noscript_pixel_loads_after_accept(visit: Visit) -> None:
    # The other side of the test above: the pixel is there, and would be seen.
    visitor = visit(javascript=False)
    visitor.goto("/")

    with visitor.page.expect_request(lambda r: "facebook.com/tr" in r.url):
        visitor.page.get_by_role("button", name="Accept all").click()

    assert all("facebook.com/tr" in url for url in visitor.tracker_requests())


def test_is_tracker_knows_the_tracker_hosts() -> None:
    assert is_tracker("https://www.googletagmanager.com/gtag/js?id=G-X")
    assert is_tracker("https://i.ytimg.com/vi/x/hq.jpg")
    assert not is_tracker("http://127.0.0.1:8000/static/analytics-demo.js")
    assert not is_tracker("https://notfacebook.com/")


def test_without_javascript_the_placeholder_form_loads_the_embed(visit: Visit) -> None:
    visitor = visit(javascript=False)
    visitor.goto("/video")
    page = visitor.page

    with page.expect_request(lambda r: r.url.startswith(YOUTUBE_EMBED)):
        page.get_by_role("button", name="Allow and load").click()

    assert page.url == visitor.url("/video")
    expect(page.locator(".asgi-consent-placeholder")).to_have_count(0)
    assert [url for url in visitor.tracker_requests() if not url.startswith(YOUTUBE_EMBED)] == []
