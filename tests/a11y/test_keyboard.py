"""Keyboard only: reach, activate and leave every control the middleware adds, see
where focus is, and use it all at 320 px wide and at 200 % zoom."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

OpenPage = Callable[..., Page]
Site = Callable[..., str]

# A short name for the focused element: what a keyboard user would call it.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return "body"; }
  if (el.matches(".asgi-consent__policy")) { return "policy"; }
  if (el.matches("#asgi-consent > form [data-consent-open]")) { return "preferences"; }
  if (el.matches("#asgi-consent-settings > [data-consent-open]")) { return "settings"; }
  if (el.matches("[data-consent-close]")) { return "close"; }
  if (el.matches("input[type=checkbox]")) { return "category:" + el.value; }
  return el.dataset.choice || el.id || el.tagName.toLowerCase();
}"""
_IN_BANNER = "() => Boolean(document.activeElement.closest('#asgi-consent'))"
# Whether an element is wholly inside the viewport and on top at its centre.
_FULLY_VISIBLE = """(el) => {
  const r = el.getBoundingClientRect();
  const inside = r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
    && r.right <= window.innerWidth + 0.5 && r.bottom <= window.innerHeight + 0.5;
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return inside && Boolean(top) && (top === el || el.contains(top));
}"""


def focused(page: Page) -> str:
    name: str = page.evaluate(_FOCUSED)
    return name


def press_until(page: Page, key: str, target: str, limit: int = 20) -> list[str]:
    """Press `key` until `target` has focus; return every stop on the way."""
    stops = []
    for _ in range(limit):
        page.keyboard.press(key)
        stops.append(focused(page))
        if stops[-1] == target:
            return stops
    raise AssertionError(f"{key} never reached {target}; stops: {stops}")


def status(page: Page, base: str) -> dict[str, Any]:
    state: dict[str, Any] = page.request.get(base + "/_consent/status").json()
    return state


def consent_cookie(page: Page) -> list[dict[str, Any]]:
    return [dict(c) for c in page.context.cookies() if c["name"] == "asgi_consent"]


def choose_by_request(page: Page, base: str, choice: str) -> None:
    response = page.request.post(
        base + "/_consent/choice", form={"choice": choice}, headers={"Origin": base}
    )
    assert response.ok, response.status


# -- order, activation, visible focus ---------------------------------------------------


@pytest.mark.parametrize(("position", "language"), [("bottom", "en"), ("corner", "ar")])
def test_tab_reaches_the_banner_controls_in_reading_order(
    site: Site, new_page: OpenPage, position: str, language: str
) -> None:
    page = new_page(language)
    page.goto(site(position=position) + "/")
    stops = press_until(page, "Tab", "preferences")
    assert stops[: stops.index("policy")] == ["page-link", "page-button", "settings-link"]
    assert stops[stops.index("policy") :] == ["policy", "reject", "accept", "preferences"]
    # Reject comes first in reading order: left of accept, or right of it in Arabic.
    reject = page.locator("#asgi-consent > form [data-choice=reject]").bounding_box()
    accept = page.locator("#asgi-consent > form [data-choice=accept]").bounding_box()
    assert reject and accept
    assert (reject["x"] > accept["x"]) == (language == "ar")
    assert (reject["width"], reject["height"]) == (accept["width"], accept["height"])


def test_enter_opens_the_preferences_and_tab_walks_the_switches(
    site: Site, new_page: OpenPage
) -> None:
    page = new_page()
    base = site(position="bottom")
    page.goto(base + "/")
    press_until(page, "Tab", "preferences")
    page.keyboard.press("Enter")
    assert page.locator("#asgi-consent-preferences").get_attribute("open") == ""
    # Focus lands on the first switch: "necessary" is locked (disabled), so it is skipped.
    assert focused(page) == "category:analytics"
    stops = press_until(page, "Tab", "save")
    assert stops == ["category:marketing", "category:media", "reject", "accept", "save"]
    press_until(page, "Shift+Tab", "category:analytics")
    page.keyboard.press("Space")
    press_until(page, "Tab", "save")
    page.keyboard.press("Enter")
    page.locator("#asgi-consent").wait_for(state="detached")
    assert status(page, base)["categories"] == ["analytics", "necessary"]


