"""The markup we insert: placeholder sizes, the banner's dialog, the colour scheme class."""

from __future__ import annotations

from typing import Any

import html5lib

from asgi_consent import ConsentConfig
from asgi_consent.assets import Assets
from asgi_consent.banner import BannerRenderer, size_keeper
from helpers import SECRET


def renderer(**options: Any) -> BannerRenderer:
    config = ConsentConfig(secret_key=SECRET, **options)
    return BannerRenderer(config, Assets(config))


def test_a_pixel_sized_iframe_gives_a_box_of_that_size_and_ratio() -> None:
    modifier, svg = size_keeper(("560", " 315px"))
    assert modifier == " asgi-consent-placeholder--sized"
    assert 'width="560" height="315" viewBox="0 0 560 315"' in svg


def test_a_full_width_iframe_keeps_its_height() -> None:
    modifier, svg = size_keeper(("100%", "400"))
    assert "--fluid" in modifier
    assert 'width="100%" height="400"' in svg and "viewBox" not in svg


def test_sizes_we_cannot_keep_give_the_default_box() -> None:
    for size in (("50%", "300"), ("560", "50%"), ("wide", "315"), ("", "315"), None):
        assert size_keeper(size) == ("", "")


def test_only_digits_of_a_size_reach_the_markup() -> None:
    _, svg = size_keeper(('560"><script>alert(1)</script>', "315"))
    assert "<script" not in svg and 'width="560"' in svg


def test_the_placeholder_with_its_size_is_well_formed_html() -> None:
    box = renderer().placeholder("en", "media", "YouTube", "/v", ("560", "315")).decode()
    parser = html5lib.HTMLParser(strict=True)
    parser.parseFragment(box)
    assert 'class="asgi-consent-placeholder asgi-consent-placeholder--sized"' in box


def test_color_scheme_puts_its_class_on_every_root() -> None:
    assert "asgi-consent-scheme" not in renderer().banner(
        "en", next_path="/", gpc=False, nonce=None
    ).decode()
    dark = renderer(color_scheme="system")
    banner = dark.banner("en", next_path="/", gpc=False, nonce=None).decode()
    assert 'class="asgi-consent asgi-consent--bottom asgi-consent-scheme-system"' in banner
    assert "asgi-consent-scheme-system" in dark.placeholder("en", "media", "", "/").decode()
    assert "asgi-consent-scheme-system" in dark.settings_fragment("en", frozenset(), "/")
    assert "asgi-consent-scheme-system" in dark.preferences_page("en", frozenset(), "/").decode()


def test_the_banner_links_to_the_preferences_page_with_its_next_path_encoded() -> None:
    banner = renderer().banner("en", next_path="/a?b=1&c=2", gpc=False, nonce=None).decode()
    assert 'href="/_consent/preferences?next=/a%3Fb%3D1%26c%3D2" data-consent-open=""' in banner
    assert '<dialog id="asgi-consent-preferences"' in banner
    assert "Withdraw consent" not in banner


def test_a_banner_after_a_placeholder_grant_shows_the_grant() -> None:
    banner = renderer().banner(
        "en", next_path="/", gpc=False, nonce=None, granted=frozenset({"necessary", "media"})
    ).decode()
    assert 'value="media" aria-describedby="asgi-consent-d-media-desc" checked="checked"' in banner
    assert 'data-granted="media necessary"' in banner  # consent.js wakes what was granted
