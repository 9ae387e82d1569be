"""The fixture corpus as a browser would parse it, before and after a choice.

Every page in tests/fixtures/pages/ is a vendor's official snippet in a realistic page
(SOURCES.md); EXPECTED.json lists its tracker URLs, inline markers and first-party URLs.
The rewriter's output is parsed with html5lib, a spec-compliant parser, twice: with
scripting on (a browser with JavaScript: <noscript> content is text) and with scripting
off (its content is markup), and we look at what each tree would execute or load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
import pytest

from asgi_consent.config import ConsentConfig
from asgi_consent.rewrite import HtmlRewriter, RewritePlan
from asgi_consent.rules import TrackerRules
from helpers import SECRET

PAGES_DIR = Path(__file__).parent / "fixtures" / "pages"
EXPECTED: dict[str, dict[str, Any]] = json.loads((PAGES_DIR / "EXPECTED.json").read_text())
PAGE_NAMES = sorted(path.name for path in PAGES_DIR.glob("*.html"))

RULES = TrackerRules(ConsentConfig(secret_key=SECRET))
EVERY_CATEGORY = frozenset({"analytics", "marketing", "media"})
BANNER_ID = "asgi-consent-probe"
BANNER = f'<div id="{BANNER_ID}">We use cookies</div>'.encode()
PLACEHOLDER_CLASS = "asgi-consent-placeholder"

JS_TYPES = {
    "",
    "module",
    "text/javascript",
    "application/javascript",
    "application/ecmascript",
    "application/x-javascript",
    "application/x-ecmascript",
    "text/ecmascript",
    "text/jscript",
    "text/livescript",
    "text/x-ecmascript",
    "text/x-javascript",
}
FETCHING_RELS = {"preload", "modulepreload", "prefetch", "preconnect", "dns-prefetch", "stylesheet"}


def placeholder(
    category: str, provider: str, next_path: str, size: tuple[str, str] | None = None
) -> bytes:
    return f'<div class="{PLACEHOLDER_CLASS}" data-consent-placeholder="{category}"></div>'.encode()


def page(name: str) -> bytes:
    return (PAGES_DIR / name).read_bytes()


def rewrite(html: bytes, plan: RewritePlan) -> bytes:
    rewriter = HtmlRewriter(plan)
    return rewriter.feed(html) + rewriter.finish()


def before_choice(html: bytes) -> bytes:
    plan = RewritePlan(
        granted=frozenset(),
        blocked=EVERY_CATEGORY,
        rules=RULES,
        before_body_end=BANNER,
        placeholder=placeholder,
        page_path="/page",
    )
    return rewrite(html, plan)


def after_reject(html: bytes) -> bytes:
    plan = RewritePlan(
        granted=frozenset({"necessary"}),
        blocked=EVERY_CATEGORY,
        rules=RULES,
        placeholder=placeholder,
        page_path="/page",
    )
    return rewrite(html, plan)


def after_accept(html: bytes) -> bytes:
    plan = RewritePlan(granted=EVERY_CATEGORY | {"necessary"}, blocked=frozenset(), rules=RULES)
    return rewrite(html, plan)


def parse(html: bytes, *, scripting: bool) -> Element:
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"), namespaceHTMLElements=False)
    root: Element = parser.parse(html, scripting=scripting)
    return root


def absolute(url: str) -> str:
    url = url.strip()
    return "https:" + url if url.startswith("//") else url


def srcset_urls(srcset: str | None) -> list[str]:
    return [part.split()[0] for part in (srcset or "").split(",") if part.split()]


def loads(tree: Element, *, scripting: bool) -> Iterator[tuple[str, str]]:
    """(what, url) for every URL the tree would fetch; scripts only when scripting."""
    for element in tree.iter():
        tag = element.tag
        if tag == "script" and scripting and executable(element) and element.get("src"):
            yield "script", absolute(element.get("src", ""))
        elif tag in ("iframe", "img"):
            if element.get("src"):
                yield tag, absolute(element.get("src", ""))
            for url in srcset_urls(element.get("srcset")):
                yield tag, absolute(url)
        elif tag == "source":
            for url in srcset_urls(element.get("srcset")):
                yield tag, absolute(url)
        elif tag == "link" and element.get("href"):
            if set((element.get("rel") or "").lower().split()) & FETCHING_RELS:
                yield "link", absolute(element.get("href", ""))


def executable(script: Element) -> bool:
    return (script.get("type") or "").strip().lower() in JS_TYPES


def inline_scripts(tree: Element) -> Iterator[str]:
    for script in tree.iter("script"):
        if executable(script) and not script.get("src"):
            yield script.text or ""


def tracker_loads(name: str, tree: Element, *, scripting: bool) -> list[tuple[str, str]]:
    tracker_urls = set(EXPECTED[name]["tracker_urls"])
    return [(what, url) for what, url in loads(tree, scripting=scripting) if url in tracker_urls]


def running_markers(name: str, tree: Element) -> list[str]:
    markers = [m.lower() for m in EXPECTED[name]["inline_markers"]]
    return [m for text in inline_scripts(tree) for m in markers if m in text.lower()]


def first_party_loads(name: str, tree: Element) -> list[tuple[str, str]]:
    wanted = set(EXPECTED[name]["first_party_urls"])
    found = [(what, url) for what, url in loads(tree, scripting=True) if url in wanted]
    hidden = {
        absolute(e.get("src", "")) for e in tree.iter("iframe") if e.get("hidden") is not None
    }
    return sorted((what, url) for what, url in found if url not in hidden)


# -- the corpus itself -------------------------------------------------------------


def test_every_fixture_page_has_an_expected_entry_and_back() -> None:
    assert sorted(EXPECTED) == PAGE_NAMES


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_unrewritten_page_does_load_its_trackers_as_a_browser_parses_it(name: str) -> None:
    # Guards the checks below: on the input they must find something to complain about.
    html = page(name)
    scripting_on = parse(html, scripting=True)
    found = tracker_loads(name, scripting_on, scripting=True)
    found += running_markers(name, scripting_on)  # type: ignore[arg-type]
    assert found


# -- before a choice ---------------------------------------------------------------


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_before_a_choice_no_tracker_loads_with_javascript_on(name: str) -> None:
    tree = parse(before_choice(page(name)), scripting=True)
    assert tracker_loads(name, tree, scripting=True) == []


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_before_a_choice_no_inline_tracker_snippet_runs(name: str) -> None:
    tree = parse(before_choice(page(name)), scripting=True)
    assert running_markers(name, tree) == []


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_before_a_choice_no_tracker_loads_with_javascript_off(name: str) -> None:
    tree = parse(before_choice(page(name)), scripting=False)
    assert tracker_loads(name, tree, scripting=False) == []


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_before_a_choice_first_party_resources_still_load(name: str) -> None:
    html = page(name)
    before = first_party_loads(name, parse(html, scripting=True))
    after = first_party_loads(name, parse(before_choice(html), scripting=True))
    assert after == before
    assert len(before) >= len(EXPECTED[name]["first_party_urls"])


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_before_a_choice_the_banner_is_one_element_at_the_end_of_body(name: str) -> None:
    tree = parse(before_choice(page(name)), scripting=True)
    body = tree.find("body")
    assert body is not None
    banners = [e for e in tree.iter() if e.get("id") == BANNER_ID]
    assert len(banners) == 1 and banners[0] in list(body)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_before_a_choice_neutralised_elements_carry_the_page_categories(name: str) -> None:
    tree = parse(before_choice(page(name)), scripting=False)
    marked = {e.get("data-consent") for e in tree.iter() if e.get("data-consent") is not None}
    assert marked and marked <= set(EXPECTED[name]["categories"])


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_before_a_choice_each_hidden_iframe_has_a_placeholder_right_before_it(name: str) -> None:
    tree = parse(before_choice(page(name)), scripting=True)
    for parent in tree.iter():
        children = list(parent)
        for index, child in enumerate(children):
            if child.tag == "iframe" and child.get("data-consent-src"):
                assert child.get("hidden") is not None
                box = children[index - 1] if index else None
                assert box is not None and box.get("class") == PLACEHOLDER_CLASS
                assert box.get("data-consent-placeholder") == child.get("data-consent")


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_before_a_choice_every_blocked_url_is_kept_for_activation(name: str) -> None:
    html = page(name)
    loaded = {url for _, url in tracker_loads(name, parse(html, scripting=False), scripting=True)}
    tree = parse(before_choice(html), scripting=False)
    kept = {
        absolute(element.get(attribute, ""))
        for element in tree.iter()
        for attribute in ("data-consent-src", "data-consent-href")
        if element.get(attribute)
    }
    kept |= {absolute(e.get("src", "")) for e in tree.iter("script") if not executable(e)}
    assert loaded <= kept


# -- after a choice ----------------------------------------------------------------


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_after_accept_the_page_is_byte_for_byte_as_written(name: str) -> None:
    html = page(name)
    assert after_accept(html) == html


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_is_unchanged_when_exactly_its_own_categories_are_granted(name: str) -> None:
    own = frozenset(EXPECTED[name]["categories"])
    plan = RewritePlan(
        granted=own, blocked=EVERY_CATEGORY - own, rules=RULES, placeholder=placeholder
    )
    html = page(name)
    assert rewrite(html, plan) == html


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_after_reject_no_tracker_loads_or_runs_with_javascript_on(name: str) -> None:
    tree = parse(after_reject(page(name)), scripting=True)
    assert tracker_loads(name, tree, scripting=True) == []
    assert running_markers(name, tree) == []


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_after_reject_no_tracker_loads_with_javascript_off(name: str) -> None:
    tree = parse(after_reject(page(name)), scripting=False)
    assert tracker_loads(name, tree, scripting=False) == []


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_after_reject_the_page_is_the_before_choice_page_without_the_banner(name: str) -> None:
    html = page(name)
    assert after_reject(html) == before_choice(html).replace(BANNER, b"", 1)
