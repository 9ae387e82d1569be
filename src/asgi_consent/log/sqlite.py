"""The embedded consent-log store: stdlib `sqlite3`, off the event loop.

Batches of records are written by a small child process (`sqliteproc`), so the writing
never holds the GIL the event loop needs; everything else (migrating, reading, purging)
runs in a single dedicated thread, whose one connection is only ever used by the thread
that opened it. Where no child process can be started, writes run in that thread too.
The database runs in WAL mode with ``synchronous=FULL``: a write that returned is on
disk, and several app processes on one host can share the file (writers wait up to
`busy_timeout` for each other).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from .records import (
    EXPORT_PAGE,
    MAX_RECORDS_OF,
    SCHEMA_VERSION,
    BannerVersion,
    ConsentRecord,
    DailyCount,
    format_time,
    parse_time,
)
from .sqlitechild import Statement, execute
from .sqliteproc import WriterProcess

T = TypeVar("T")

_COLUMNS = (
    "record_id, consent_id, recorded_at, action, granted, refused, policy_revision, "
    "expires_at, method, gpc, language, path, banner_version, client, user_agent"
)
_INSERT_BANNERS = (
    "INSERT INTO consent_banner_versions (version_id, content) VALUES (?, ?) "
    "ON CONFLICT (version_id) DO NOTHING"
)
_INSERT_RECORDS = (
    f"INSERT INTO consent_records ({_COLUMNS}) VALUES ({', '.join('?' * 15)}) "
    "ON CONFLICT (record_id) DO NOTHING"
)
# Text times compare in time order (fixed width, UTC): these bound an open range.
_EARLIEST = ""
_LATEST = "~"

# Version n's statements bring a schema at version n-1 to n. Append, never edit.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE consent_records (
                record_id TEXT PRIMARY KEY, consent_id TEXT NOT NULL,
                recorded_at TEXT NOT NULL, action TEXT NOT NULL,
                granted TEXT NOT NULL, refused TEXT NOT NULL,
                policy_revision INTEGER NOT NULL, expires_at TEXT, method TEXT NOT NULL,
                gpc INTEGER NOT NULL, language TEXT NOT NULL, path TEXT NOT NULL,
                banner_version TEXT NOT NULL, client TEXT, user_agent TEXT)""",
            "CREATE INDEX consent_records_time ON consent_records (recorded_at, record_id)",
            "CREATE INDEX consent_records_consent ON consent_records (consent_id, recorded_at)",
            """CREATE TABLE consent_banner_versions (
                version_id TEXT PRIMARY KEY, content TEXT NOT NULL)""",
        ),
    ),
)


def _row(record: ConsentRecord) -> tuple[Any, ...]:
    return (
        record.record_id,
        record.consent_id,
        format_time(record.recorded_at),
        record.action,
        " ".join(record.granted),
        " ".join(record.refused),
        record.policy_revision,
        None if record.expires_at is None else format_time(record.expires_at),
        record.method,
        int(record.gpc),
        record.language,
        record.path,
        record.banner_version,
        record.client,
        record.user_agent,
    )


def _record(row: Sequence[Any]) -> ConsentRecord:
    return ConsentRecord(
        record_id=row[0],
        consent_id=row[1],
        recorded_at=parse_time(row[2]),
        action=row[3],
        granted=tuple(row[4].split()),
        refused=tuple(row[5].split()),
        policy_revision=row[6],
        expires_at=None if row[7] is None else parse_time(row[7]),
        method=row[8],
        gpc=bool(row[9]),
        language=row[10],
        path=row[11],
        banner_version=row[12],
        client=row[13],
        user_agent=row[14],
    )


def _bounds(since: datetime | None, until: datetime | None) -> tuple[str, str]:
    return (
        _EARLIEST if since is None else format_time(since),
        _LATEST if until is None else format_time(until),
    )


