"""The scanner's optional compiled core (`_scanner.c`), or None for the pure-Python path.

The package's build compiles it when a C compiler is there; without one, or with
`ASGI_CONSENT_PURE_PYTHON=1` in the environment, every caller takes the Python code,
which stays the reference: the core reads the same tokenizer states and must give the
same results (tests/test_compiled_core.py, benchmarks/fuzz_core.py).
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Protocol

Buffer = bytes | bytearray


class Core(Protocol):
    """What _scanner.c exports (each function's reference is named in the C file)."""

    def skip(
        self, buf: Buffer, pos: int, guarded: bool, frameset_ok: bool, /
    ) -> tuple[int, dict[bytes, int], dict[bytes, int]]:
        """skim._skip(): (stop, {name: start tags less end tags}, {name: lowest balance})."""

    def tag_end(self, buf: Buffer, pos: int, /) -> int:
        """tags.TAG_TAIL from `pos` (a tag's name end): after its ">", or -1."""

    def tag_span(self, buf: Buffer, name_start: int, /) -> tuple[int, int]:
        """tags.TAG_NAME and TAG_TAIL: (where the name ends, tag_end from there)."""

    def read_attributes(self, buf: Buffer, start: int, stop: int, cls: Any, /) -> list[Any]:
        """tags.read_attributes, each attribute made as the tuple class `cls`."""

    def count_base_tags(self, buf: Buffer, /) -> int:
        """len(rewrite._BASE_TAG.findall(buf))."""


def _load() -> Core | None:
    if os.environ.get("ASGI_CONSENT_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        found: Core = importlib.import_module(f"{__package__}._scanner")
    except ImportError:
        return None
    return found


core = _load()
