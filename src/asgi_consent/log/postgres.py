"""The consent log on PostgreSQL, for sites on many app servers (the `postgres` extra).

Driver: asyncpg. Measured with tests/log/bench_drivers.py on this project's 2-core
machine (a busy one: load average 9) against a local PostgreSQL 15, 300 interleaved
rounds of one transaction inserting a batch of 1 / 10 / 50 / 200 records with ON CONFLICT
DO NOTHING. Milliseconds per batch, wall median / client CPU median (what the event loop
pays, the steadiest number):

                                        1            10           50           200
    durable commits (synchronous_commit on, the default)
    asyncpg, one INSERT from unnest()   2.96 / 0.29  3.48 / 0.27  4.01 / 0.40  7.84 / 0.93
    asyncpg, executemany                3.26 / 0.28  3.59 / 0.28  3.87 / 0.38  9.01 / 0.73
    psycopg 3.3 + pool, executemany     3.18 / 0.38  3.52 / 0.45  3.83 / 0.83 10.71 / 2.09
    psycopg 3.3 + pool, unnest()        3.51 / 0.37  3.80 / 0.48  4.07 / 0.94 11.72 / 2.57
    synchronous_commit off (the driver's own cost shows)
    asyncpg, one INSERT from unnest()   0.32 / 0.17  0.38 / 0.18  0.83 / 0.32  2.65 / 0.86
    psycopg 3.3 + pool, executemany     0.34 / 0.24  0.55 / 0.33  1.31 / 0.64  4.29 / 1.69

Small batches are commit-bound whichever driver; at the sizes group commit produces
under load (50-200) asyncpg takes 1.4-1.6x less wall time and 2-2.5x less of the event
loop's CPU. So asyncpg, with one unnest() statement per table. A batch is now a single
statement (a CTE for the banner versions), outside an explicit transaction, on a
connection kept for batches: one round trip and one plan, whatever its size, where a
transaction on a pooled connection cost four (BEGIN, INSERT, COMMIT, the pool's reset).
What psycopg would have brought (type hints, libpq's service files) matters less here;
asyncpg's missing hints are contained in this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from .records import (
    EXPORT_PAGE,
    MAX_RECORDS_OF,
    SCHEMA_VERSION,
    BannerVersion,
    ConsentRecord,
    DailyCount,
)

_COLUMNS = (
    "record_id, consent_id, recorded_at, action, granted, refused, policy_revision, "
    "expires_at, method, gpc, language, path, banner_version, client, user_agent"
)
_TYPES = (
    "text text timestamptz text text text int4 timestamptz text bool text text text text text"
).split()
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)


def _migrations(s: str) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """Version n's statements bring schema `s` from n-1 to n. Append, never edit."""
    return (
        (
            1,
            (
                f"""CREATE TABLE {s}.consent_records (
                    record_id text PRIMARY KEY, consent_id text NOT NULL,
                    recorded_at timestamptz NOT NULL, action text NOT NULL,
                    granted text NOT NULL, refused text NOT NULL,
                    policy_revision integer NOT NULL, expires_at timestamptz,
                    method text NOT NULL, gpc boolean NOT NULL, language text NOT NULL,
                    path text NOT NULL, banner_version text NOT NULL,
                    client text, user_agent text)""",
                f"CREATE INDEX ON {s}.consent_records (recorded_at, record_id)",
                f"CREATE INDEX ON {s}.consent_records (consent_id, recorded_at)",
                f"""CREATE TABLE {s}.consent_banner_versions (
                    version_id text PRIMARY KEY, content text NOT NULL)""",
            ),
        ),
    )


def _columns(records: Sequence[ConsentRecord]) -> list[list[Any]]:
    rows = [
        (
            r.record_id,
            r.consent_id,
            r.recorded_at,
            r.action,
            " ".join(r.granted),
            " ".join(r.refused),
            r.policy_revision,
            r.expires_at,
            r.method,
            r.gpc,
            r.language,
            r.path,
            r.banner_version,
            r.client,
            r.user_agent,
        )
        for r in records
    ]
    if not rows:
        return [[] for _ in _TYPES]
    return [list(column) for column in zip(*rows, strict=True)]


