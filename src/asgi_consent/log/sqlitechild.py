"""The SQLite writer process: run as a script by `sqliteproc`, with the app's Python.

It imports nothing from the package (it starts in a few milliseconds, whatever the app
imports), opens the database, says so, then runs each batch it is sent in one
transaction, durably, and answers. Frames both ways: a 4-byte length, then `marshal`
data (tuples, lists, text, numbers; the same interpreter at both ends). In:
``(seq, statements)``; out: ``(seq, None)`` or ``(seq, (error class name, message))``,
and first ``(0, ...)`` for the opening. It ends when its input closes, however the
app ended, and ignores the signals sent to a whole process group (a Ctrl-C in a
terminal, a service manager's stop): the app flushes its last batches through it.
"""

from __future__ import annotations

import contextlib
import marshal
import select
import signal
import sqlite3
import struct
import sys
from collections.abc import Sequence
from typing import Any

Statement = tuple[str, Sequence[Sequence[Any]]]  # SQL, and the rows to run it for

HEADER = struct.Struct("!I")
# SQLite's own checkpoint runs inside the commit that passes 1,000 WAL pages, on the
# time of the visitors waiting for that batch. Here it runs after the answer, between
# batches, when no batch is waiting (or, under a load that never pauses, after more).
CHECKPOINT_EVERY = 200  # batches
CHECKPOINT_AT_LATEST = 1000


def _input_waiting(source: Any) -> bool:
    """Whether the next batch's bytes are already here (a checkpoint would delay it)."""
    try:
        ready, _, _ = select.select([source], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(ready)


def connect(path: str, busy_timeout: float) -> sqlite3.Connection:
    """A connection in WAL mode with ``synchronous=FULL``: a commit that returned is on
    disk, and several processes can share the file."""
    db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA wal_autocheckpoint=0")  # taken between batches (see main)
    except sqlite3.Error:
        db.close()
        raise
    return db


def execute(db: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    """Run each statement for each of its rows, all in one transaction."""
    # IMMEDIATE takes the write lock up front: two processes writing at once wait
    # for each other (busy_timeout) instead of failing half-way.
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql, rows in statements:
            db.executemany(sql, rows)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def main(path: str, busy_timeout: float) -> None:
    # Ends at the end of its input, not on the signals a terminal or a service manager
    # sends the whole process group: the app flushes its last batches through it.
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    source, sink = sys.stdin.buffer, sys.stdout.buffer

    def answer(seq: int, error: BaseException | None) -> None:
        reason = None if error is None else (type(error).__name__, str(error))
        payload = marshal.dumps((seq, reason))
        sink.write(HEADER.pack(len(payload)) + payload)
        sink.flush()

    try:
        db = connect(path, busy_timeout)
    except Exception as error:
        answer(0, error)
        return
    answer(0, None)
    since_checkpoint = 0
    while True:
        header = source.read(HEADER.size)
        if len(header) < HEADER.size:
            return  # the app closed our input: it is done, or gone
        (size,) = HEADER.unpack(header)
        frame = source.read(size)
        if len(frame) < size:
            return  # cut short: the app died while writing it
        seq, statements = marshal.loads(frame)
        try:
            execute(db, statements)
        except Exception as error:
            answer(seq, error)
        else:
            answer(seq, None)
        since_checkpoint += 1
        if since_checkpoint >= CHECKPOINT_EVERY and (
            since_checkpoint >= CHECKPOINT_AT_LATEST or not _input_waiting(source)
        ):
            since_checkpoint = 0
            with contextlib.suppress(sqlite3.Error):
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