@pytest.mark.parametrize(("key", "choice"), [("Enter", "reject"), ("Space", "accept")])
def test_enter_and_space_activate_the_choice_buttons(
    site: Site, new_page: OpenPage, key: str, choice: str
) -> None:
    page = new_page()
    base = site(position="bottom")
    page.goto(base + "/")
    press_until(page, "Tab", choice)
    page.keyboard.press(key)
    page.locator("#asgi-consent").wait_for(state="detached")
    assert consent_cookie(page), "no consent cookie after the choice"
    state = status(page, base)
    assert state["decided"] is True
    expected = ["necessary"] if choice == "reject" else ["analytics", "marketing", "media"]
    assert all(c in state["categories"] for c in expected)
    page.reload()
    assert page.locator("#asgi-consent").count() == 0


def _focus_ring(page: Page) -> dict[str, Any]:
    ring: dict[str, Any] = page.evaluate(
        """() => {
          const el = document.activeElement;
          const s = getComputedStyle(el);
          return {visible: el.matches(":focus-visible"), style: s.outlineStyle,
                  width: parseFloat(s.outlineWidth)};
        }"""
    )
    return ring


def test_focus_is_visible_on_every_banner_control(site: Site, new_page: OpenPage) -> None:
    page = new_page()
    page.goto(site(position="corner") + "/")
    press_until(page, "Tab", "policy")
    rings = {}
    for _ in range(12):
        name = focused(page)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            rings[f"{name} {scheme}"] = _focus_ring(page)
        if name == "save":
            break
        if name == "preferences":
            page.keyboard.press("Enter")
        page.keyboard.press("Tab")
    names = {key.split()[0] for key in rings}
    assert names >= {"policy", "reject", "accept", "preferences", "category:media", "save"}
    for key, ring in rings.items():
        assert ring["visible"] and ring["style"] != "none" and ring["width"] >= 2, (key, ring)


def test_focus_is_visible_on_the_placeholder_button(site: Site, new_page: OpenPage) -> None:
    page = new_page()
    base = site(position="bottom")
    choose_by_request(page, base, "reject")
    page.goto(base + "/video")
    stops = press_until(page, "Tab", "button")
    assert stops[0] == "button", stops  # the placeholder comes first, where the video was
    ring = _focus_ring(page)
    assert ring["visible"] and ring["style"] != "none" and ring["width"] >= 2, ring


# -- the settings control after a choice ------------------------------------------------


def test_settings_control_opens_with_enter_and_closes_with_escape(
    site: Site, new_page: OpenPage
) -> None:
    page = new_page()
    base = site(position="bottom")
    choose_by_request(page, base, "reject")
    page.goto(base + "/")
    dialog = page.locator("#asgi-consent-settings dialog")
    press_until(page, "Tab", "settings")
    assert _focus_ring(page)["style"] != "none"
    page.keyboard.press("Enter")
    assert dialog.get_attribute("open") == ""
    assert page.locator("#asgi-consent-settings fieldset").is_visible()
    assert focused(page) == "category:analytics"
    page.keyboard.press("Escape")
    assert dialog.get_attribute("open") is None
    assert focused(page) == "settings"
    # The close button closes it too, and focus goes back to the control.
    page.keyboard.press("Enter")
    press_until(page, "Shift+Tab", "close")
    page.keyboard.press("Enter")
    assert dialog.get_attribute("open") is None
    assert focused(page) == "settings"
    assert status(page, base)["categories"] == ["necessary"]  # nothing changed


# -- the modal position ---------------------------------------------------------------


def test_modal_moves_focus_into_the_dialog_on_load(site: Site, new_page: OpenPage) -> None:
    page = new_page()
    page.goto(site(position="modal") + "/")
    dialog = page.locator("#asgi-consent")
    assert dialog.get_attribute("role") == "dialog"
    assert dialog.get_attribute("aria-modal") == "true"
    assert page.evaluate(_IN_BANNER), focused(page)


def test_modal_tab_stays_inside_the_dialog(site: Site, new_page: OpenPage) -> None:
    page = new_page()
    page.goto(site(position="modal") + "/")
    stops = []
    for _ in range(9):
        page.keyboard.press("Tab")
        stops.append(focused(page))
        assert page.evaluate(_IN_BANNER), f"Tab left the dialog: {stops}"
    # focus starts on the dialog's heading: the first Tab reaches its first control
    assert stops[:5] == ["policy", "reject", "accept", "preferences", "policy"]


