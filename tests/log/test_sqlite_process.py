"""The SQLite store writes batches in a child process: started in the background, ended
at close, replaced when it dies (the batch it held is spilled and replayed, once), and
left for the thread where no child can run."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from asgi_consent.log import LogWriter, SqliteStore, sqliteproc

from .helpers import BANNER, all_records, make_record, wait_for

pytestmark = pytest.mark.anyio


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes: it only waits to be reaped.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


async def test_batches_go_to_a_child_process_once_it_is_ready_and_close_ends_it(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "consent.db")
    await store.migrate()
    first = [make_record() for _ in range(3)]
    await store.write(first, [BANNER])  # in the thread, while the child starts
    await wait_for(lambda: store.writer_pid is not None)
    pid = store.writer_pid
    assert pid is not None and pid != os.getpid() and alive(pid)
    later = [make_record() for _ in range(300)]
    await store.write(later, [BANNER])
    await store.write(later[:10], [])  # again: kept once
    await store.close()
    assert not alive(pid)
    check = SqliteStore(tmp_path / "consent.db")
    stored = await all_records(check)
    await check.close()
    assert sorted(r.record_id for r in stored) == sorted(r.record_id for r in first + later)
    with sqlite3.connect(tmp_path / "consent.db") as db:
        banners = db.execute("SELECT version_id, content FROM consent_banner_versions").fetchall()
    assert banners == [(BANNER.version_id, BANNER.content)]


async def test_the_child_outlives_a_stop_signal_sent_to_the_whole_process_group(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "consent.db")
    await store.migrate()
    await store.write([make_record()], [])
    await wait_for(lambda: store.writer_pid is not None)
    pid = store.writer_pid
    assert pid is not None
    for stop in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        os.kill(pid, stop)
    await store.write([make_record()], [])  # the app's last batch, at its shutdown
    assert store.writer_pid == pid
    assert len(await all_records(store)) == 2
    await store.close()
    assert not alive(pid)


async def test_a_child_killed_mid_run_costs_a_spill_and_a_replay_and_nothing_else(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "consent.db")
    writer = LogWriter(store, tmp_path / "spill", retry_interval=0.05)
    await writer.start()
    made = [make_record() for _ in range(20)]
    await asyncio.gather(*(writer.record(r, BANNER) for r in made))
    await wait_for(lambda: store.writer_pid is not None)
    killed = store.writer_pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    during = [make_record() for _ in range(50)]
    outcomes = await asyncio.gather(*(writer.record(r) for r in during))
    assert "lost" not in outcomes
    made += during
    await wait_for(lambda: store.writer_pid not in (None, killed) and not writer.spilling)
    after = [make_record() for _ in range(20)]
    assert set(await asyncio.gather(*(writer.record(r) for r in after))) == {"stored"}
    made += after
    await writer.close()
    check = SqliteStore(tmp_path / "consent.db")
    stored = [r.record_id for r in await all_records(check)]
    await check.close()
    assert sorted(stored) == sorted(r.record_id for r in made)  # all of them, each once
    assert writer.counts.lost == 0


async def test_where_no_child_can_start_batches_are_written_in_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sqliteproc.sys, "executable", str(tmp_path / "no-python-here"))
    store = SqliteStore(tmp_path / "consent.db")
    await store.migrate()
    records = [make_record() for _ in range(5)]
    with caplog.at_level(logging.WARNING, logger="asgi_consent.log"):
        for record in records:
            await store.write([record], [BANNER])
            await asyncio.sleep(0.05)  # the failed start has its turn
    assert store.writer_pid is None
    assert sum("writes in a thread" in message for message in caplog.messages) == 1
    assert sorted(r.record_id for r in await all_records(store)) == sorted(
        r.record_id for r in records
    )
    await store.close()


async def test_an_error_in_the_child_is_raised_as_sqlite_raised_it(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "consent.db")
    await store.migrate()
    await store.write([make_record()], [])
    await wait_for(lambda: store.writer_pid is not None)
    process = store._process
    assert process is not None
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await process.execute([("INSERT INTO nowhere VALUES (?)", [1])])
    await store.write([make_record()], [])  # the child goes on
    assert len(await all_records(store)) == 2
    await store.close()


def test_the_child_checkpoints_between_batches_so_the_wal_stays_bounded(tmp_path: Path) -> None:
    """SQLite's own checkpoint would run inside the commit that passes 1,000 WAL pages,
    on the time of the visitors waiting for that batch; the child turns it off and
    checkpoints after its answer instead. Were it to stop checkpointing, the WAL would
    grow with every batch: after 1,200 one-row batches it holds at most a few hundred."""
    import contextlib
    import marshal
    import subprocess
    import sys

    from asgi_consent.log import sqlitechild

    path = tmp_path / "c.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t (a TEXT)")
        db.commit()
    child = subprocess.Popen(
        [sys.executable, sqlitechild.__file__, str(path), "5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None

    def answer() -> object:
        (size,) = sqlitechild.HEADER.unpack(child.stdout.read(sqlitechild.HEADER.size))
        return marshal.loads(child.stdout.read(size))

    try:
        assert answer() == (0, None)
        batches = 1200
        for seq in range(1, batches + 1):
            frame = marshal.dumps((seq, [("INSERT INTO t VALUES (?)", [("x" * 200,)])]))
            child.stdin.write(sqlitechild.HEADER.pack(len(frame)) + frame)
            child.stdin.flush()
            assert answer() == (seq, None)  # one at a time: no batch waits at a checkpoint
        wal_size = path.with_name("c.db-wal").stat().st_size  # the child has it open
        with contextlib.closing(sqlite3.connect(path)) as db:
            mode = db.execute("PRAGMA journal_mode").fetchone()[0]
            assert db.execute("SELECT count(*) FROM t").fetchone()[0] == batches
    finally:
        child.stdin.close()
        child.wait(timeout=10)
        child.stdout.close()
    assert mode == "wal"
    wal_frames = (wal_size - 32) // (4096 + 24)  # header, then page-sized frames
    assert 0 < wal_frames < batches  # a frame or more per batch without checkpoints
