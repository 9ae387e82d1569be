"""The scanner's compiled core (`_scanner.c`) gives what the pure-Python scanner gives.

A sample: each primitive the core replaces against its Python reference on random
markup and the corpus pages, and whole pages (the corpus, and pages of the adversarial
grammar) through the middleware for every visitor and several chunkings, byte for byte.
`make fuzz` runs the same comparisons long (benchmarks/fuzz_core.py). Without a built
core the test skips, except under CI, where the build must have made it.
"""

from __future__ import annotations

import os
import random

import pytest

import core_differential as differential
from asgi_consent import compiled

CORE = differential.compiled_core()
pytestmark = pytest.mark.skipif(
    CORE is None and not os.environ.get("CI"), reason="the C core is not built here"
)


def _core() -> compiled.Core:
    assert CORE is not None, "CI: the package's build did not make the C core"
    return CORE


def test_the_package_uses_the_core_unless_told_not_to() -> None:
    forced = os.environ.get("ASGI_CONSENT_PURE_PYTHON", "") not in ("", "0")
    assert (compiled.core is None) == forced
    assert (compiled.core is None) or compiled.core is _core()


def test_each_primitive_reads_random_markup_as_the_python_reference() -> None:
    core, rng = _core(), random.Random(20261201)
    wrong: list[str] = []
    for _ in range(4000):
        wrong += differential.primitive_mismatches(core, differential.random_markup(rng), rng, 4)
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("path", differential.PAGES, ids=lambda p: p.name)
def test_each_primitive_reads_a_corpus_page_as_the_python_reference(path: object) -> None:
    core, page = _core(), differential.ROOT.joinpath(str(path)).read_bytes()
    wrong = differential.primitive_mismatches(core, page, random.Random(str(path)), 60)
    assert not wrong, wrong[:3]


@pytest.mark.parametrize("path", differential.PAGES, ids=lambda p: p.name)
def test_a_corpus_page_comes_out_the_same_on_both_paths(path: object) -> None:
    page = differential.ROOT.joinpath(str(path)).read_bytes()
    rng = random.Random(str(path))
    chunkings = [[page], [page[i : i + 97] for i in range(0, len(page), 97)]]
    chunkings.append(differential.grammar.split(rng, page))
    assert not differential.page_mismatches(_core(), page, chunkings)


def test_generated_pages_come_out_the_same_on_both_paths() -> None:
    wrong: list[str] = []
    for seed in range(150):
        page, chunkings = differential.generated_page(seed)
        wrong += [
            f"seed {seed}: {w}" for w in differential.page_mismatches(_core(), page, chunkings)
        ]
    assert not wrong, wrong[:3]
