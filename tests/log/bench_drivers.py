"""Measure the PostgreSQL drivers for the consent log: asyncpg against psycopg 3 with
psycopg_pool, one transaction inserting a batch of 1..200 records (ON CONFLICT DO NOTHING).

    .venv/bin/pip install asyncpg 'psycopg[binary]' psycopg-pool
    .venv/bin/python -m tests.log.bench_drivers [ROUNDS] [--synchronous-commit-off]

Prints wall time per batch (median / 95th percentile) and the client CPU per batch (what
the event loop pays). The rounds interleave the drivers, so a busy machine slows all alike.
The result and the choice are written up in src/asgi_consent/log/postgres.py.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import psycopg
from psycopg_pool import AsyncConnectionPool

from .helpers import POSTGRES_URL

SIZES = (1, 10, 50, 200)
COLUMNS = (
    "record_id, consent_id, recorded_at, action, granted, refused, policy_revision, "
    "expires_at, method, gpc, language, path, banner_version, client, user_agent"
)
TYPES = "text text timestamptz text text text int4 timestamptz text bool text text text text text"
TABLE = "bench_drivers.consent_records"
DDL = f"""
DROP SCHEMA IF EXISTS bench_drivers CASCADE; CREATE SCHEMA bench_drivers;
CREATE TABLE {TABLE} (record_id text PRIMARY KEY, consent_id text NOT NULL,
 recorded_at timestamptz NOT NULL, action text NOT NULL, granted text NOT NULL,
 refused text NOT NULL, policy_revision integer NOT NULL, expires_at timestamptz,
 method text NOT NULL, gpc boolean NOT NULL, language text NOT NULL, path text NOT NULL,
 banner_version text NOT NULL, client text, user_agent text);
CREATE INDEX ON {TABLE} (recorded_at, record_id); CREATE INDEX ON {TABLE} (consent_id);
"""
PLACES = ", ".join(f"${n}" for n in range(1, 16))
INSERT_ASYNCPG = f"INSERT INTO {TABLE} ({COLUMNS}) VALUES ({PLACES}) ON CONFLICT DO NOTHING"
INSERT_PSYCOPG = f"INSERT INTO {TABLE} ({COLUMNS}) VALUES ({', '.join(['%s'] * 15)}) " + (
    "ON CONFLICT DO NOTHING"
)
UNNEST_ASYNCPG = (
    f"INSERT INTO {TABLE} ({COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(TYPES.split(), 1))
    + ") ON CONFLICT DO NOTHING"
)
UNNEST_PSYCOPG = (
    f"INSERT INTO {TABLE} ({COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"%s::{kind}[]" for kind in TYPES.split())
    + ") ON CONFLICT DO NOTHING"
)

Batch = list[tuple[Any, ...]]


def rows(count: int) -> Batch:
    now = datetime.now(UTC)
    return [
        (uuid.uuid4().hex, "Ab3dE5fG7hJ9", now, "accept", "analytics necessary", "marketing",
         3, now, "javascript", False, "en", "/blog/post", "0" * 32, "203.0.113.0/24", None)
        for _ in range(count)
    ]  # fmt: skip


def columns(batch: Batch) -> list[list[Any]]:
    return [list(column) for column in zip(*batch, strict=True)]


async def drivers(
    settings: dict[str, str],
) -> tuple[dict[str, Callable[[Batch], Awaitable[None]]], Any, Any]:  # noqa: E501
    apool = await asyncpg.create_pool(
        POSTGRES_URL, min_size=1, max_size=2, server_settings=settings
    )
    options = " ".join(f"-c {key}={value}" for key, value in settings.items())
    ppool = AsyncConnectionPool(
        POSTGRES_URL, min_size=1, max_size=2, open=False, kwargs={"options": options}
    )
    await ppool.open()

    async def asyncpg_many(batch: Batch) -> None:
        async with apool.acquire() as connection, connection.transaction():
            await connection.executemany(INSERT_ASYNCPG, batch)

    async def asyncpg_unnest(batch: Batch) -> None:
        async with apool.acquire() as connection:
            await connection.execute(UNNEST_ASYNCPG, *columns(batch))

    async def psycopg_many(batch: Batch) -> None:
        async with ppool.connection() as connection, connection.cursor() as cursor:
            await cursor.executemany(INSERT_PSYCOPG, batch)

    async def psycopg_unnest(batch: Batch) -> None:
        async with ppool.connection() as connection:
            await connection.execute(UNNEST_PSYCOPG, columns(batch))  # type: ignore[arg-type]

    found = {
        "asyncpg unnest": asyncpg_unnest,
        "asyncpg executemany": asyncpg_many,
        f"psycopg {psycopg.__version__} executemany": psycopg_many,
        f"psycopg {psycopg.__version__} unnest": psycopg_unnest,
    }
    return found, apool, ppool


async def main(rounds: int, settings: dict[str, str]) -> None:
    setup = await asyncpg.connect(POSTGRES_URL)
    await setup.execute(DDL)
    found, apool, ppool = await drivers(settings)
    for insert in found.values():  # warm up: connections, prepared statements
        for _ in range(20):
            await insert(rows(10))
    wall: dict[tuple[str, int], list[float]] = {(k, n): [] for k in found for n in SIZES}
    cpu: dict[tuple[str, int], list[float]] = {(k, n): [] for k in found for n in SIZES}
    for _ in range(rounds):
        for size in SIZES:
            for name, insert in found.items():
                batch = rows(size)
                started, cpu_started = time.perf_counter(), time.process_time()
                await insert(batch)
                wall[name, size].append(time.perf_counter() - started)
                cpu[name, size].append(time.process_time() - cpu_started)
    print(f"ms per batch of {SIZES}: wall median/p95, client CPU median; settings {settings}")
    for name in found:
        cells = []
        for size in SIZES:
            times = sorted(wall[name, size])
            cells.append(
                f"{statistics.median(times) * 1e3:6.2f}/{times[int(len(times) * 0.95)] * 1e3:6.2f}"
                f" {statistics.median(cpu[name, size]) * 1e3:5.2f}"
            )
        print(f"{name:28}" + "".join(f"{cell:>22}" for cell in cells))
    await apool.close()
    await ppool.close()
    await setup.execute("DROP SCHEMA bench_drivers CASCADE")
    await setup.close()


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    off = "--synchronous-commit-off" in sys.argv
    asyncio.run(
        main(int(arguments[0]) if arguments else 300, {"synchronous_commit": "off"} if off else {})
    )  # noqa: E501