def test_modal_shift_tab_stays_inside_the_dialog(site: Site, new_page: OpenPage) -> None:
    page = new_page()
    page.goto(site(position="modal") + "/")
    stops = []
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        stops.append(focused(page))
        assert page.evaluate(_IN_BANNER), f"Shift+Tab left the dialog: {stops}"
    assert stops[:4] == ["preferences", "accept", "reject", "policy"]


def test_modal_trap_holds_while_the_preferences_are_open(site: Site, new_page: OpenPage) -> None:
    page = new_page()
    page.goto(site(position="modal") + "/")
    press_until(page, "Tab", "preferences")
    page.keyboard.press("Enter")
    # The preferences dialog keeps focus in itself: from Save round to its close button.
    stops = press_until(page, "Tab", "category:analytics")
    assert stops[-3:] == ["save", "close", "category:analytics"]
    press_until(page, "Shift+Tab", "close")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "save"
    assert page.evaluate(_IN_BANNER)


def test_escape_closes_the_modal_without_recording_a_choice(site: Site, new_page: OpenPage) -> None:
    page = new_page()
    base = site(position="modal")
    page.goto(base + "/")
    assert page.evaluate(_IN_BANNER)
    page.keyboard.press("Escape")
    assert page.locator("#asgi-consent").is_hidden()
    assert consent_cookie(page) == []
    assert status(page, base)["decided"] is False
    # Focus goes back where it was before the dialog took it: the document.
    assert focused(page) == "body"
    page.keyboard.press("Tab")
    assert not page.evaluate(_IN_BANNER)
    page.reload()
    assert page.locator("#asgi-consent").is_visible()  # no choice: asked again


def test_cookie_settings_link_reopens_the_modal_and_escape_returns_focus_to_it(
    site: Site, new_page: OpenPage
) -> None:
    page = new_page()
    page.goto(site(position="modal") + "/")
    page.keyboard.press("Escape")
    page.locator("#settings-link").focus()
    page.keyboard.press("Enter")
    # The preferences dialog opens; the modal banner is no longer hidden behind it.
    assert page.locator("#asgi-consent-preferences").is_visible()
    assert page.locator("#asgi-consent").get_attribute("hidden") is None
    assert page.evaluate(_IN_BANNER), focused(page)
    page.keyboard.press("Escape")
    assert focused(page) == "settings-link"
    assert page.locator("#asgi-consent").is_visible()


# -- motion, narrow screens, zoom -----------------------------------------------------


@pytest.mark.parametrize("position", ["bottom", "corner"])
def test_reduced_motion_turns_the_banner_animation_off(
    site: Site, new_page: OpenPage, position: str
) -> None:
    page = new_page(reduced_motion="reduce")
    page.goto(site(position=position) + "/")
    names = {}
    for motion in ("reduce", "no-preference"):
        page.emulate_media(reduced_motion=motion)
        names[motion] = page.eval_on_selector(
            "#asgi-consent", "el => getComputedStyle(el).animationName"
        )
    assert names == {"reduce": "none", "no-preference": "asgi-consent-in"}


def assert_usable(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    controls = ["reject", "accept", "preferences"]
    for name in controls[:2]:
        button = page.locator(f"#asgi-consent > form [data-choice={name}]")
        assert button.evaluate(_FULLY_VISIBLE), f"{name} not fully visible on load"
    # Every control, and Save once the preferences are open, can be reached and seen.
    press_until(page, "Tab", "policy", limit=40)
    for name in controls:
        press_until(page, "Tab", name)
        assert page.evaluate(f"({_FULLY_VISIBLE})(document.activeElement)"), name
    page.keyboard.press("Enter")
    press_until(page, "Tab", "save")
    assert page.evaluate(f"({_FULLY_VISIBLE})(document.activeElement)"), "save"
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("position", ["bottom", "corner", "modal"])
def test_usable_at_320_px_wide(site: Site, new_page: OpenPage, position: str) -> None:
    # German: the longest texts of the built-in languages we test.
    page = new_page("de", viewport={"width": 320, "height": 568})
    page.goto(site(position=position) + "/")
    assert_usable(page, 320)


@pytest.mark.parametrize("position", ["bottom", "corner", "modal"])
def test_usable_at_200_percent_zoom(site: Site, new_page: OpenPage, position: str) -> None:
    # A 1280 x 800 window at 200 %: a 640 x 400 CSS viewport drawn at twice the pixels.
    page = new_page("de", viewport={"width": 640, "height": 400}, device_scale_factor=2)
    page.goto(site(position=position) + "/")
    assert_usable(page, 640)
