"""The writer: group commit, spill when the store fails, replay exactly once, flush on close."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asgi_consent.log import LogWriter, SqliteStore, Store
from asgi_consent.log.spill import Spill

from .helpers import BANNER, FlakyStore, all_records, make_record, wait_for

pytestmark = pytest.mark.anyio


def spill_lines(directory: Path) -> list[dict[str, object]]:
    lines: list[dict[str, object]] = []
    for path in sorted(directory.glob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


def spilled_ids(directory: Path) -> set[str]:
    return {str(line["record"]["record_id"]) for line in spill_lines(directory) if "record" in line}  # type: ignore[index]


@pytest.fixture
async def flaky(tmp_path: Path) -> FlakyStore:
    store = FlakyStore(SqliteStore(tmp_path / "consent.db"))
    await store.inner.migrate()
    return store


def writer_for(store: Store, tmp_path: Path, **options: float) -> LogWriter:
    options.setdefault("retry_interval", 0.05)
    return LogWriter(store, tmp_path / "spill", **options)  # type: ignore[arg-type]


async def test_many_concurrent_records_go_in_few_batches(flaky: FlakyStore, tmp_path: Path) -> None:
    writer = writer_for(flaky, tmp_path)
    await writer.start()
    records = [make_record() for _ in range(400)]
    outcomes = await asyncio.gather(*(writer.record(r, BANNER) for r in records))
    await writer.close()
    assert set(outcomes) == {"stored"}
    assert sum(flaky.writes) == 400 and len(flaky.writes) <= 10
    stored = await all_records(SqliteStore(tmp_path / "consent.db"))
    assert sorted(r.record_id for r in stored) == sorted(r.record_id for r in records)


async def test_a_batch_never_exceeds_max_batch(flaky: FlakyStore, tmp_path: Path) -> None:
    writer = LogWriter(flaky, tmp_path / "spill", max_batch=7)
    await asyncio.gather(*(writer.record(make_record()) for _ in range(50)))
    await writer.close()
    assert max(flaky.writes) <= 7 and sum(flaky.writes) == 50


async def test_a_banner_version_is_sent_until_stored_then_no_more(
    flaky: FlakyStore, tmp_path: Path
) -> None:
    sent: list[int] = []
    inner_write = flaky.write

    async def counting_write(records, banners):  # type: ignore[no-untyped-def]
        sent.append(len(banners))
        await inner_write(records, banners)

    flaky.write = counting_write  # type: ignore[method-assign]
    writer = writer_for(flaky, tmp_path)
    for _ in range(3):
        await writer.record(make_record(), BANNER)
    await writer.close()
    assert sent == [1, 0, 0]


async def test_a_store_that_is_down_spills_and_replays_exactly_once_when_back(
    flaky: FlakyStore, tmp_path: Path
) -> None:
    writer = writer_for(flaky, tmp_path)
    await writer.start()
    before = [make_record() for _ in range(5)]
    for record in before:
        assert await writer.record(record, BANNER) == "stored"
    flaky.down = True
    during = [make_record() for _ in range(60)]
    outcomes = await asyncio.gather(*(writer.record(r, BANNER) for r in during))
    assert set(outcomes) == {"spilled"}
    assert spilled_ids(tmp_path / "spill") == {r.record_id for r in during}
    flaky.down = False
    await wait_for(lambda: writer.counts.replayed == 60 and not writer.spilling)
    assert not list((tmp_path / "spill").glob("*.jsonl"))
    after = make_record()
    assert await writer.record(after) == "stored"
    await writer.close()
    stored = [r.record_id for r in await all_records(flaky.inner)]
    assert sorted(stored) == sorted(r.record_id for r in [*before, *during, after])
    assert writer.counts.lost == 0


async def test_a_store_that_hangs_costs_a_choice_at_most_the_commit_timeout(
    flaky: FlakyStore, tmp_path: Path
) -> None:
    # No replay while the store hangs (an hour between tries): each store call counted
    # here comes from a choice. (Counted, not timed: a loaded machine is slow anyway.)
    writer = writer_for(flaky, tmp_path, commit_timeout=0.1, retry_interval=3600)
    await writer.start()
    flaky.hang = True
    # The store would answer in an hour; the commit timeout answers instead.
    assert await asyncio.wait_for(writer.record(make_record()), 30) == "spilled"
    assert flaky.hung == 1 and writer.spilling
    assert await writer.record(make_record()) == "spilled"
    assert flaky.hung == 1  # the store is left alone now: straight to the spill
    await writer.close()
    store = SqliteStore(tmp_path / "consent.db")  # answering again, to the next writer
    second = writer_for(store, tmp_path)
    await second.start()
    await wait_for(lambda: second.counts.replayed == 2)
    await second.close()
    check = SqliteStore(tmp_path / "consent.db")
    assert len(await all_records(check)) == 2
    await check.close()


async def test_a_batch_stored_but_reported_failed_is_kept_once(
    flaky: FlakyStore, tmp_path: Path
) -> None:
    writer = writer_for(flaky, tmp_path)
    flaky.fail_after_commit = True
    records = [make_record() for _ in range(10)]
    assert set(await asyncio.gather(*(writer.record(r) for r in records))) == {"spilled"}
    flaky.fail_after_commit = False
    await wait_for(lambda: writer.counts.replayed == 10)
    await writer.close()
    stored = [r.record_id for r in await all_records(flaky.inner)]
    assert sorted(stored) == sorted(r.record_id for r in records)


async def test_close_flushes_every_queued_record(flaky: FlakyStore, tmp_path: Path) -> None:
    writer = writer_for(flaky, tmp_path)
    records = [make_record() for _ in range(100)]
    waiting = [asyncio.ensure_future(writer.record(r)) for r in records]
    await asyncio.sleep(0)
    await writer.close()
    assert {task.result() for task in waiting} == {"stored"}
    assert len(await all_records(SqliteStore(tmp_path / "consent.db"))) == 100


async def test_close_with_the_store_down_keeps_the_records_in_the_spill_and_says_so(
    flaky: FlakyStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flaky.down = True
    writer = writer_for(flaky, tmp_path)
    records = [make_record() for _ in range(8)]
    await asyncio.gather(*(writer.record(r) for r in records))
    await writer.close()
    assert spilled_ids(tmp_path / "spill") == {r.record_id for r in records}
    assert "8 records wait in the spill" in caplog.text


async def test_a_new_writer_replays_what_an_earlier_one_left_in_the_spill(
    flaky: FlakyStore, tmp_path: Path
) -> None:
    flaky.down = True
    first = writer_for(flaky, tmp_path)
    records = [make_record() for _ in range(12)]
    await asyncio.gather(*(first.record(r, BANNER) for r in records))
    await first.close()
    store = SqliteStore(tmp_path / "consent.db")
    second = writer_for(store, tmp_path)
    await second.start()
    await wait_for(lambda: second.counts.replayed == 12)
    assert not list((tmp_path / "spill").glob("*.jsonl"))  # deleted before counted
    assert await store.banner_version(BANNER.version_id) == BANNER
    await second.close()
    check = SqliteStore(tmp_path / "consent.db")
    assert len(await all_records(check)) == 12
    await check.close()


async def test_a_record_after_close_is_reported_lost(
    flaky: FlakyStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = writer_for(flaky, tmp_path)
    await writer.close()
    with caplog.at_level(logging.ERROR, logger="asgi_consent.log"):
        assert await writer.record(make_record()) == "lost"
    assert "1 record could not be written" in caplog.text


async def test_a_cancelled_caller_does_not_withdraw_its_record(
    flaky: FlakyStore, tmp_path: Path
) -> None:
    writer = writer_for(flaky, tmp_path)
    record = make_record()
    task = asyncio.ensure_future(writer.record(record))
    await asyncio.sleep(0)
    task.cancel()
    await writer.close()
    assert [r.record_id for r in await all_records(SqliteStore(tmp_path / "consent.db"))] == [
        record.record_id
    ]


async def test_unreadable_spill_lines_are_set_aside_and_logged(
    flaky: FlakyStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flaky.down = True
    first = writer_for(flaky, tmp_path)
    await first.record(make_record())
    await first.close()
    (segment,) = (tmp_path / "spill").glob("*.jsonl")
    with segment.open("a") as file:
        file.write('{"record": {"record_id": "cut in the mid')
    flaky.down = False
    second = writer_for(flaky, tmp_path)
    await second.start()
    await wait_for(lambda: second.counts.replayed == 1)
    await second.close()
    assert "1 lines of a spill segment could not be read" in caplog.text
    assert list((tmp_path / "spill").glob("*.unreadable"))
    assert len(await all_records(flaky.inner)) == 1


async def test_retention_purges_old_records_at_start(flaky: FlakyStore, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old, recent = make_record(recorded_at=now - timedelta(days=40)), make_record(recorded_at=now)
    await flaky.inner.write([old, recent], [BANNER])
    writer = LogWriter(flaky, tmp_path / "spill", retention_days=30)
    await writer.start()
    await wait_for(_only(flaky, recent.record_id))
    await writer.close()


def _only(store: FlakyStore, record_id: str):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return [r.record_id for r in await all_records(store.inner)] == [record_id]

    return check


async def test_a_record_the_store_refuses_is_set_aside_and_the_rest_replayed(
    flaky: FlakyStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inner_write = flaky.write

    async def refusing_write(records, banners):  # type: ignore[no-untyped-def]
        if any(record.consent_id == "poison" for record in records):
            raise ValueError("the store cannot take this record")
        await inner_write(records, banners)

    flaky.write = refusing_write  # type: ignore[method-assign]
    writer = writer_for(flaky, tmp_path)
    good = [make_record() for _ in range(30)]
    bad = make_record(consent_id="poison")
    outcomes = await asyncio.gather(*(writer.record(r) for r in [*good[:15], bad, *good[15:]]))
    assert "lost" not in outcomes
    await wait_for(lambda: writer.counts.rejected == 1 and not writer.spilling)
    assert await writer.record(make_record()) == "stored"  # the store is used again
    await writer.close()
    stored = {r.record_id for r in await all_records(flaky.inner)}
    assert {r.record_id for r in good} <= stored and bad.record_id not in stored
    (rejected,) = (tmp_path / "spill").glob("*.rejected")
    assert bad.record_id in rejected.read_text()
    assert "refused 1 spilled records" in caplog.text


async def test_a_segment_another_writer_holds_is_left_to_it_until_released(
    flaky: FlakyStore, tmp_path: Path
) -> None:
    other = Spill(tmp_path / "spill")  # another process's writer, spilling right now
    theirs = [make_record() for _ in range(4)]
    other.append(theirs, [BANNER])
    writer = writer_for(flaky, tmp_path)
    await writer.start()
    mine = make_record()
    flaky.down = True
    await writer.record(mine)
    flaky.down = False
    await wait_for(lambda: writer.counts.replayed == 1)
    await writer.close()
    assert [r.record_id for r in await all_records(flaky.inner)] == [mine.record_id]
    other.close()  # that process stopped: its segment is free for whoever starts next
    again = writer_for(SqliteStore(tmp_path / "consent.db"), tmp_path)
    await again.start()
    await wait_for(lambda: again.counts.replayed == 4)
    await again.close()


async def test_a_store_call_whose_caller_is_cancelled_is_cancelled_and_kept(
    tmp_path: Path,
) -> None:
    # A replay cancelled at close leaves its store call behind: that call is cancelled
    # too and kept for settle(), so a failure it ends with is retrieved, never reported
    # by asyncio as "Task exception was never retrieved".
    from asgi_consent.log.guard import StoreGuard

    started = asyncio.Event()

    async def hanging_write() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            raise OSError("the pool closed under the call")

    guard = StoreGuard(object(), tmp_path)
    caller = asyncio.ensure_future(guard.bounded(hanging_write(), timeout=60))
    await started.wait()
    (call,) = [task for task in asyncio.all_tasks() if task.get_coro().__name__ == "hanging_write"]  # type: ignore[union-attr]
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await guard.settle()
    assert call.done()
    assert guard._stray == set()
