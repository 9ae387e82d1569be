"""Memo: the one bounded memo type."""

from __future__ import annotations

from collections.abc import Callable

from asgi_consent.memo import Memo


def counting(calls: list[str]) -> Callable[[str], str]:
    def compute(key: str) -> str:
        calls.append(key)
        return key.upper()

    return compute


def test_a_memo_computes_each_key_once() -> None:
    calls: list[str] = []
    memo: Memo[str, str] = Memo(size=4)
    assert [memo.get(key, counting(calls)) for key in "abab"] == ["A", "B", "A", "B"]
    assert calls == ["a", "b"]


def test_a_key_longer_than_the_limit_is_answered_but_not_kept() -> None:
    calls: list[str] = []
    memo: Memo[str, str] = Memo(size=4, longest=3)
    assert memo.get("long", counting(calls)) == "LONG"
    assert memo.get("long", counting(calls)) == "LONG"
    assert calls == ["long", "long"]
    assert len(memo) == 0


def test_a_full_memo_starts_afresh() -> None:
    memo: Memo[int, int] = Memo(size=3)
    for key in range(10):
        memo.get(key, lambda key: key * 2)
        assert len(memo) <= 3
    assert len(memo) == 1  # 9 came after the third clearing


def test_keys_from_visitors_hold_at_most_size_times_longest_bytes() -> None:
    memo: Memo[bytes, int] = Memo(size=100, longest=50)
    for index in range(1000):
        memo.get(b"%d" % index * (index % 80), len)
    assert len(memo) <= 100
    assert memo.key_size() <= 100 * 50


def test_a_remembered_none_is_not_computed_again() -> None:
    calls: list[str] = []

    def nothing(key: str) -> None:
        calls.append(key)

    memo: Memo[str, None] = Memo(size=4)
    memo.get("a", nothing)
    memo.get("a", nothing)
    assert calls == ["a"]
