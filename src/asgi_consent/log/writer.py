"""One writer task per process: group commit into the store, spill when it fails, replay.

``await writer.record(record, banner)`` queues the record and waits for its batch. The
writer task takes everything queued (up to `max_batch`) as one batch and writes it in
one transaction; while it writes, the next batch gathers, so many concurrent choices
cost a few commits. A store that fails or does not answer within `commit_timeout` is
left alone: batches go to the spill (fsynced JSON lines on local disk) until a replay
task, every `retry_interval`, finds the store back and moves the spill into it. Records
carry unique ids, so a batch that reached the store and the spill both is stored once.

The visitor's choice never waits on the store for long and never fails because of it;
a record that neither the store nor the spill could take is logged with the count.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from .records import BannerVersion, ConsentRecord
from .replay import Replayer, WriterCounts
from .spill import Spill
from .store import Store

LOG = logging.getLogger("asgi_consent.log")
T = TypeVar("T")

Outcome = Literal["stored", "spilled", "lost"]
"""Where a record went: into the store, into the spill (replayed later), nowhere (logged)."""

_DAY = 24 * 3600
_CLOSE_WAIT = 2.0  # seconds close() gives a replay that is moving records
_KNOWN_BANNERS = 1024  # banner versions remembered as stored; a handful per site


@dataclass(slots=True)
class _Item:
    record: ConsentRecord
    banner: BannerVersion | None
    future: asyncio.Future[Outcome]


@dataclass(slots=True)
class _Tasks:
    run: asyncio.Task[None] | None = None
    replay: asyncio.Task[None] | None = None
    retention: asyncio.Task[None] | None = None
    stray: set[asyncio.Task[Any]] = field(default_factory=set)


class LogWriter:
    """Writes consent records to a `Store` in batches, through a spill when it fails.

    ``spill_dir`` must be on local disk and writable, best not the disk the store is on;
    several processes may share it. With `retention_days`, records older than that are
    purged at start and then once a day.
    Start with ``await writer.start()`` at ASGI lifespan startup (or let the first
    `record()` start it) and ``await writer.close()`` at shutdown, which flushes what
    is queued and closes the store. One writer serves one event loop.
    """

    def __init__(
        self,
        store: Store,
        spill_dir: str | os.PathLike[str],
        *,
        max_batch: int = 200,
        commit_timeout: float = 0.25,
        retry_interval: float = 1.0,
        replay_timeout: float = 10.0,
        retention_days: int | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.store = store
        self.spill_dir = Path(spill_dir)
        self.counts = WriterCounts()
        self._spill = Spill(self.spill_dir)
        self._max_batch = max_batch
        self._commit_timeout = commit_timeout
        self._retry_interval = retry_interval
        self._replay_timeout = replay_timeout
        self._retention_days = retention_days
        self._pending: deque[_Item] = deque()
        self._wake: asyncio.Event | None = None
        self._tasks = _Tasks()
        self._io_thread: ThreadPoolExecutor | None = None
        self._store_up = True
        self._problem: str | None = None
        self._migrated = False
        self._banners_stored: set[str] = set()
        self._closing = False
        self._closed = False

    # -- public -------------------------------------------------------------------

    @property
    def spilling(self) -> bool:
        """True while batches go to the spill because the store failed (for health checks)."""
        return not self._store_up

    async def start(self) -> None:
        """Start the writer task, migrate the store (bounded by `replay_timeout`), and
        replay anything a previous run left in the spill. Never raises for the store."""
        self._start()
        if await self._bounded(self.store.migrate(), self._replay_timeout, "migrate"):
            self._migrated = True
        else:
            self._store_up = False
            self._start_replay()

    async def record(self, record: ConsentRecord, banner: BannerVersion | None = None) -> Outcome:
        """Queue `record` (and the banner version it names) and wait for its batch.

        Returns once the batch is in the store or in the spill: a few milliseconds,
        `commit_timeout` at most when the store stops answering. Never raises for the
        store; cancelling the caller does not withdraw the record.
        """
        if self._closing:
            LOG.error("consent log: 1 record could not be written: the writer is closed")
            self.counts.lost += 1
            return "lost"
        self._start()
        assert self._wake is not None
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(record, banner, future))
        self._wake.set()
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Flush the queue into the store or the spill, try one last replay, close the
        store. Records still in the spill are logged and replayed by the next writer."""
        if self._closing:
            return
        self._closing = True
        if self._tasks.run is not None and self._wake is not None:
            self._wake.set()
            await self._tasks.run
        replay = self._tasks.replay
        if replay is not None and self._store_up:  # a replay under way: let it finish
            await asyncio.wait({replay}, timeout=_CLOSE_WAIT)
        for task in (replay, self._tasks.retention):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._io_thread is not None:
            try:
                await self._flush_spill()
            except Exception:
                LOG.exception("consent log: the spill %s could not be closed", self.spill_dir)
            self._io_thread.shutdown(wait=False)
        if self._tasks.stray:  # hung store calls: give their cancellation a moment
            for task in self._tasks.stray:
                task.cancel()
            await asyncio.wait(set(self._tasks.stray), timeout=1.0)
        with contextlib.suppress(Exception):
            await self.store.close()
        self._closed = True

    async def _flush_spill(self) -> None:
        if self._store_up and await self._io(self._spill.has_own_data):
            await self._replay_once()
        await self._io(self._spill.close)
        waiting = await self._io(self._spill.count_waiting)
        if waiting:
            LOG.warning(
                "consent log: %d records wait in the spill %s; a writer started with it "
                "replays them",
                waiting,
                self.spill_dir,
            )

    # -- the writer task ------------------------------------------------------------

    def _start(self) -> None:
        if self._tasks.run is not None:
            return
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._tasks.run = loop.create_task(self._run())
        if self._retention_days is not None:
            self._tasks.retention = loop.create_task(self._purge_daily(self._retention_days))

    async def _run(self) -> None:
        assert self._wake is not None
        # Left by an earlier run, or by a process that died. (An unreadable spill
        # directory is reported when a batch first needs it.)
        with contextlib.suppress(OSError):
            if await self._io(self._spill.segments):
                self._start_replay()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                count = min(len(self._pending), self._max_batch)
                batch = [self._pending.popleft() for _ in range(count)]
                await self._commit(batch)
            if self._closing:
                return

    async def _commit(self, batch: list[_Item]) -> None:
        records = [item.record for item in batch]
        banners = self._unstored_banners(batch)
        outcome: Outcome
        try:
            if self._store_up and await self._store_write(records, banners):
                self._banners_stored.update(banner.version_id for banner in banners)
                outcome = "stored"
            elif await self._spill_write(records, banners):
                outcome = "spilled"
            else:
                outcome = "lost"
        except Exception:  # a bug here must not leave requests waiting forever
            LOG.exception("consent log: %d records could not be written", len(records))
            outcome = "lost"
        self.counts.batches += 1
        setattr(self.counts, outcome, getattr(self.counts, outcome) + len(records))
        for item in batch:
            if not item.future.done():
                item.future.set_result(outcome)

    def _unstored_banners(self, batch: list[_Item]) -> list[BannerVersion]:
        if len(self._banners_stored) > _KNOWN_BANNERS:
            self._banners_stored.clear()
        banners: dict[str, BannerVersion] = {}
        for item in batch:
            banner = item.banner
            if banner is not None and banner.version_id not in self._banners_stored:
                banners[banner.version_id] = banner
        return list(banners.values())

    async def _store_write(
        self, records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]
    ) -> bool:
        async def write() -> None:
            if not self._migrated:
                await self.store.migrate()
                self._migrated = True
            await self.store.write(records, banners)

        if await self._bounded(write(), self._commit_timeout, "write"):
            return True
        self._store_up = False
        return False

    async def _spill_write(
        self, records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]
    ) -> bool:
        try:
            await self._io(self._spill.append, records, banners)
        except OSError as error:
            LOG.error(
                "consent log: %d records could not be written: the store failed and the "
                "spill %s too (%s)",
                len(records),
                self.spill_dir,
                error,
            )
            return False
        self._start_replay()
        return True

    async def _purge_daily(self, days: int) -> None:
        while True:
            try:
                purged = await self.store.purge(days)
                LOG.info("consent log: %d records older than %d days purged", purged, days)
            except Exception as error:
                LOG.error("consent log: store %r could not purge: %r", self.store, error)
            await asyncio.sleep(_DAY)

    # -- replay ---------------------------------------------------------------------

    def _start_replay(self) -> None:
        if self._closing or (self._tasks.replay is not None and not self._tasks.replay.done()):
            return
        self._tasks.replay = asyncio.get_running_loop().create_task(self._replay_loop())

    async def _replay_loop(self) -> None:
        delay = 0.0 if self._store_up else self._retry_interval
        while True:
            await asyncio.sleep(delay)
            delay = self._retry_interval
            try:
                if not await self._replay_once():
                    continue
            except Exception as error:  # the spill directory itself, or a bug
                if repr(error) != self._problem:
                    LOG.exception("consent log: replaying the spill %s failed", self.spill_dir)
                self._problem = repr(error)
                continue
            self._store_up = True
            if self._problem is not None:
                LOG.warning("consent log: store %r is back", self.store)
                self._problem = None
            # Batches spilled while we replayed went to a fresh segment: go again for them.
            if not await self._io(self._spill.has_own_data):
                return
            delay = 0.0

    async def _replay_once(self) -> bool:
        """Move every claimable spill segment into the store; False when the store fails."""
        replayer = Replayer(
            self.store,
            self._spill,
            bounded=self._bounded,
            in_thread=self._io,
            counts=self.counts,
            max_batch=self._max_batch,
            timeout=self._replay_timeout,
        )
        if not await replayer.replay():
            self._store_up = False
            return False
        self._migrated = True
        return True

    # -- helpers --------------------------------------------------------------------

    async def _bounded(self, work: Awaitable[None], timeout: float, what: str = "write") -> bool:
        """Run `work` for at most `timeout` seconds; False (logged) if it failed or hung.

        A hung call is cancelled but not awaited: a driver may take long to cancel, and
        the caller must not. If it still lands, the records' ids keep the store right.
        """
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            self._tasks.stray.add(task)
            task.add_done_callback(self._forget_stray)
            self._report(f"did not {what} within {timeout * 1e3:.0f} ms")
            return False
        error = task.exception()
        if error is not None:
            self._report(f"could not {what}: {error!r}")
            return False
        return True

    def _report(self, problem: str) -> None:
        # Once per distinct problem, not once per retry: a store down for an hour
        # must not write thousands of lines.
        if problem != self._problem:
            LOG.error(
                "consent log: store %r %s; records wait in the spill %s until it is back",
                self.store,
                problem,
                self.spill_dir,
            )
        self._problem = problem

    def _forget_stray(self, task: asyncio.Task[Any]) -> None:
        self._tasks.stray.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it at exit

    async def _io(self, function: Callable[..., T], *args: Any) -> T:
        # One thread for all spill I/O: appends, seals and claims happen in order, and
        # an fsync never holds up the event loop.
        if self._io_thread is None:
            self._io_thread = ThreadPoolExecutor(1, thread_name_prefix="asgi-consent-spill")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._io_thread, functools.partial(function, *args))
