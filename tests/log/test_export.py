"""Exports for auditors: csv and jsonl, streamed from any store."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable

import pytest

from asgi_consent.log import (
    CSV_COLUMNS,
    BannerVersion,
    ConsentRecord,
    Store,
    csv_lines,
    write_export,
)

from .helpers import BANNER, make_record

pytestmark = pytest.mark.anyio


async def stream(records: Iterable[ConsentRecord]) -> AsyncIterator[ConsentRecord]:
    for record in records:
        yield record


async def test_csv_has_a_header_and_one_row_per_record() -> None:
    records = [make_record(), make_record(action="reject", granted=["necessary"], gpc=True)]
    out = io.StringIO(newline="")
    assert await write_export(stream(records), out, "csv") == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["granted"] == "analytics necessary" and rows[0]["gpc"] == "false"
    assert rows[1]["action"] == "reject" and rows[1]["gpc"] == "true"
    assert rows[1]["recorded_at"] == "2026-03-01T12:00:00.000000Z"
    assert rows[0]["user_agent"] == ""


async def test_csv_defuses_cells_a_spreadsheet_would_run() -> None:
    record = make_record(user_agent='=HYPERLINK("http://evil.example")', path='/a,b\n"c"')
    lines = [line async for line in csv_lines(stream([record]))]
    (row,) = csv.DictReader(io.StringIO("".join(lines), newline=""))
    assert row["user_agent"] == '\'=HYPERLINK("http://evil.example")'
    assert row["path"] == '/a,b\n"c"'


async def test_jsonl_is_one_record_per_line_with_each_banner_version_once(store: Store) -> None:
    records = [make_record() for _ in range(3)]
    await store.write(records, [BANNER])
    out = io.StringIO()
    count = await write_export(store.export(), out, "jsonl", banner_version=store.banner_version)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == 3 and len(lines) == 4
    assert lines[0]["banner_version"]["version_id"] == BANNER.version_id
    shown = BannerVersion.of(lines[0]["banner_version"]["content"])
    assert shown == BANNER
    exported = [ConsentRecord.from_dict(line) for line in lines[1:]]
    assert exported == sorted(records, key=lambda record: record.record_id)


async def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="csv, jsonl"):
        await write_export(stream([]), io.StringIO(), "xml")  # type: ignore[arg-type]
