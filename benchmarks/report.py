"""The in-process table, and with two versions the before/after summary of the targets."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

Triple = tuple[float, float, float]


@dataclass
class Row:
    case: str
    what: str
    per_request: Triple | None = None  # microseconds
    throughput: Triple | None = None  # MB/s
    ratio: Triple | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    version: str = ""  # "before" / "after" when two versions ran in the same rounds
    rounds: list[float] = field(default_factory=list)  # the ratio in each round


def spread(values: list[float]) -> Triple:
    return min(values), statistics.median(values), max(values)


def _triple(values: Triple | None, digits: int) -> str:
    if values is None:
        return ""
    return " / ".join(f"{v:.{digits}f}" for v in values)


def _table(header: tuple[str, ...], body: Sequence[tuple[str, ...]]) -> list[str]:
    table = [header, *body]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for index, row in enumerate(table):
        lines.append(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return lines


def format_table(rows: list[Row], rounds: int) -> str:
    header = (
        "case",
        "variant",
        "us per request (min/med/max)",
        "MB/s (min/med/max)",
        "ratio (min/med/max)",
        "target",
        "met",
        "note",
    )
    body = [
        (
            r.case,
            r.what,
            _triple(r.per_request, 1),
            _triple(r.throughput, 1),
            _triple(r.ratio, 3),
            r.target,
            "" if r.met is None else ("yes" if r.met else "NO"),
            r.note,
        )
        for r in rows
    ]
    title = f"In-process benchmark: {rounds} interleaved rounds; medians decide the targets."
    return "\n".join([title, *_table(header, body)])


def format_comparison(rows: list[Row], before: str, after: str) -> str:
    """Per target: each version's median ratio and cost, and after/before taken round by
    round (both ran seconds apart in every round, under the same load)."""
    header = (
        "case",
        "target",
        f"{before} ratio (med)",
        f"{after} ratio (med)",
        "after/before ratio (min/med/max)",
        f"{before} us (med)",
        f"{after} us (med)",
    )
    body = []
    judged = [r for r in rows if r.rounds]
    for row in judged:
        if row.version != after:
            continue
        old = next((r for r in judged if r.case == row.case and r.version == before), None)
        if old is None:
            continue
        change = [a / b for a, b in zip(row.rounds, old.rounds, strict=True)]
        body.append(
            (
                row.case,
                row.target,
                f"{statistics.median(old.rounds):.3f}",
                f"{statistics.median(row.rounds):.3f}",
                _triple(spread(change), 2),
                f"{old.per_request[1]:.1f}" if old.per_request else "",
                f"{row.per_request[1]:.1f}" if row.per_request else "",
            )
        )
    title = (
        f"{after} against {before}, in the same rounds. Ratios as in the table above (higher"
        " is better, except c: added time / gzip's, lower is better); us: the row's time."
    )
    return "\n".join([title, *_table(header, body)])
