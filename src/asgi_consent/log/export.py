"""Streaming exports for auditors: CSV and JSON lines, one record at a time.

Memory stays flat however large the range: the store reads in pages and each record is
written as soon as it arrives. Banner versions are not repeated per row; `log show`
prints the one a visitor saw, and the jsonl export can carry them once each.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Literal, TextIO

from .records import BannerVersion, ConsentRecord

ExportFormat = Literal["csv", "jsonl"]
FORMATS: tuple[str, ...] = ("csv", "jsonl")

CSV_COLUMNS = (
    "record_id",
    "consent_id",
    "recorded_at",
    "action",
    "granted",
    "refused",
    "policy_revision",
    "expires_at",
    "method",
    "gpc",
    "language",
    "path",
    "banner_version",
    "client",
    "user_agent",
)

# A spreadsheet runs a cell that starts with one of these as a formula; the path and the
# user agent come from visitors. OWASP's advice: prefix such a cell with a quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        text = " ".join(str(item) for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


async def csv_lines(records: AsyncIterable[ConsentRecord]) -> AsyncIterator[str]:
    """A header line, then one CSV line per record (RFC 4180 quoting, ``\\r\\n`` ends).

    Categories are space-separated; times are ISO 8601 UTC; cells a spreadsheet would
    run as formulas get a leading ``'``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(row: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        return buffer.getvalue()

    yield line(list(CSV_COLUMNS))
    async for record in records:
        data = record.to_dict()
        yield line([_cell(data[column]) for column in CSV_COLUMNS])


async def jsonl_lines(
    records: AsyncIterable[ConsentRecord],
    banner_version: Callable[[str], Awaitable[BannerVersion | None]] | None = None,
) -> AsyncIterator[str]:
    """One JSON object per line per record (`ConsentRecord.to_dict`).

    With `banner_version` (a store's method), each banner version a record names is
    written once, as ``{"banner_version": {...}}``, before the first record naming it.
    """
    seen: set[str] = set()
    async for record in records:
        if banner_version is not None and record.banner_version not in seen:
            seen.add(record.banner_version)
            banner = await banner_version(record.banner_version)
            if banner is not None:
                yield json.dumps({"banner_version": banner.to_dict()}, ensure_ascii=False) + "\n"
        yield json.dumps(record.to_dict(), ensure_ascii=False) + "\n"


async def write_export(
    records: AsyncIterable[ConsentRecord],
    out: TextIO,
    export_format: ExportFormat,
    *,
    banner_version: Callable[[str], Awaitable[BannerVersion | None]] | None = None,
) -> int:
    """Write `records` to `out` as csv or jsonl; return how many records were written.

    For the CLI: ``await write_export(store.export(since, until), sys.stdout, "csv")``.
    Open `out` with ``newline=""`` for csv, as the csv module asks.
    """
    count = 0

    async def counted() -> AsyncIterator[ConsentRecord]:
        nonlocal count
        async for record in records:
            count += 1
            yield record

    if export_format == "csv":
        lines = csv_lines(counted())
    elif export_format == "jsonl":
        lines = jsonl_lines(counted(), banner_version)
    else:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}: {export_format!r}")
    async for text in lines:
        out.write(text)
    return count
