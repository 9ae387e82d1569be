"""The tracker catalogue and the rules built from it and from the config.

URLs and snippets here are the vendors' own shapes (tests/fixtures/pages/SOURCES.md).
Inline markers are looked up the way pages use them: through the rewriter, which turns
a matching inline script into `type="text/plain" data-consent="<category>"`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from asgi_consent.config import ConsentConfig
from asgi_consent.rewrite import HtmlRewriter, RewritePlan
from asgi_consent.rules import TrackerRules
from asgi_consent.trackers import CATALOGUE
from helpers import SECRET

CATEGORIES = {"analytics", "marketing", "media"}
EVERY_CATEGORY = frozenset(CATEGORIES)
RULES = TrackerRules(ConsentConfig(secret_key=SECRET))


def rules_with(**options: Any) -> TrackerRules:
    return TrackerRules(ConsentConfig(secret_key=SECRET, **options))


def url_category(kind: str, url: str, rules: TrackerRules = RULES) -> str | None:
    """The category of a URL as an element of `kind` would load it (any kind matches)."""
    found = rules.classify(url, None)
    return found.category if found else None


def inline_category(snippet: str, rules: TrackerRules = RULES) -> str | None:
    """The category the rewriter gives an inline script with this body (None: untouched)."""
    plan = RewritePlan(granted=frozenset(), blocked=EVERY_CATEGORY, rules=rules)
    rewriter = HtmlRewriter(plan)
    out = rewriter.feed(f"<script>{snippet}</script>".encode()) + rewriter.finish()
    found = re.match(rb'<script type="text/plain" data-consent="([a-z ]+)">', out)
    return found.group(1).decode() if found else None


def url_patterns() -> list[tuple[int, str, str]]:
    """(entry index, kind, pattern) for every URL pattern in the catalogue, in order."""
    return [
        (index, kind, pattern)
        for index, tracker in enumerate(CATALOGUE)
        for kind, patterns in (
            ("script", tracker.script_urls),
            ("iframe", tracker.iframe_urls),
            ("pixel", tracker.pixel_urls),
        )
        for pattern in patterns
    ]


# -- catalogue sanity ----------------------------------------------------------------


@pytest.mark.parametrize("tracker", CATALOGUE, ids=lambda t: t.name)
def test_catalogue_entry_category_is_analytics_marketing_or_media(tracker: Any) -> None:
    assert tracker.category in CATEGORIES


@pytest.mark.parametrize("tracker", CATALOGUE, ids=lambda t: t.name)
def test_catalogue_entry_has_at_least_one_way_to_match(tracker: Any) -> None:
    assert (
        tracker.script_urls or tracker.inline_markers or tracker.iframe_urls or tracker.pixel_urls
    )


@pytest.mark.parametrize("tracker", CATALOGUE, ids=lambda t: t.name)
def test_catalogue_entry_names_its_provider(tracker: Any) -> None:
    assert tracker.provider.strip()


def test_catalogue_entry_names_are_unique() -> None:
    names = [tracker.name for tracker in CATALOGUE]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("index", "kind", "pattern"), url_patterns())
def test_catalogue_url_pattern_is_a_lower_case_host_without_a_scheme(
    index: int, kind: str, pattern: str
) -> None:
    host = pattern.split("/", 1)[0]
    assert pattern == pattern.lower().strip()
    assert "://" not in pattern and not pattern.startswith("//")
    assert re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", host)


@pytest.mark.parametrize(("index", "kind", "pattern"), url_patterns())
def test_catalogue_url_pattern_finds_its_own_entry(index: int, kind: str, pattern: str) -> None:
    # A more general pattern listed earlier would hide this one (order matters).
    url = "https://" + pattern + ("" if "/" in pattern else "/") + "x"
    found = RULES.classify(url, None)
    assert found is not None
    assert found.category == CATALOGUE[index].category
    assert found.provider == CATALOGUE[index].provider


@pytest.mark.parametrize("tracker", CATALOGUE, ids=lambda t: t.name)
def test_catalogue_inline_markers_are_specific_strings(tracker: Any) -> None:
    for marker in tracker.inline_markers:
        assert len(marker) >= 4 and marker == marker.strip()


@pytest.mark.parametrize(
    ("tracker", "marker"),
    [(t, m) for t in CATALOGUE for m in t.inline_markers],
    ids=lambda value: value if isinstance(value, str) else value.provider,
)
def test_catalogue_inline_marker_neutralises_a_snippet_with_its_category(
    tracker: Any, marker: str
) -> None:
    # Both the catalogue spelling and the upper-case one: the match ignores case. A
    # marker listed by several entries reports the first (the stricter category); a
    # marker that names a host shared by entries of two categories waits for both.
    first = next(t for t in CATALOGUE if marker.lower() in (m.lower() for m in t.inline_markers))
    assert first.category in (inline_category(f"/* */ {marker} /* */") or "").split()
    assert first.category in (inline_category(marker.upper()) or "").split()


@pytest.mark.parametrize("tracker", CATALOGUE, ids=lambda t: t.name)
def test_catalogue_cookie_patterns_are_names_with_at_most_a_trailing_star(tracker: Any) -> None:
    for pattern in tracker.cookies:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+\*?", pattern), pattern


# -- the vendors the issue requires ------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "url", "category", "provider"),
    [
        (
            "script",
            "https://www.googletagmanager.com/gtag/js?id=G-XXXXXXXXXX",
            "analytics",
            "Google Analytics",
        ),
        (
            "script",
            "https://www.googletagmanager.com/gtag/js?id=AW-123456789",
            "marketing",
            "Google Ads",
        ),
        (
            "script",
            "https://www.googleadservices.com/pagead/conversion.js",
            "marketing",
            "Google Ads",
        ),
        (
            "pixel",
            "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/1/?guid=ON",
            "marketing",
            "Google Ads",
        ),
        (
            "script",
            "https://www.googletagmanager.com/gtm.js?id=GTM-XXXXXXX",
            "marketing",
            "Google Tag Manager",
        ),
        (
            "iframe",
            "https://www.googletagmanager.com/ns.html?id=GTM-XXXXXXX",
            "marketing",
            "Google Tag Manager",
        ),
        ("script", "https://connect.facebook.net/en_US/fbevents.js", "marketing", "Meta"),
        (
            "pixel",
            "https://www.facebook.com/tr?id=000000000000000&ev=PageView&noscript=1",
            "marketing",
            "Meta",
        ),
        ("script", "https://static.hotjar.com/c/hotjar-1234567.js?sv=6", "analytics", "Hotjar"),
        ("script", "https://www.clarity.ms/tag/xxxxxxxxxx", "analytics", "Microsoft Clarity"),
        (
            "script",
            "https://snap.licdn.com/li.lms-analytics/insight.min.js",
            "marketing",
            "LinkedIn",
        ),
        (
            "pixel",
            "https://px.ads.linkedin.com/collect/?pid=0000000&fmt=gif",
            "marketing",
            "LinkedIn",
        ),
        (
            "script",
            "https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=XXXX&lib=ttq",
            "marketing",
            "TikTok",
        ),
        ("script", "https://platform.twitter.com/widgets.js", "media", "X"),
        ("script", "https://platform.x.com/widgets.js", "media", "X"),
        ("iframe", "https://www.youtube.com/embed/XXXXXXXXXXX?autoplay=1", "media", "YouTube"),
        ("iframe", "https://www.youtube-nocookie.com/embed/YYYYYYYYYYY", "media", "YouTube"),
        ("iframe", "https://player.vimeo.com/video/000000000?h=0000000000", "media", "Vimeo"),
        (
            "iframe",
            "https://www.google.com/maps/embed/v1/place?key=API_KEY&q=Space+Needle",
            "media",
            "Google Maps",
        ),
        ("iframe", "https://www.google.com/maps/embed?pb=!1m18!1m12", "media", "Google Maps"),
    ],
)
def test_required_vendor_url_is_found_with_its_category_and_provider(
    kind: str, url: str, category: str, provider: str
) -> None:
    found = RULES.classify(url, None)
    assert found is not None
    assert (found.category, found.provider) == (category, provider)


@pytest.mark.parametrize(
    ("snippet", "category"),
    [
        ("gtag('js', new Date());\ngtag('config', 'G-XXXXXXXXXX');", "analytics"),
        ("gtag('config', 'AW-123456789');", "marketing"),
        ("gtag('event', 'conversion', {'send_to': 'AW-123456789/AbC-D_efG'});", "marketing"),
        (
            "(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':\nnew Date().getTime(),"
            "event:'gtm.js'});})(window,document,'script','dataLayer','GTM-XXXXXXX');",
            "marketing",
        ),
        ("fbq('init', '000000000000000');\nfbq('track', 'PageView');", "marketing"),
        ("h._hjSettings={hjid:1234567,hjsv:6};", "analytics"),
        (
            '(function(c,l,a,r,i,t,y){t.src="https://www.clarity.ms/tag/"+i;})'
            '(window, document, "clarity", "script", "xxxxxxxxxx");',
            "analytics",
        ),
        ('_linkedin_partner_id = "0000000";', "marketing"),
        ("ttq.load('XXXXXXXXXXXXXXXXXXXX');\nttq.page();", "marketing"),
        ("var _paq = window._paq = window._paq || [];\n_paq.push(['trackPageView']);", "analytics"),
        ('!function(d,s,id){}(document,"script","twitter-wjs");', "media"),
        ("player = new YT.Player('apiplayer', {videoId: 'X'});", "media"),
        ("var player = new Vimeo.Player(iframe);", "media"),
    ],
)
def test_required_vendor_inline_snippet_is_found_with_its_category(
    snippet: str, category: str
) -> None:
    assert inline_category(snippet) == category


def test_gtag_snippet_configuring_both_ga4_and_ads_waits_for_both() -> None:
    snippet = "gtag('config', 'G-XXXXXXXXXX');\ngtag('config', 'AW-123456789');"
    plan = RewritePlan(
        granted=frozenset({"analytics"}), blocked=frozenset({"marketing"}), rules=RULES
    )
    rewriter = HtmlRewriter(plan)
    out = rewriter.feed(f"<script>{snippet}</script>".encode()) + rewriter.finish()
    assert out.startswith(b'<script type="text/plain" data-consent="analytics marketing">')


def test_ordinary_first_party_code_matches_no_marker() -> None:
    snippet = (
        "function track(e){console.log(e)}; gtag; document.title = 'config'; window.player = 1;"
    )
    assert inline_category(snippet) is None


# -- cookies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("_ga", "analytics"),
        ("_ga_XYZ123", "analytics"),
        ("_gid", "analytics"),
        ("_gcl_au", "marketing"),
        ("_fbp", "marketing"),
        ("_fbc", "marketing"),
        ("_hjSessionUser_123", "analytics"),
        ("_clck", "analytics"),
        ("_clsk", "analytics"),
        ("_ttp", "marketing"),
        ("li_fat_id", "marketing"),
    ],
)
def test_tracker_cookie_maps_to_its_category(name: str, category: str) -> None:
    assert RULES.cookie_category(name) == category


@pytest.mark.parametrize("name", ["session", "csrftoken", "asgi_consent", "sessionid", "ga", "_g"])
def test_ordinary_cookie_maps_to_no_category(name: str) -> None:
    assert RULES.cookie_category(name) is None


# -- config additions --------------------------------------------------------------


def test_config_tracker_url_adds_a_host_to_a_category() -> None:
    rules = rules_with(tracker_urls={"analytics": ["stats.example.org"]})
    assert url_category("script", "https://stats.example.org/matomo.js", rules) == "analytics"
    assert (
        url_category("pixel", "https://stats.example.org/matomo.php?idsite=1", rules) == "analytics"
    )


def test_config_tracker_url_wins_over_the_catalogue() -> None:
    rules = rules_with(tracker_urls={"analytics": ["www.googletagmanager.com/gtm.js"]})
    assert url_category("script", "https://www.googletagmanager.com/gtm.js?id=GTM-X", rules) == (
        "analytics"
    )


def test_config_tracker_marker_adds_an_inline_marker_to_a_category() -> None:
    rules = rules_with(tracker_markers={"analytics": ["plausible("]})
    assert inline_category("window.plausible('pageview');", rules) == "analytics"


def test_config_tracker_marker_wins_over_the_catalogue() -> None:
    rules = rules_with(tracker_markers={"analytics": ["'gtm.start'"]})
    snippet = "w[l].push({'gtm.start': new Date().getTime(), event: 'gtm.js'});"
    assert inline_category(snippet, rules) == "analytics"


def test_config_tracker_cookie_adds_a_cookie_to_a_category() -> None:
    rules = rules_with(tracker_cookies={"analytics": ["_pk_id*", "plausible_ignore"]})
    assert rules.cookie_category("_pk_id.1.1fff") == "analytics"
    assert rules.cookie_category("plausible_ignore") == "analytics"


def test_config_tracker_cookie_wins_over_the_catalogue() -> None:
    rules = rules_with(tracker_cookies={"analytics": ["_fbp"]})
    assert rules.cookie_category("_fbp") == "analytics"


def test_without_the_catalogue_no_vendor_url_marker_or_cookie_is_known() -> None:
    rules = rules_with(block_catalogue=False)
    assert url_category("script", "https://connect.facebook.net/en_US/fbevents.js", rules) is None
    assert url_category("iframe", "https://www.youtube.com/embed/X", rules) is None
    assert inline_category("fbq('init', '1');", rules) is None
    assert rules.cookie_category("_ga") is None


def test_without_the_catalogue_config_additions_still_apply() -> None:
    rules = rules_with(block_catalogue=False, tracker_urls={"marketing": ["ads.example.net"]})
    assert url_category("script", "https://ads.example.net/tag.js", rules) == "marketing"


def test_without_the_catalogue_data_consent_markup_is_still_neutralised() -> None:
    rules = rules_with(block_catalogue=False)
    plan = RewritePlan(granted=frozenset(), blocked=EVERY_CATEGORY, rules=rules)
    rewriter = HtmlRewriter(plan)
    html = (
        b'<script data-consent="analytics" src="/stats.js"></script>'
        b'<script src="https://connect.facebook.net/en_US/fbevents.js"></script>'
    )
    assert rewriter.feed(html) + rewriter.finish() == (
        b'<script type="text/plain" data-consent="analytics" src="/stats.js"></script>'
        b'<script src="https://connect.facebook.net/en_US/fbevents.js"></script>'
    )


# -- URL matching ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "//connect.facebook.net/en_US/fbevents.js",
        "HTTPS://CONNECT.FACEBOOK.NET/en_US/fbevents.js",
        "https://connect.facebook.net:443/en_US/fbevents.js",
        "  https://connect.facebook.net/en_US/fbevents.js",
    ],
)
def test_tracker_url_is_found_whatever_its_spelling(url: str) -> None:
    assert url_category("script", url) == "marketing"


@pytest.mark.parametrize(
    "url",
    [
        "/static/fbevents.js",
        "https://notconnect.facebook.net.example/x.js",
        "https://example.com/?u=https://connect.facebook.net/x.js",
        "https://facebook.net.evil.example/x.js",
        "https://www.googletagmanager.com.example/gtag/js?id=G-1",
    ],
)
def test_lookalike_or_relative_url_is_not_a_tracker(url: str) -> None:
    assert url_category("script", url) is None


# -- URLs kept across pages --------------------------------------------------------


def test_an_absolute_url_needs_what_its_parsed_url_needs() -> None:
    from asgi_consent.urls import parse_url

    for text in (
        "https://www.googletagmanager.com/gtag/js?id=G-1",
        "https://connect.facebook.net/en_US/fbevents.js",
        "https://www.youtube.com/embed/x",
        "https://static.example.org/a.png",
    ):
        url = parse_url(text)
        assert url is not None
        for host_only in (False, True):
            expected = RULES.needs(url, host_only=host_only)
            assert RULES.absolute_needs(text, host_only=host_only) == expected
            assert RULES.absolute_needs(text, host_only=host_only) == expected  # remembered


def test_an_absolute_url_the_browser_refuses_needs_no_answer_from_the_rules() -> None:
    assert RULES.absolute_needs("https://www.facebook.com:99999/tr") is None  # bad port
    assert RULES.absolute_needs("https://exa mple.com/") is None


def test_a_tracker_url_is_held_back_on_every_page_the_rules_serve() -> None:
    # The second page reads the URL's verdict from the rules, not from a page memo.
    for _ in range(2):
        plan = RewritePlan(granted=frozenset(), blocked=EVERY_CATEGORY, rules=RULES)
        page = b'<img src="https://www.facebook.com/tr?id=1&amp;ev=PageView">'
        out = HtmlRewriter(plan).rewrite_all(page)
        assert out == (
            b'<img data-consent="marketing"'
            b' data-consent-src="https://www.facebook.com/tr?id=1&amp;ev=PageView">'
        )
