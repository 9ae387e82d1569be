"""`Memo`: the one way this package remembers an answer.

Each memo lives on an object the middleware owns (the codec, the header filter, the
page planner...), so it is dropped with the middleware and two middlewares never
share one. Only the memos a benchmark showed to pay for themselves exist.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Remembers `compute(key)` for keys that repeat, within fixed bounds.

    At most `size` entries. With `longest`, a key (bytes or str) longer than that is
    answered but never kept, so keys a visitor controls hold at most `size * longest`
    characters. A full memo starts afresh: no order to maintain on every hit, and what
    repeats is back after one miss.

    ::

        languages: Memo[bytes, str] = Memo(size=1024, longest=256)
        language = languages.get(accept_language, choose)
    """

    __slots__ = ("_entries", "_size", "_longest")

    def __init__(self, *, size: int, longest: int | None = None) -> None:
        self._entries: dict[K, V] = {}
        self._size = size
        self._longest = longest

    def get(self, key: K, compute: Callable[[K], V]) -> V:
        """The answer for `key`: remembered, or `compute(key)` (then remembered if the
        key is short enough)."""
        try:
            return self._entries[key]
        except KeyError:
            pass
        value = compute(key)
        if self._longest is None or _length(key) <= self._longest:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def key_size(self) -> int:
        """The total length of the keys kept (bounded by `size * longest`)."""
        return sum(_length(key) for key in self._entries)


def _length(key: object) -> int:
    return len(key) if isinstance(key, bytes | str) else 0
