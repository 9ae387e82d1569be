"""The per-tag decision's cheap first looks: they only ever skip tags the whole decision
would leave as they are."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asgi_consent import tagdecision
from asgi_consent.config import ConsentConfig
from asgi_consent.rewrite import HtmlRewriter, RewritePlan
from asgi_consent.rules import TrackerRules
from helpers import SECRET

RULES = TrackerRules(ConsentConfig(secret_key=SECRET))
PLAN = RewritePlan(
    granted=frozenset(), blocked=frozenset({"analytics", "marketing", "media"}), rules=RULES
)
TRACKER = "https://www.facebook.com/tr?id=1"
NO_COLON = "//www.facebook.com/tr?id=1"  # a tracker URL with no ":" to notice
NAMES = [
    "class", "id", "viewbox", "d", "width", "aria-hidden", "focusable", "x", "hreflang",
    "href", "HREF", "xlink:href", "XLink:Href", "l:href", "xml:base", "a:b", "src",
    "style", "STYLE", "fill", "Stroke", "filter", "mask", "clip-path", "cursor",
    "marker-start", "marker-mid", "marker-end", "attributionsrc", "onload", "ONCLICK", "on",
    "data-consent", "data-consent-href", "Data-Consent-Src", "data-consent-css",
    "data-category", "to", "from", "values", "by", "begin", "=href", "encoding",
]  # fmt: skip
VALUES = [
    "", "x", "#icon", "/static/a.svg", TRACKER, f"url({TRACKER})", "url(#clip)",
    "fbq('track')", "analytics", "media marketing", "https://static.example.org/a.png",
    f"{TRACKER};#x", "0 0 24 24", "url('/a.svg')", NO_COLON, f"url({NO_COLON})",
]  # fmt: skip
ELEMENTS = ["g", "use", "path", "symbol", "feimage", "mi", "annotation-xml", "foreignobject"]
SEPARATORS = [" ", "\t", "\n", "/", " / "]


def attribute_text(name: str, value: str, quote: str, separator: str) -> str:
    if quote == "none":
        return f"{separator}{name}={value.replace(' ', '')}" if value else f"{separator}{name}"
    return f"{separator}{name}={quote}{value}{quote}"


ATTRIBUTE = st.builds(
    attribute_text,
    st.sampled_from(NAMES),
    st.sampled_from(VALUES),
    st.sampled_from(['"', "'", "none"]),
    st.sampled_from(SEPARATORS),
)


def rewritten(page: bytes) -> bytes:
    return HtmlRewriter(PLAN).rewrite_all(page)


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(["svg", "math"]),
    st.sampled_from(ELEMENTS),
    st.lists(ATTRIBUTE, max_size=5),
)
def test_a_foreign_tag_skipped_at_first_look_is_one_the_decision_leaves_alone(
    root: str, element: str, attributes: list[str]
) -> None:
    page = f"<{root}><{element}{''.join(attributes)}></{element}></{root}>".encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tagdecision, "_may_fetch", lambda buf, tag: True)
        expected = rewritten(page)
    assert rewritten(page) == expected


def test_a_foreign_tag_with_no_fetching_attribute_is_left_at_first_look() -> None:
    page = b'<svg class="icon" aria-hidden="true"><path d="M0 0h24v24H0z"/></svg>'
    assert rewritten(page) == page


@pytest.mark.parametrize(
    "tag",
    [
        f'<g style="fill:url({TRACKER})">',
        f'<g l:href="{TRACKER}">',
        f'<g FILL="url({TRACKER})">',
        '<g onclick="fbq(\'track\')">',
        '<g data-consent="marketing">',
    ],
)
def test_a_foreign_tag_that_fetches_or_claims_a_category_is_held_back(tag: str) -> None:
    out = rewritten(f"<svg>{tag}</g></svg>".encode())
    assert b'data-consent="marketing"' in out