def _record(row: Any) -> ConsentRecord:
    return ConsentRecord(
        record_id=row[0],
        consent_id=row[1],
        recorded_at=row[2].astimezone(UTC),
        action=row[3],
        granted=tuple(row[4].split()),
        refused=tuple(row[5].split()),
        policy_revision=row[6],
        expires_at=None if row[7] is None else row[7].astimezone(UTC),
        method=row[8],
        gpc=row[9],
        language=row[10],
        path=row[11],
        banner_version=row[12],
        client=row[13],
        user_agent=row[14],
    )


async def _keep_session(connection: Any) -> None:
    """Nothing to reset between uses: this store sets no session state (its advisory lock
    is a transaction's), so a connection goes back to the pool without a round trip."""


class PostgresStore:
    """A consent log in PostgreSQL tables ``<schema>.consent_records`` and
    ``<schema>.consent_banner_versions``; the schema is created on `migrate()`.

    ``PostgresStore("postgresql://app@db/site", schema="public")``. The pool connects
    lazily (nothing happens until the first call) and reconnects after a server restart.
    ``statement_cache_size=0`` suits PgBouncer in transaction mode.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        max_connections: int = 4,
        connect_timeout: float = 5.0,
        statement_cache_size: int = 100,
    ) -> None:
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"not a schema name: {schema!r}")
        self._dsn = dsn
        self._schema = schema
        self._q = f'"{schema}"'
        self._connect_options: dict[str, Any] = {
            "timeout": connect_timeout,
            "command_timeout": 60,
            "statement_cache_size": statement_cache_size,
            "server_settings": {"application_name": "asgi-consent"},
        }
        self._max_connections = max_connections
        self._pool: Any = None
        self._writing: Any = None  # a connection kept for batches, outside the pool
        self._writing_busy = False
        self._opening: asyncio.Task[None] | None = None
        unnest = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(_TYPES, 3))
        self._write_sql = (
            f"WITH banners AS (INSERT INTO {self._q}.consent_banner_versions "
            "(version_id, content) SELECT * FROM unnest($1::text[], $2::text[]) "
            "ON CONFLICT (version_id) DO NOTHING) "
            f"INSERT INTO {self._q}.consent_records ({_COLUMNS}) "
            f"SELECT * FROM unnest({unnest}) ON CONFLICT (record_id) DO NOTHING"
        )

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self._schema!r})"

    async def _connection(self) -> Any:
        if self._pool is None:
            # min_size 0: creating the pool never connects, so it cannot fail here.
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=0,
                max_size=self._max_connections,
                reset=_keep_session,
                **self._connect_options,
            )
        return self._pool.acquire()

    async def _version(self, connection: Any) -> int:
        if await connection.fetchval("SELECT to_regclass($1)", f"{self._q}.consent_log_schema"):
            value = await connection.fetchval(
                f"SELECT max(version) FROM {self._q}.consent_log_schema"
            )
            return int(value or 0)
        return 0

    async def migrate(self) -> None:
        """Create the schema and tables, or bring older ones up to `SCHEMA_VERSION`.

        Servers starting together take an advisory lock, so one migrates and the others
        find the work done.
        """
        lock = int.from_bytes(
            hashlib.sha256(self._schema.encode()).digest()[:8], "big", signed=True
        )
        async with await self._connection() as connection:
            if await self._version(connection) != SCHEMA_VERSION:
                await self._migrate(connection, lock)

    async def _migrate(self, connection: Any, lock: int) -> None:
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", lock)
            current = await self._version(connection)
            if current > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the consent log schema is at version {current}, newer than this "
                    f"asgi-consent knows ({SCHEMA_VERSION}): upgrade asgi-consent"
                )
            if await connection.fetchval("SELECT to_regnamespace($1)", self._q) is None:
                await connection.execute(f"CREATE SCHEMA {self._q}")
            await connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self._q}.consent_log_schema "
                "(version integer NOT NULL)"
            )
            for version, statements in _migrations(self._q):
                if version > current:
                    for statement in statements:
                        await connection.execute(statement)
            await connection.execute(f"DELETE FROM {self._q}.consent_log_schema")
            await connection.execute(
                f"INSERT INTO {self._q}.consent_log_schema VALUES ($1)", SCHEMA_VERSION
            )

    async def write(
        self, records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]
    ) -> None:
        """Store both in one statement (so one transaction and one round trip); known ids
        are skipped. Batches go over a connection kept for them: a pool's release would
        cost the waiting visitors two more turns of the event loop. Until it is open (it
        opens in the background, not on a visitor's time), or for a second caller at
        once, a connection from the pool."""
        arguments = (
            [banner.version_id for banner in banners],
            [banner.content for banner in banners],
            *_columns(records),
        )
        connection = self._writing
        if self._writing_busy or connection is None or connection.is_closed():
            if not self._writing_busy:
                self._open_writing()
            async with await self._connection() as pooled:
                await pooled.execute(self._write_sql, *arguments)
            return
        self._writing_busy = True
        try:
            await connection.execute(self._write_sql, *arguments)
        except BaseException:  # broken, refused, or cancelled mid-statement: a new one
            self._writing = None
            connection.terminate()
            raise
        finally:
            self._writing_busy = False

    def _open_writing(self) -> None:
        if self._opening is None or self._opening.done():
            self._opening = asyncio.get_running_loop().create_task(self._open())

    async def _open(self) -> None:
        with contextlib.suppress(Exception):  # the pool's connections say why, if need be
            self._writing = await asyncpg.connect(self._dsn, **self._connect_options)

    async def export(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> AsyncIterator[ConsentRecord]:
        """Every record in ``[since, until)``, oldest first, `EXPORT_PAGE` rows per query."""
        low, high = since or _EARLIEST, until or _LATEST
        after: tuple[datetime, str] = (_EARLIEST, "")
        while True:
            async with await self._connection() as connection:
                rows = await connection.fetch(
                    f"SELECT {_COLUMNS} FROM {self._q}.consent_records "
                    "WHERE recorded_at >= $1 AND recorded_at < $2 "
                    "AND (recorded_at, record_id) > ($3, $4) "
                    "ORDER BY recorded_at, record_id LIMIT $5",
                    low,
                    high,
                    *after,
                    EXPORT_PAGE,
                )
            for row in rows:
                yield _record(row)
            if len(rows) < EXPORT_PAGE:
                return
            after = (rows[-1][2], rows[-1][0])

    async def records_of(self, consent_id: str) -> list[ConsentRecord]:
        """Every record of one consent id, oldest first."""
        async with await self._connection() as connection:
            rows = await connection.fetch(
                f"SELECT {_COLUMNS} FROM {self._q}.consent_records WHERE consent_id = $1 "
                "ORDER BY recorded_at, record_id LIMIT $2",
                consent_id,
                MAX_RECORDS_OF,
            )
        return [_record(row) for row in rows]

    async def banner_version(self, version_id: str) -> BannerVersion | None:
        """The banner version stored under `version_id`, if any."""
        async with await self._connection() as connection:
            content = await connection.fetchval(
                f"SELECT content FROM {self._q}.consent_banner_versions WHERE version_id = $1",
                version_id,
            )
        return None if content is None else BannerVersion(version_id, str(content))

    async def stats(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[DailyCount]:
        """Choices per day (UTC) and action."""
        async with await self._connection() as connection:
            rows = await connection.fetch(
                "SELECT (recorded_at AT TIME ZONE 'UTC')::date, action, count(*) "
                f"FROM {self._q}.consent_records WHERE recorded_at >= $1 AND recorded_at < $2 "
                "GROUP BY 1, 2 ORDER BY 1, 2",
                since or _EARLIEST,
                until or _LATEST,
            )
        return [DailyCount(row[0], row[1], int(row[2])) for row in rows]

    async def purge(self, older_than_days: int, *, now: datetime | None = None) -> int:
        """Delete records older than `older_than_days` days; return how many."""
        if older_than_days < 0:
            raise ValueError("older_than_days cannot be negative")
        before = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
        async with await self._connection() as connection:
            status = await connection.execute(
                f"DELETE FROM {self._q}.consent_records WHERE recorded_at < $1", before
            )
        return int(str(status).rsplit(" ", 1)[-1])

    async def close(self) -> None:
        """Close the pool and the writing connection; connections still busy after 5 s
        are cut."""
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._opening
        writing, self._writing = self._writing, None
        if writing is not None:
            try:
                await asyncio.wait_for(writing.close(), 5)
            except TimeoutError:
                writing.terminate()
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), 5)
        except TimeoutError:
            pool.terminate()
