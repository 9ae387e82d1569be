"""Helpers for the consent-log tests: records, stores that fail on cue, a tiny tmpfs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asgi_consent.log import BannerVersion, ConsentRecord, DailyCount, Store

POSTGRES_URL = os.environ.get(
    "ASGI_CONSENT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BANNER = BannerVersion.of(
    {
        "language": "en",
        "texts": {"title": "Cookies on this site", "accept": "Accept all", "reject": "Reject"},
        "categories": [{"name": "analytics", "description": "Counts visits"}],
        "policy_url": "/privacy",
        "policy_revision": 3,
    }
)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_serial = itertools.count()


def make_record(**fields: Any) -> ConsentRecord:
    """A plausible accept record; any field can be given."""
    values: dict[str, Any] = {
        "consent_id": f"cid{next(_serial)}",
        "action": "accept",
        "granted": ["necessary", "analytics"],
        "refused": ["marketing"],
        "policy_revision": 3,
        "expires_at": T0 + timedelta(days=180),
        "method": "javascript",
        "gpc": False,
        "language": "en",
        "path": "/blog/post",
        "banner_version": BANNER.version_id,
        "client": "203.0.113.0/24",
        "recorded_at": T0,
    }
    values.update(fields)
    return ConsentRecord.create(**values)


def require(reason: str | None) -> None:
    """Skip when `reason` is set, except under CI, where the test fails instead."""
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}")
    pytest.skip(reason)


_postgres_problem: list[str | None] = []


async def postgres_problem() -> str | None:
    """Why PostgreSQL at POSTGRES_URL cannot be used, or None (asked once per run)."""
    if not _postgres_problem:
        try:
            import asyncpg  # type: ignore[import-untyped]

            # generous: a server that is there answers at once, one that is not refuses
            # at once; only a loaded machine is slow, and under CI a miss fails the run
            connection = await asyncpg.connect(POSTGRES_URL, timeout=10)
            await connection.close()
            _postgres_problem.append(None)
        except Exception as error:  # ImportError, refused, auth, missing database
            _postgres_problem.append(f"PostgreSQL at {POSTGRES_URL} is unusable: {error!r}")
    return _postgres_problem[0]


async def postgres_execute(sql: str, *args: Any, url: str = POSTGRES_URL) -> Any:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=10)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


class FlakyStore:
    """Wraps a store; `down` makes every call fail, `hang` makes writes never answer,
    `fail_after_commit` stores a batch and then reports a failure."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.down = False
        self.hang = False
        self.fail_after_commit = False
        self.writes: list[int] = []  # batch sizes that reached the inner store
        self.hung = 0  # writes that were left hanging

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("store is down")

    async def migrate(self) -> None:
        self._check()
        await self.inner.migrate()

    async def write(
        self, records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]
    ) -> None:
        self._check()
        if self.hang:
            self.hung += 1
            await asyncio.sleep(3600)
        await self.inner.write(records, banners)
        self.writes.append(len(records))
        if self.fail_after_commit:
            raise ConnectionError("connection lost after commit")

    def export(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> AsyncIterator[ConsentRecord]:
        return self.inner.export(since, until)

    async def records_of(self, consent_id: str) -> list[ConsentRecord]:
        return await self.inner.records_of(consent_id)

    async def banner_version(self, version_id: str) -> BannerVersion | None:
        return await self.inner.banner_version(version_id)

    async def stats(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[DailyCount]:
        return await self.inner.stats(since, until)

    async def purge(self, older_than_days: int, *, now: datetime | None = None) -> int:
        return await self.inner.purge(older_than_days, now=now)

    async def close(self) -> None:
        await self.inner.close()


async def all_records(store: Store) -> list[ConsentRecord]:
    return [record async for record in store.export()]


async def wait_for(condition: Any, timeout: float = 10.0) -> None:
    """Poll `condition()` (sync or async) until true, or fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


@contextlib.contextmanager
def tmpfs(size: str = "64k") -> Iterator[Path | None]:
    """A tiny tmpfs of `size`, or None when this process may not mount one (or when
    ASGI_CONSENT_TEST_NO_MOUNT is set, to run the fallbacks)."""
    directory = Path(tempfile.mkdtemp(prefix="consent-tmpfs-"))
    mounted = False
    try:
        if os.geteuid() == 0 and not os.environ.get("ASGI_CONSENT_TEST_NO_MOUNT"):
            done = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                capture_output=True,
            )
            mounted = done.returncode == 0
        yield directory if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(directory)], capture_output=True)
        directory.rmdir()


def remount(directory: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(directory)], check=True)


def fill(directory: Path) -> None:
    """Write a filler file until the file system is full."""
    with open(directory / "filler", "wb", buffering=0) as filler:
        with contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 1024)
