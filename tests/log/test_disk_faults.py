"""A read-only SQLite file and a full disk: choices still work, errors are logged,
records wait in the spill (or, when the spill's disk is full too, are counted as lost)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from pathlib import Path

import pytest

from asgi_consent.log import LogWriter, SqliteStore
from asgi_consent.log import spill as spill_module

from .helpers import BANNER, all_records, fill, make_record, remount, tmpfs, wait_for
from .test_writer import spilled_ids

pytestmark = pytest.mark.anyio


class ReadOnlySqliteStore(SqliteStore):
    """Where no file system can be remounted: the same file opened read-only by SQLite
    (in the store's thread: no writer process, which would open it read-write)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, writer_process=False)

    def _connect(self):  # type: ignore[no-untyped-def]
        import sqlite3

        return sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, isolation_level=None)


async def _migrated(path: Path) -> None:
    store = SqliteStore(path)
    await store.migrate()
    await store.write([make_record()], [BANNER])
    await store.close()


async def test_a_read_only_sqlite_file_spills_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with tmpfs("1m") as mounted:
        directory = mounted or tmp_path
        await _migrated(directory / "consent.db")
        if mounted:
            remount(mounted, "ro")
            store: SqliteStore = SqliteStore(directory / "consent.db")
        else:
            store = ReadOnlySqliteStore(directory / "consent.db")
        writer = LogWriter(store, tmp_path / "spill", retry_interval=0.05)
        await writer.start()
        records = [make_record() for _ in range(20)]
        with caplog.at_level(logging.WARNING, logger="asgi_consent.log"):
            outcomes = await asyncio.gather(*(writer.record(r, BANNER) for r in records))
        assert set(outcomes) == {"spilled"}
        assert "could not" in caplog.text and "consent.db" in caplog.text
        assert spilled_ids(tmp_path / "spill") == {r.record_id for r in records}
        if mounted:  # the file becomes writable again: the spill is replayed into it
            remount(mounted, "rw")
            await wait_for(lambda: writer.counts.replayed == 20)
        await writer.close()
        if mounted:
            check = SqliteStore(directory / "consent.db")
            assert len(await all_records(check)) == 21
            await check.close()


class FullDiskSqliteStore(SqliteStore):
    """Where no tmpfs can be mounted: SQLite's own answer to a full disk, on every write
    (in the store's thread: no writer process)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, writer_process=False)

    def _execute(self, statements):  # type: ignore[no-untyped-def]
        import sqlite3

        raise sqlite3.OperationalError("database or disk is full")


def _fail_with_enospc(fd: int, data: bytes) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


async def test_a_full_disk_under_the_database_spills_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with tmpfs("256k") as mounted:
        directory = mounted or tmp_path
        await _migrated(directory / "consent.db")
        if mounted:
            fill(mounted)
            store: SqliteStore = SqliteStore(directory / "consent.db")
        else:
            store = FullDiskSqliteStore(directory / "consent.db")
        writer = LogWriter(store, tmp_path / "spill")
        # Big enough that no free page left in the database or its WAL can take it.
        records = [make_record(user_agent="U" * 512) for _ in range(200)]
        with caplog.at_level(logging.WARNING, logger="asgi_consent.log"):
            outcomes = await asyncio.gather(*(writer.record(r) for r in records))
        assert set(outcomes) == {"spilled"}
        assert "could not write: OperationalError" in caplog.text  # SQLite says which
        assert spilled_ids(tmp_path / "spill") == {r.record_id for r in records}
        await writer.close()


async def test_a_full_disk_under_the_spill_too_counts_and_logs_the_lost_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tmpfs("64k") as mounted:
        if mounted is None:
            monkeypatch.setattr(spill_module, "_write_all", _fail_with_enospc)
            spill_dir = tmp_path / "spill"
        else:
            spill_dir = mounted / "spill"
            spill_dir.mkdir()
            fill(mounted)
        store = SqliteStore(tmp_path / "no-such-dir" / "consent.db")  # cannot open: fails
        writer = LogWriter(store, spill_dir)
        records = [make_record(user_agent="U" * 512) for _ in range(150)]
        with caplog.at_level(logging.ERROR, logger="asgi_consent.log"):
            outcomes = await asyncio.gather(*(writer.record(r) for r in records))
        assert set(outcomes) == {"lost"}  # the choices themselves went through
        assert writer.counts.lost == 150
        lost = [m for m in caplog.messages if "records could not be written" in m]
        assert sum(int(m.split()[2]) for m in lost) == 150
        assert "No space left on device" in caplog.text
        assert not spilled_ids(spill_dir)  # a half-written batch was cut off again
        await writer.close()
