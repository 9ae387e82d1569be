"""Differential test of tracker blocking: generated adversarial pages, judged by html5lib.

Each generated page (grammar.py) goes through the public middleware in random chunks, as
a visitor with no choice, after reject, and after accept-all. The output is read as a
browser reads it (oracle.py: html5lib with scripting on and off, ada-url against the
document URL and the first <base href>): before a choice and after reject no catalogued
tracker may be live; after accept-all the page is the input byte for byte, but for our
one insertion before </body> or at the end.

A failure names the seed and shows the page shrunk to the pieces that still fail; replay
it with `python benchmarks/fuzz_blocking.py --seed SEED`. `make fuzz` runs the same loop
for longer; what it finds goes into findings/ (each file is replayed below).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from . import grammar, oracle, visitors
from .corpus import PAGES, Page
from .visitors import CATEGORIES, Visitor

SEEDS = st.integers(min_value=0, max_value=2**64 - 1)
# A seed is replayed whole; shrinking it means nothing (a neighbour is another page), so
# only generate. `visitors.report` shrinks a failing page by its pieces instead.
GENERATED = settings(
    max_examples=1000,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
FINDINGS = sorted((Path(__file__).parent / "findings").glob("*.html"))


def check_seed(seed: int, visitor: Visitor) -> None:
    document = grammar.document(random.Random(seed))
    page = document.render()
    if visitors.problems(page, visitor, visitors.chunks_for(seed, visitor, page)):
        pytest.fail(visitors.report(seed, visitor, document), pytrace=False)


def check_page(name: str, page: bytes, visitor: Visitor) -> None:
    for cut in ("whole", "chunked"):
        chunks = [page] if cut == "whole" else visitors.chunks_for(name, visitor, page)
        found = visitors.problems(page, visitor, chunks)
        assert not found, f"{name} ({cut}, visitor {visitor}):\n" + "\n".join(found[:10])


# -- generated pages ------------------------------------------------------------------


@GENERATED
@given(seed=SEEDS)
def test_no_catalogued_tracker_is_live_before_a_choice(seed: int) -> None:
    check_seed(seed, "none")


@GENERATED
@given(seed=SEEDS)
def test_no_catalogued_tracker_is_live_after_reject(seed: int) -> None:
    check_seed(seed, "reject")


@GENERATED
@given(seed=SEEDS)
def test_a_visitor_who_accepted_everything_gets_the_page_byte_for_byte(seed: int) -> None:
    check_seed(seed, "accept")


# -- hand-written pages and fuzz findings ---------------------------------------------


@pytest.mark.parametrize("visitor", visitors.VISITORS)
@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_corpus_page_is_held_back_as_a_browser_reads_it(page: Page, visitor: Visitor) -> None:
    check_page(page.name, page.html.encode("utf-8"), visitor)


@pytest.mark.parametrize("visitor", visitors.VISITORS)
@pytest.mark.parametrize("path", FINDINGS, ids=[path.stem for path in FINDINGS])
def test_fuzz_finding_stays_fixed(path: Path, visitor: Visitor) -> None:
    check_page(path.stem, path.read_bytes(), visitor)


# -- the judges themselves ------------------------------------------------------------


def test_generated_pages_carry_live_trackers_without_the_middleware() -> None:
    """The grammar is adversarial: most raw pages fetch a tracker, as html5lib reads them."""
    leaking = sum(
        bool(oracle.find_leaks(grammar.document(random.Random(seed)).render(), CATEGORIES))
        for seed in range(60)
    )
    assert leaking >= 50


def test_every_corpus_page_leaks_without_the_middleware() -> None:
    quiet = [page.name for page in PAGES if not oracle.find_leaks(page.html, CATEGORIES)]
    assert quiet == []


TRACKER = "https://www.googletagmanager.com/gtag/js?id=G-1"


@pytest.mark.parametrize(
    "html",
    [
        f'<p =" ><script src="{TRACKER}"></script> ">',
        f'<!x <!-- ><img src="{TRACKER}"> -->',
        f'<svg><style><img src="{TRACKER}"></style></svg>',
        f'<svg><title><script src="{TRACKER}"></script></title></svg>',
        f'<script>"<!--"</script><script src="{TRACKER}"></script>',
        '<base href="https://www.googletagmanager.com/"><script src="gtag/js"></script>',
        f"<iframe srcdoc=\"<script src='{TRACKER}'></script>\"></iframe>",
        f"<iframe src=\"data:text/html,<img src='{TRACKER}'>\"></iframe>",
        "<style>.a{background:u\\72l(https\\3a //www.facebook.com/tr?id=1)}</style>",
        "<meta http-equiv=REFRESH content=\"0; URL='https://www.facebook.com/tr'\">",
        '<script src="https&#58;&#47;&#47;connect&#46;facebook&#46;net/x.js"></script>',
        '<script>t.src="https:\\/\\/www.clarity.ms\\/tag\\/"+i;</script>',
        "<script type=text/javascript1.5>fbq('init', '1');</script>",
        "<img src=/a.png onerror=\"s.src='https://connect.facebook.net/x.js'\">",
        f'<link rel="preload" as="image" imagesrcset="/a.png 1x, {TRACKER} 2x">',
        # Chromium's preload scanner reads tag names, not namespaces (seen in Chromium):
        f'<svg><link rel=stylesheet href="{TRACKER}"></svg>',
        f'<math><input type=image src="{TRACKER}"></math>',
        f'<svg><video poster="{TRACKER}"></video></svg>',
        '<svg><base href="https://connect.facebook.net/"></svg><img src="/a.png">',
        f'<svg><script type="text/plain" href="{TRACKER}"></script></svg>',
        f'<svg><use href="{TRACKER}#icon"/></svg>',
        # ... and the last of repeated rel and type attributes (the DOM keeps the first):
        f'<link rel=author rel=preload as=script href="{TRACKER}">',
        f'<script type="text/plain" type="text/javascript" src="{TRACKER}"></script>',
        f'<input type=text type=image src="{TRACKER}">',
    ],
)
def test_oracle_sees_what_a_browser_fetches(html: str) -> None:
    assert oracle.find_leaks(html, CATEGORIES)


@pytest.mark.parametrize(
    "html",
    [
        f'<textarea><script src="{TRACKER}"></script></textarea>',
        f'<script type="text/plain" src="{TRACKER}"></script>',
        f'<script type="text/plain" data-consent-src="{TRACKER}"></script>',
        f'<script src="/a.js"/><script src="{TRACKER}"></script>',
        f'<template><img src="{TRACKER}"></template>',
        f'<a href="{TRACKER}">a link fetches nothing</a>',
        f'<input type=" image" src="{TRACKER}">',
        f"<style>/* url({TRACKER}) */</style>",
        f'<script type="application/ld+json">{{"u": "{TRACKER}"}}</script>',
        f'<img src="{TRACKER}',  # a tag cut by the end of the file is never emitted
        f'<svg><script src="{TRACKER}"></script></svg>',  # SVG scripts fetch href only
        f"<script>s.src='{TRACKER}';",  # a script cut by the end of the file never runs
        f"<x-img onerror=\"s.src='{TRACKER}'\"></x-img>",  # an unknown element never errors
        f'<span ping="{TRACKER}">ping is for links only</span>',
        f'<style>p {{ content: "{TRACKER}" }}</style>',
        f'<img src="/a.png" src="{TRACKER}">',  # a repeated src: the first counts everywhere
        # An SVG script or style runs or reads its Text children only: a comment in it is
        # no code (seen in Chromium 156: textContent "", no request; fuzz seed 2830280).
        f"<svg><script><!--s.src='{TRACKER}'</script></svg>",
        f"<svg><script><!--x--><g>s.src='{TRACKER}'</g></script></svg>",
        f"<svg><style><!--@import url({TRACKER});--></style></svg>",
    ],
)
def test_oracle_sees_inert_markup_as_inert(html: str) -> None:
    assert oracle.find_leaks(html, CATEGORIES) == []


def test_oracle_reads_noscript_both_ways() -> None:
    leaks = oracle.find_leaks(f'<noscript><img src="{TRACKER}"></noscript>', CATEGORIES)
    assert [leak.scripting for leak in leaks] == [False]
