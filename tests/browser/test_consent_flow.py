"""The consent flow in a real browser (issue 2): accept, reject and a selection, with and
without JavaScript; the settings control and withdraw; the classic notice; the keyboard."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from .conftest import Visitor

pytestmark = pytest.mark.browser

Visit = Callable[..., Visitor]
BANNER = "#asgi-consent[data-consent-banner]"
SETTINGS = "#asgi-consent-settings"


def test_accept_with_javascript_removes_the_banner_without_a_reload(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page
    expect(page.locator(BANNER)).to_be_visible()
    page.evaluate("window.__same_document = 'still here'")

    page.get_by_role("button", name="Accept all").click()

    expect(page.locator(BANNER)).to_have_count(0)
    assert page.evaluate("window.__same_document") == "still here"
    assert visitor.cookie("asgi_consent") is not None
    visitor.reload()
    expect(page.locator(BANNER)).to_have_count(0)
    assert page.evaluate("window.__same_document") is None


def test_accept_without_javascript_posts_the_form_and_comes_back(visit: Visit) -> None:
    visitor = visit(javascript=False)
    visitor.goto("/video")
    page = visitor.page
    expect(page.locator(BANNER)).to_be_visible()

    with page.expect_response(lambda r: r.url.endswith("/_consent/choice")) as answer:
        page.get_by_role("button", name="Accept all").click()
    page.wait_for_url(visitor.url("/video"))

    assert answer.value.status == 303
    assert answer.value.headers["location"] == "/video"
    expect(page.locator(BANNER)).to_have_count(0)
    assert visitor.cookie("asgi_consent") is not None
    assert visitor.status()["categories"] == ["analytics", "marketing", "media", "necessary"]


def test_reject_without_javascript_posts_the_form_and_comes_back(visit: Visit) -> None:
    visitor = visit(javascript=False)
    visitor.goto("/privacy")
    page = visitor.page

    page.get_by_role("button", name="Reject all").click()
    page.wait_for_url(visitor.url("/privacy"))

    expect(page.locator(BANNER)).to_have_count(0)
    assert visitor.status()["categories"] == ["necessary"]


def test_reject_with_javascript_records_only_necessary(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page
    page.evaluate("window.__same_document = 'still here'")

    page.get_by_role("button", name="Reject all").click()

    expect(page.locator(BANNER)).to_have_count(0)
    assert page.evaluate("window.__same_document") == "still here"
    status = visitor.status()
    assert status["decided"] is True
    assert status["categories"] == ["necessary"]
    expect(page.locator("#analytics-status")).to_have_text("analytics script: blocked")
    visitor.reload()
    expect(page.locator(BANNER)).to_have_count(0)


def test_saving_analytics_only_activates_only_analytics(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/video")
    page = visitor.page

    page.get_by_text("Manage preferences").click()
    page.locator(BANNER).get_by_label("Analytics").check()
    page.get_by_role("button", name="Save my choices").click()

    expect(page.locator(BANNER)).to_have_count(0)
    expect(page.locator("#analytics-status")).to_have_attribute("data-status", "ran")
    page.wait_for_function("window.__fake_ga === 1")
    assert visitor.status()["categories"] == ["analytics", "necessary"]
    assert page.evaluate("window.__fake_fb") is None
    assert page.evaluate("typeof window.fbq") == "undefined"
    expect(page.locator(".asgi-consent-placeholder")).to_be_visible()
    assert not [url for url in visitor.tracker_requests() if "googletagmanager" not in url]


def test_the_cookie_settings_link_opens_the_preferences_in_place(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page

    page.locator("nav").get_by_role("link", name="Cookie settings").click()

    assert page.url == visitor.url("/")
    expect(page.locator(f"{BANNER} dialog")).to_have_attribute("open", "")
    expect(page.locator(BANNER).get_by_label("Analytics")).to_be_focused()


def test_the_cookie_settings_link_without_javascript_is_a_page(visit: Visit) -> None:
    visitor = visit(javascript=False)
    visitor.goto("/")
    page = visitor.page

    page.locator("nav").get_by_role("link", name="Cookie settings").click()

    page.wait_for_url(visitor.url("/_consent/preferences"))
    expect(page.get_by_role("button", name="Save my choices")).to_be_visible()


def test_the_settings_control_appears_after_a_choice_and_withdraw_brings_the_banner_back(
    visit: Visit,
) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page
    expect(page.locator(SETTINGS)).to_have_count(0)

    page.get_by_role("button", name="Accept all").click()
    settings = page.locator(SETTINGS)
    expect(settings).to_be_visible()
    settings.locator(":scope > [data-consent-open]").click()
    # Withdrawing takes categories back from a running page: consent.js reloads it.
    with page.expect_navigation():
        settings.get_by_role("button", name="Withdraw consent").click()
    visitor.wait_until_ready()

    expect(page.locator(BANNER)).to_be_visible()
    expect(page.locator(SETTINGS)).to_have_count(0)
    assert visitor.cookie("asgi_consent") is None
    assert visitor.status()["decided"] is False


def test_the_settings_control_is_on_the_next_page_after_a_choice(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    visitor.page.get_by_role("button", name="Reject all").click()
    expect(visitor.page.locator(BANNER)).to_have_count(0)

    visitor.goto("/privacy")

    expect(visitor.page.locator(SETTINGS)).to_be_visible()
    expect(visitor.page.locator(BANNER)).to_have_count(0)


def test_the_notice_path_has_one_button_and_a_20_day_choice(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/notice")
    page = visitor.page
    banner = page.locator(BANNER)
    expect(banner).to_contain_text("Bullion Bite uses cookies to enhance your experience.")
    expect(banner.get_by_role("link", name="How We Use Cookies?")).to_have_attribute(
        "href", "/privacy"
    )
    expect(banner.get_by_role("button")).to_have_count(1)
    expect(banner.get_by_role("button")).to_have_text("Ok, Go it!")

    banner.get_by_role("button", name="Ok, Go it!").click()

    expect(page.locator(BANNER)).to_have_count(0)
    cookie = visitor.cookie("asgi_consent_notice")
    assert cookie is not None
    days_left = (cookie["expires"] - time.time()) / 86400
    assert 19.9 < days_left <= 20.0
    page.wait_for_function("window.__fake_ga === 1 && window.__fake_fb === 1")
    visitor.reload()
    expect(page.locator(BANNER)).to_have_count(0)


def _focused(visitor: Visitor) -> str:
    return str(
        visitor.page.evaluate(
            "(() => { const el = document.activeElement;"
            " return el.getAttribute('data-choice') || el.tagName.toLowerCase(); })()"
        )
    )


def test_the_keyboard_reaches_every_choice_and_enter_activates(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page
    for _ in range(60):
        page.keyboard.press("Tab")
        if _focused(visitor) == "reject":
            break
    else:
        pytest.fail("Tab never reached the reject button")
    page.keyboard.press("Tab")
    assert _focused(visitor) == "accept"
    page.keyboard.press("Tab")
    assert _focused(visitor) == "a"
    expect(page.locator(":focus")).to_have_text("Manage preferences")

    page.keyboard.press("Shift+Tab")
    assert _focused(visitor) == "accept"
    page.keyboard.press("Enter")

    expect(page.locator(BANNER)).to_have_count(0)
    assert visitor.status()["categories"] == ["analytics", "marketing", "media", "necessary"]


def test_enter_on_manage_preferences_opens_them(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page
    page.locator(f"{BANNER} > form [data-consent-open]").focus()

    page.keyboard.press("Enter")

    expect(page.locator(f"{BANNER} dialog")).to_have_attribute("open", "")
    expect(page.locator(BANNER).get_by_label("Analytics")).to_be_focused()


def test_changing_from_reject_to_accept_in_the_settings_needs_no_reload(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page
    page.evaluate("window.__same_document = 'still here'")
    page.get_by_role("button", name="Reject all").click()
    settings = page.locator(SETTINGS)
    expect(settings).to_be_visible()

    page.locator("nav").get_by_role("link", name="Cookie settings").click()
    expect(settings.locator("dialog")).to_have_attribute("open", "")
    settings.get_by_role("button", name="Accept all").click()

    page.wait_for_function("window.__fake_ga === 1 && window.__fake_fb === 1")
    expect(page.locator("#analytics-status")).to_have_attribute("data-status", "ran")
    assert page.evaluate("window.__same_document") == "still here"
    assert visitor.status()["categories"] == ["analytics", "marketing", "media", "necessary"]


def test_withdraw_after_reject_brings_the_banner_back(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page
    page.get_by_role("button", name="Reject all").click()
    settings = page.locator(SETTINGS)
    settings.locator(":scope > [data-consent-open]").click()

    settings.get_by_role("button", name="Withdraw consent").click()

    expect(settings).to_have_count(0)  # the endpoint has answered
    assert visitor.status()["decided"] is False
    expect(page.locator(BANNER)).to_be_visible()


def test_taking_a_category_back_after_a_change_in_the_same_page_reloads_it(
    visit: Visit,
) -> None:
    visitor = visit()
    visitor.goto("/")
    page = visitor.page
    page.get_by_role("button", name="Reject all").click()
    settings = page.locator(SETTINGS)
    expect(settings).to_be_visible()
    settings.locator(":scope > [data-consent-open]").click()
    settings.get_by_role("button", name="Accept all").click()  # grants in place
    page.wait_for_function("window.__fake_ga === 1")
    page.evaluate("window.__same_document = 'still here'")

    # The second change in the same page takes analytics back: only a reload stops it.
    settings = page.locator(SETTINGS)
    settings.locator(":scope > [data-consent-open]").click()
    settings.get_by_label("Analytics").uncheck()
    settings.get_by_role("button", name="Save my choices").click()

    page.wait_for_function("window.__same_document === undefined")
    visitor.wait_until_ready()
    expect(page.locator("#analytics-status")).to_have_text("analytics script: blocked")
    assert visitor.status()["categories"] == ["marketing", "media", "necessary"]
