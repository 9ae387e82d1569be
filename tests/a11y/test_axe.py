"""axe-core (all rules) finds nothing on anything the middleware puts into a page.

Each test checks one view in the light and in the dark colour scheme on the same
page, so axe is injected once per view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

POSITIONS = ("bottom", "corner", "modal")
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")
Check = Callable[..., dict[str, Any]]


def check_both_schemes(
    page: Page, assert_axe_clean: Check, scenario: str, disable: tuple[str, ...] = ()
) -> None:
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        results = assert_axe_clean(page, disable)
        print(
            f"\naxe-core {results['version']} | {scenario} | {scheme} | "
            f"violations {len(results['violations'])} | incomplete {len(results['incomplete'])}"
        )


def accept_all(page: Page) -> None:
    page.locator("#asgi-consent > form [data-choice=accept]").click()
    page.locator("#asgi-consent-settings").wait_for()


def open_settings_control(page: Page) -> None:
    accept_all(page)
    page.reload()  # the control as the server renders it on every later page
    page.locator("#asgi-consent-settings [data-consent-open]").click()
    page.locator("#asgi-consent-settings dialog[open] fieldset").wait_for()


def open_preferences(page: Page) -> None:
    page.locator("#asgi-consent > form [data-consent-open]").click()
    page.locator("#asgi-consent dialog[open] fieldset").wait_for()


@pytest.mark.parametrize("language", ["en", "de", "ar"])
@pytest.mark.parametrize("position", POSITIONS)
def test_banner_has_no_axe_violations(
    site: Callable[..., str],
    new_page: Callable[..., Page],
    assert_axe_clean: Check,
    position: str,
    language: str,
) -> None:
    page = new_page(language)
    page.goto(site(position=position) + "/")
    banner = page.locator("#asgi-consent")
    assert banner.get_attribute("lang") == language
    assert banner.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    check_both_schemes(page, assert_axe_clean, f"banner {position} {language}")


@pytest.mark.parametrize(
    ("position", "language"), [("bottom", "en"), ("corner", "de"), ("modal", "ar")]
)
def test_open_preferences_view_has_no_axe_violations(
    site: Callable[..., str],
    new_page: Callable[..., Page],
    assert_axe_clean: Check,
    position: str,
    language: str,
) -> None:
    page = new_page(language)
    page.goto(site(position=position) + "/")
    open_preferences(page)
    check_both_schemes(page, assert_axe_clean, f"preferences open {position} {language}")


@pytest.mark.parametrize("color_scheme", ["dark", "system"])
@pytest.mark.parametrize("view", ["banner", "preferences", "settings", "placeholder", "page"])
def test_every_color_scheme_has_no_axe_violations(
    site: Callable[..., str],
    new_page: Callable[..., Page],
    assert_axe_clean: Check,
    color_scheme: str,
    view: str,
) -> None:
    page = new_page()
    base = site(position="corner", color_scheme=color_scheme)
    path = {"placeholder": "/video", "page": "/_consent/preferences"}.get(view, "/")
    page.goto(base + path)
    if view == "preferences":
        open_preferences(page)
    elif view == "settings":
        open_settings_control(page)
    check_both_schemes(page, assert_axe_clean, f"{view} color_scheme={color_scheme}")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_open_settings_control_has_no_axe_violations(
    site: Callable[..., str],
    new_page: Callable[..., Page],
    assert_axe_clean: Check,
    language: str,
) -> None:
    page = new_page(language)
    page.goto(site(position="bottom") + "/")
    open_settings_control(page)
    check_both_schemes(page, assert_axe_clean, f"settings control open {language}")


@pytest.mark.parametrize("language", ["en", "de", "ar"])
def test_preferences_page_has_no_axe_violations(
    site: Callable[..., str],
    new_page: Callable[..., Page],
    assert_axe_clean: Check,
    language: str,
) -> None:
    page = new_page(language)
    page.goto(site(position="bottom") + "/_consent/preferences?next=/")
    assert page.locator("html").get_attribute("lang") == language
    check_both_schemes(page, assert_axe_clean, f"/_consent/preferences {language}")


@pytest.mark.parametrize("language", ["en", "de"])
def test_embed_placeholder_has_no_axe_violations(
    site: Callable[..., str],
    new_page: Callable[..., Page],
    assert_axe_clean: Check,
    language: str,
) -> None:
    page = new_page(language)
    page.goto(site(position="corner") + "/video")
    assert page.locator(".asgi-consent-placeholder button").is_visible()
    assert page.locator("iframe").is_hidden()
    check_both_schemes(page, assert_axe_clean, f"placeholder {language}")


# -- contrast of the default theme ----------------------------------------------------

# Every visible text inside our markup: its colour and the background layers behind it,
# nearest first, up to the first opaque one.
_TEXT_COLOURS = """() => {
  const roots = document.querySelectorAll(
    "#asgi-consent, #asgi-consent-settings, .asgi-consent-placeholder");
  const seen = new Set();
  const found = [];
  for (const root of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!node.data.trim() || seen.has(el) || !el.checkVisibility({opacityProperty: true})) {
        continue;
      }
      seen.add(el);
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const style = getComputedStyle(e);
        if (style.backgroundImage !== "none") { layers.push("image"); }
        layers.push(style.backgroundColor);
        if (/^rgb\\(/.test(style.backgroundColor)) { break; }
      }
      found.push({
        text: node.data.trim().slice(0, 40),
        tag: el.tagName.toLowerCase() + (el.className ? "." + el.className : ""),
        color: getComputedStyle(el).color,
        layers,
      });
    }
  }
  return found;
}"""


def _rgba(css: str) -> tuple[float, float, float, float]:
    assert css.startswith("rgb"), f"cannot read colour {css!r}"
    parts = [float(p) for p in css[css.index("(") + 1 : -1].replace("/", ",").split(",")]
    return (parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else 1.0)


def _over(top: tuple[float, ...], below: tuple[float, ...]) -> tuple[float, float, float, float]:
    alpha = top[3]
    r, g, b = (top[i] * alpha + below[i] * (1 - alpha) for i in range(3))
    return (r, g, b, 1.0)


def _luminance(colour: tuple[float, ...]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(text: str, layers: list[str]) -> float:
    """WCAG contrast of `text` over background `layers` (nearest first; white below all)."""
    assert "image" not in layers, "a background image: contrast cannot be computed"
    background: tuple[float, ...] = (255.0, 255.0, 255.0, 1.0)
    for layer in reversed(layers):
        background = _over(_rgba(layer), background)
    foreground = _over(_rgba(text), background)
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_ratio_matches_the_wcag_examples() -> None:
    assert round(contrast_ratio("rgb(0, 0, 0)", ["rgb(255, 255, 255)"]), 1) == 21.0
    assert round(contrast_ratio("rgb(118, 118, 118)", ["rgb(255, 255, 255)"]), 2) == 4.54
    assert contrast_ratio("rgba(0, 0, 0, 0)", ["rgba(0, 0, 0, 0)"]) == 1.0


_OURS = "#asgi-consent, #asgi-consent-settings, .asgi-consent-placeholder"
_CONTRAST_VIEWS: dict[str, tuple[str, str, str | None, str]] = {
    "bottom": ("bottom", "/", "preferences", "light"),
    "modal": ("modal", "/", "preferences", "light"),
    "settings": ("bottom", "/", "settings", "light"),
    "placeholder": ("corner", "/video", None, "light"),
    "system": ("bottom", "/", "preferences", "system"),
    "system placeholder": ("corner", "/video", None, "system"),
    "preferences page": ("bottom", "/_consent/preferences", None, "dark"),
}


@pytest.mark.parametrize("view", list(_CONTRAST_VIEWS))
def test_default_theme_contrast_is_at_least_4_5_to_1(
    site: Callable[..., str],
    new_page: Callable[..., Page],
    run_axe: Check,
    view: str,
) -> None:
    position, path, opened, color_scheme = _CONTRAST_VIEWS[view]
    # Tall enough that no text of ours is scrolled away inside a panel: axe checks only
    # what is on screen.
    page = new_page("en", viewport={"width": 1280, "height": 1400})
    scheme_option = {} if color_scheme == "light" else {"color_scheme": color_scheme}
    page.goto(site(position=position, **scheme_option) + path)
    if opened == "settings":
        open_settings_control(page)
    elif opened:
        open_preferences(page)  # descriptions and labels use the muted colour
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        page.evaluate("Promise.all(document.getAnimations().map((a) => a.finished))")
        texts = page.evaluate(_TEXT_COLOURS)
        assert texts, "no text of ours found"
        low = []
        for item in texts:
            ratio = contrast_ratio(item["color"], item["layers"])
            if ratio < 4.5:
                low.append(f"{item['tag']} {item['text']!r}: {ratio:.2f}:1")
        assert not low, f"{view} {scheme}: below 4.5:1:\n" + "\n".join(low)

        results = run_axe(page, {"runOnly": ["color-contrast"]})
        by_kind = {
            kind: [n for rule in results[kind] for n in rule["nodes"] if n["ours"]]
            for kind in ("violations", "incomplete", "passes")
        }
        assert not by_kind["violations"], by_kind["violations"]
        # axe could not decide these; our own ratios above cover them, but say which.
        undecided = [n["target"] for n in by_kind["incomplete"]]
        # Under an open modal dialog the page is inert and axe looks only at the dialog;
        # an icon button (close) has no text to contrast.
        scope = "dialog[open]" if page.locator("dialog[open]").count() else _OURS
        buttons = page.locator(scope).locator("button:visible:not([data-consent-close])").count()
        passed_buttons = [n for n in by_kind["passes"] if n["html"].startswith("<button")]
        print(
            f"\ncolour contrast | {view} | {scheme} | ours: {len(texts)} texts, lowest "
            f"{min(contrast_ratio(t['color'], t['layers']) for t in texts):.2f}:1 | axe passes "
            f"{len(by_kind['passes'])}, incomplete {undecided}"
        )
        assert len(passed_buttons) == buttons, (
            f"axe did not decide every button ({len(passed_buttons)} of {buttons});"
            f" incomplete: {undecided}"
        )
