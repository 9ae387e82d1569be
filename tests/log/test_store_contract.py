"""The Store contract: every test runs on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from asgi_consent.log import SCHEMA_VERSION, BannerVersion, DailyCount, Store
from asgi_consent.log.store import EXPORT_PAGE

from .conftest import Backend
from .helpers import BANNER, T0, all_records, make_record

pytestmark = pytest.mark.anyio


async def test_migrate_twice_keeps_one_schema_at_the_current_version(
    backend: Backend, store: Store
) -> None:
    await store.migrate()
    rows = await backend.execute("SELECT version FROM {schema}.consent_log_schema")
    assert [tuple(row) for row in rows] == [(SCHEMA_VERSION,)]


async def test_a_schema_newer_than_the_package_is_refused(backend: Backend, store: Store) -> None:
    await backend.execute("UPDATE {schema}.consent_log_schema SET version = 99")
    fresh = backend.open()
    with pytest.raises(RuntimeError, match="version 99"):
        await fresh.migrate()


async def test_written_records_read_back_field_for_field(store: Store) -> None:
    records = [
        make_record(),
        make_record(
            action="withdraw",
            granted=["necessary"],
            refused=["analytics", "marketing"],
            expires_at=None,
            method="form",
            gpc=True,
            language="pt-BR",
            path="/caf\u00e9/\u65e5\u672c",
            client=None,
            user_agent="Mozilla/5.0 (X11)",
            recorded_at=T0 + timedelta(microseconds=1),
        ),
    ]
    await store.write(records, [BANNER])
    assert await all_records(store) == records


async def test_writing_the_same_records_again_stores_each_once(store: Store) -> None:
    first = [make_record() for _ in range(5)]
    await store.write(first, [BANNER])
    second = first[2:] + [make_record() for _ in range(3)]
    await store.write(second, [BANNER])
    await store.write(second, [])
    stored = await all_records(store)
    assert sorted(r.record_id for r in stored) == sorted({r.record_id for r in first + second})


async def test_a_banner_version_is_stored_once_whole(store: Store) -> None:
    other = BannerVersion.of({"language": "de", "texts": {"title": "Cookies auf dieser Seite"}})
    await store.write([make_record()], [BANNER, other])
    await store.write([make_record()], [BANNER])
    assert await store.banner_version(BANNER.version_id) == BANNER
    found = await store.banner_version(other.version_id)
    assert found is not None and found.verify() and found.data["language"] == "de"
    assert await store.banner_version("0" * 32) is None


async def test_an_empty_write_is_harmless(store: Store) -> None:
    await store.write([], [])
    assert await all_records(store) == []


async def test_export_takes_since_inclusive_until_exclusive_oldest_first(store: Store) -> None:
    records = [make_record(recorded_at=T0 + timedelta(hours=hour)) for hour in (5, 1, 3, 2, 4)]
    await store.write(records, [BANNER])
    chosen = [r async for r in store.export(T0 + timedelta(hours=2), T0 + timedelta(hours=4))]
    assert [r.recorded_at for r in chosen] == [T0 + timedelta(hours=2), T0 + timedelta(hours=3)]
    assert [r.recorded_at.hour for r in await all_records(store)] == [13, 14, 15, 16, 17]


async def test_export_pages_through_many_records_with_the_same_time(store: Store) -> None:
    records = [make_record() for _ in range(EXPORT_PAGE * 2 + 7)]
    await store.write(records, [BANNER])
    exported = [record.record_id for record in await all_records(store)]
    assert len(exported) == len(set(exported)) == len(records)


async def test_records_of_one_consent_id_come_oldest_first(store: Store) -> None:
    mine = [
        make_record(consent_id="visitor-a", action=action, recorded_at=T0 + timedelta(days=day))
        for day, action in ((2, "reject"), (0, "accept"), (1, "grant"))
    ]
    await store.write([*mine, make_record(consent_id="visitor-b")], [BANNER])
    found = await store.records_of("visitor-a")
    assert [r.action for r in found] == ["accept", "grant", "reject"]
    assert await store.records_of("nobody") == []


async def test_stats_count_choices_by_day_and_action(store: Store) -> None:
    day = timedelta(days=1)
    plan = [(0, "accept"), (0, "accept"), (0, "reject"), (1, "save"), (2, "accept")]
    records = [make_record(action=action, recorded_at=T0 + n * day) for n, action in plan]
    await store.write(records, [BANNER])
    assert await store.stats() == [
        DailyCount(date(2026, 3, 1), "accept", 2),
        DailyCount(date(2026, 3, 1), "reject", 1),
        DailyCount(date(2026, 3, 2), "save", 1),
        DailyCount(date(2026, 3, 3), "accept", 1),
    ]
    assert await store.stats(T0 + day, T0 + 2 * day) == [DailyCount(date(2026, 3, 2), "save", 1)]


async def test_purge_deletes_records_older_than_the_days_given(store: Store) -> None:
    records = [make_record(recorded_at=T0 - timedelta(days=age)) for age in (400, 366, 10, 0)]
    await store.write(records, [BANNER])
    assert await store.purge(365, now=T0) == 2
    assert sorted(r.recorded_at for r in await all_records(store)) == [
        T0 - timedelta(days=10),
        T0,
    ]
    assert await store.banner_version(BANNER.version_id) == BANNER
    with pytest.raises(ValueError):
        await store.purge(-1)


async def test_two_stores_on_one_database_write_at_once(backend: Backend, store: Store) -> None:
    other = backend.open()
    await other.migrate()
    batches = [[make_record() for _ in range(20)] for _ in range(10)]
    await asyncio.gather(
        *((store if n % 2 else other).write(batch, [BANNER]) for n, batch in enumerate(batches))
    )
    assert len(await all_records(store)) == 200


async def test_visitor_text_no_store_can_hold_is_stored_replaced(store: Store) -> None:
    record = make_record(path="/\x00\ud800", user_agent="\x00")
    await store.write([record], [BANNER])
    (stored,) = await all_records(store)
    assert stored.path == "/\ufffd?" and stored.user_agent == "\ufffd"