class SqliteStore:
    """A consent log in one SQLite file (or ``":memory:"``, for tests).

    ``SqliteStore(Path("consent.db"))``; `open_store("sqlite:///consent.db")` builds the
    same. The file and its schema are created on `migrate()`.
    """

    def __init__(
        self, path: Path | str, *, busy_timeout: float = 5.0, writer_process: bool = True
    ) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None  # touched by the worker only
        self._process: WriterProcess | None = None
        if writer_process and str(path) != ":memory:":
            self._process = WriterProcess(str(path), busy_timeout, self)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self._path)!r})"

    @property
    def writer_pid(self) -> int | None:
        """The process id of the writer process, while batches go to it (for health
        checks and tests); None while they are written in the thread."""
        return None if self._process is None else self._process.pid

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="asgi-consent-sqlite")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    # -- in the worker thread ------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=self._busy_timeout, isolation_level=None)

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = self._connect()
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db()
        # IMMEDIATE takes the write lock up front: two processes migrating or writing
        # at once wait for each other instead of failing half-way.
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    def _schema_version(self, db: sqlite3.Connection) -> int:
        exists = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'consent_log_schema'"
        ).fetchone()
        if exists is None:
            return 0
        row = db.execute("SELECT max(version) FROM consent_log_schema").fetchone()
        return int(row[0] or 0)

    def _migrate_in(self, db: sqlite3.Connection) -> None:
        current = self._schema_version(db)
        if current > SCHEMA_VERSION:
            raise RuntimeError(
                f"the consent log schema is at version {current}, newer than this "
                f"asgi-consent knows ({SCHEMA_VERSION}): upgrade asgi-consent"
            )
        db.execute("CREATE TABLE IF NOT EXISTS consent_log_schema (version INTEGER NOT NULL)")
        for version, statements in MIGRATIONS:
            if version > current:
                for statement in statements:
                    db.execute(statement)
        db.execute("DELETE FROM consent_log_schema")
        db.execute("INSERT INTO consent_log_schema (version) VALUES (?)", (SCHEMA_VERSION,))

    def _migrate(self) -> None:
        # Read first: a schema already current needs no write (a read-only file works).
        if self._schema_version(self._db()) == SCHEMA_VERSION:
            return
        self._in_transaction(self._migrate_in)

    def _statements(
        self, records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]
    ) -> list[Statement]:
        """What writes one batch, in one transaction: each INSERT with its rows."""
        statements: list[Statement] = []
        if banners:
            statements.append((_INSERT_BANNERS, [(b.version_id, b.content) for b in banners]))
        if records:
            statements.append((_INSERT_RECORDS, [_row(record) for record in records]))
        return statements

    def _execute(self, statements: list[Statement]) -> None:
        execute(self._db(), statements)

    def _page(self, low: str, high: str, after: tuple[str, str]) -> list[ConsentRecord]:
        rows = self._db().execute(
            f"SELECT {_COLUMNS} FROM consent_records "
            "WHERE recorded_at >= ? AND recorded_at < ? AND (recorded_at, record_id) > (?, ?) "
            "ORDER BY recorded_at, record_id LIMIT ?",
            (low, high, *after, EXPORT_PAGE),
        )
        return [_record(row) for row in rows]

    def _records_of(self, consent_id: str) -> list[ConsentRecord]:
        rows = self._db().execute(
            f"SELECT {_COLUMNS} FROM consent_records WHERE consent_id = ? "
            "ORDER BY recorded_at, record_id LIMIT ?",
            (consent_id, MAX_RECORDS_OF),
        )
        return [_record(row) for row in rows]

    def _banner_version(self, version_id: str) -> BannerVersion | None:
        row = (
            self._db()
            .execute(
                "SELECT version_id, content FROM consent_banner_versions WHERE version_id = ?",
                (version_id,),
            )
            .fetchone()
        )
        return None if row is None else BannerVersion(version_id=row[0], content=row[1])

    def _stats(self, low: str, high: str) -> list[DailyCount]:
        rows = self._db().execute(
            "SELECT substr(recorded_at, 1, 10) AS day, action, count(*) FROM consent_records "
            "WHERE recorded_at >= ? AND recorded_at < ? GROUP BY day, action ORDER BY day, action",
            (low, high),
        )
        return [DailyCount(date.fromisoformat(day), action, n) for day, action, n in rows]

    def _purge(self, before: str) -> int:
        def work(db: sqlite3.Connection) -> int:
            return db.execute(
                "DELETE FROM consent_records WHERE recorded_at < ?", (before,)
            ).rowcount

        return self._in_transaction(work)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- the Store interface -------------------------------------------------------

    async def migrate(self) -> None:
        """Create the schema, or bring an older one up to `SCHEMA_VERSION`."""
        await self._run(self._migrate)

    async def write(
        self, records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]
    ) -> None:
        """Store both in one transaction; ids already stored are skipped."""
        statements = self._statements(records, banners)
        if not statements:
            return
        if self._process is not None and self._process.usable():
            await self._process.execute(statements)
        else:
            await self._run(self._execute, statements)

    async def export(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> AsyncIterator[ConsentRecord]:
        """Every record in ``[since, until)``, oldest first, `EXPORT_PAGE` rows per query."""
        low, high = _bounds(since, until)
        after = (_EARLIEST, _EARLIEST)
        while True:
            page = await self._run(self._page, low, high, after)
            for record in page:
                yield record
            if len(page) < EXPORT_PAGE:
                return
            after = (format_time(page[-1].recorded_at), page[-1].record_id)

    async def records_of(self, consent_id: str) -> list[ConsentRecord]:
        """Every record of one consent id, oldest first."""
        return await self._run(self._records_of, consent_id)

    async def banner_version(self, version_id: str) -> BannerVersion | None:
        """The banner version stored under `version_id`, if any."""
        return await self._run(self._banner_version, version_id)

    async def stats(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[DailyCount]:
        """Choices per day (UTC) and action."""
        return await self._run(self._stats, *_bounds(since, until))

    async def purge(self, older_than_days: int, *, now: datetime | None = None) -> int:
        """Delete records older than `older_than_days` days; return how many."""
        if older_than_days < 0:
            raise ValueError("older_than_days cannot be negative")
        before = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
        return await self._run(self._purge, format_time(before))

    async def close(self) -> None:
        """End the writer process, close the connection and end the worker thread."""
        if self._process is not None:
            await self._process.close()
        if self._executor is None:
            return
        executor, self._executor = self._executor, None
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._close)
        finally:
            executor.shutdown(wait=False)
