"""The compiled scanner core against the pure-Python reference, on the same input.

Used by tests/test_compiled_core.py (a sample, in `make test`) and by
benchmarks/fuzz_core.py (`make fuzz`, long): each primitive the core replaces gives the
same result as the Python it replaces, and whole pages through the middleware come out
byte for byte the same on both paths, for every visitor and chunking.
"""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from adversarial import grammar, visitors
from asgi_consent import rewrite, skim, tags
from asgi_consent.compiled import Core

ROOT = Path(__file__).parent
PAGES = sorted(
    [
        *(ROOT / "fixtures" / "pages").glob("*.html"),
        *(ROOT / "adversarial" / "findings").glob("*.html"),
    ]
)
# Bytes that steer the tokenizer's states, names the skim and the decisions look for.
PIECES = [
    b"<", b">", b"/", b"=", b'"', b"'", b" ", b"\t", b"\n", b"\x0c", b"!", b"?", b"-", b"a",
    b"A", b"p", b"src", b"SRC", b"on", b"onclick", b"href", b"xlink:href", b"body", b"script",
    b"data-consent", b"data", b"to", b"link", b"area", b"div", b"x", b"\x00", b"\xe9", b"<a ",
    b"<p ", b"</p>", b"</body>", b"<img ", b"<area", b"style", b"<!--", b"-->", b"<svg>",
    b"</script>", b"<script>", b"<![CDATA[", b"]]>", b"<title>", b"<iframe src=", b"<br",
    b"</br", b"<meta ", b"<AREA", b"<applet", b"&", b"&#32;", b"\r\n", b"<base", b"<bAsE/",
    b"base", b"<BASE\x0c",
]  # fmt: skip


def compiled_core() -> Core | None:
    """The built core, even when ASGI_CONSENT_PURE_PYTHON turned it off for the package."""
    try:
        found: Core = importlib.import_module("asgi_consent._scanner")
    except ImportError:
        return None
    return found


def _users() -> list[ModuleType]:
    found = [
        module
        for name, module in sorted(sys.modules.items())
        if name.startswith("asgi_consent.") and name != "asgi_consent.compiled"
        and hasattr(module, "core")
    ]  # fmt: skip
    assert found, "no module of the package reads the compiled core"
    return found


@contextmanager
def using(core: Core | None) -> Iterator[None]:
    """Every module of the package runs with `core` (None: the pure-Python path)."""
    saved = [(module, module.core) for module in _users()]
    try:
        for module, _ in saved:
            module.core = core
        yield
    finally:
        for module, old in saved:
            module.core = old


def random_markup(rng: random.Random, most: int = 40) -> bytes:
    return b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, most)))


def primitive_mismatches(core: Core, doc: bytes, rng: random.Random, tries: int) -> list[str]:
    """Each primitive at `tries` random places in `doc` (and its prefixes), both ways."""
    found: list[str] = []
    for _ in range(tries):
        cut = rng.randint(0, len(doc))
        piece = doc[:cut] if rng.random() < 0.5 else bytearray(doc[:cut])
        pos = rng.randint(0, len(piece))
        for guarded, frameset_ok in skim._PATTERNS:
            expected = _python_skip(piece, pos, guarded, frameset_ok)
            if core.skip(piece, pos, guarded, frameset_ok) != expected:
                found.append(f"skip({bytes(piece)!r}, {pos}, {guarded}, {frameset_ok})")
        ref = tags.TAG_TAIL.match(piece, pos)
        if core.tag_end(piece, pos) != (ref.end() if ref is not None else -1):
            found.append(f"tag_end({bytes(piece)!r}, {pos})")
        name = tags.TAG_NAME.match(piece, pos)
        name_end = name.end() if name is not None else pos
        tail = tags.TAG_TAIL.match(piece, name_end)
        if core.tag_span(piece, pos) != (name_end, tail.end() if tail is not None else -1):
            found.append(f"tag_span({bytes(piece)!r}, {pos})")
        stop = rng.randint(pos, len(piece))
        attrs = core.read_attributes(piece, pos, stop, tags.Attribute)
        if attrs != tags._read_attributes(piece, pos, stop) or not all(
            type(a) is tags.Attribute for a in attrs
        ):
            found.append(f"read_attributes({bytes(piece)!r}, {pos}, {stop})")
        if core.count_base_tags(piece) != len(rewrite._BASE_TAG.findall(piece)):
            found.append(f"count_base_tags({bytes(piece)!r})")
    return found


def _python_skip(
    buf: bytes | bytearray, pos: int, guarded: bool, frameset_ok: bool
) -> tuple[int, Any]:
    return skim._skip(buf, pos, guarded, frameset_ok)


def page_mismatches(core: Core, page: bytes, chunkings: Sequence[Sequence[bytes]]) -> list[str]:
    """The page through the middleware, for each visitor and chunking, on both paths."""
    found: list[str] = []
    for chunks in chunkings:
        for visitor in visitors.VISITORS:
            with using(None):
                reference = visitors.serve(chunks, visitor)
            with using(core):
                compiled = visitors.serve(chunks, visitor)
            if compiled != reference:
                sizes = [len(c) for c in chunks]
                found.append(f"{visitor}, chunks {sizes}: {page[:300]!r}")
    return found


def generated_page(seed: int) -> tuple[bytes, list[list[bytes]]]:
    """A page of the adversarial grammar, whole and in two random chunkings."""
    page = grammar.document(random.Random(seed)).render()
    rng = random.Random(f"core-{seed}")
    return page, [[page], grammar.split(rng, page), grammar.split(rng, page)]
