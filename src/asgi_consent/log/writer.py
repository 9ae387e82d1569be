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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from .guard import StoreGuard
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
class _Watch:
    fired: bool = False


@dataclass(slots=True)
class _Tasks:
    run: asyncio.Task[None] | None = None
    replay: asyncio.Task[None] | None = None
    retention: asyncio.Task[None] | None = None


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
        self._guard = StoreGuard(store, self.spill_dir)
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
        if await self._guard.bounded(self.store.migrate(), self._replay_timeout, "migrate"):
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
        # Not shielded: a cancelled caller cancels only its future; the record stays
        # in its batch, and the writer settles only futures still waiting.
        return await future

    async def close(self) -> None:
        """Flush the queue into the store or the spill, try one last replay, close the
        store. Records still in the spill are logged and replayed by the next writer."""
        if self._closing:
            return
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        # The task may be replaced while we wait (a batch abandoned to the spill).
        while self._tasks.run is not None and not self._tasks.run.done():
            await asyncio.wait({self._tasks.run})
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
        await self._guard.settle()  # hung store calls: give their cancellation a moment
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
        # Left by an earlier run, or by a process that died. (An unreadable spill
        # directory is reported when a batch first needs it.)
        with contextlib.suppress(OSError):
            if await self._io(self._spill.segments):
                self._start_replay()
        await self._batches()

    async def _batches(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                count = min(len(self._pending), self._max_batch)
                batch = [self._pending.popleft() for _ in range(count)]
                if not await self._commit(batch):
                    return  # abandoned to the spill: another task goes on
            if self._closing:
                return

    async def _commit(self, batch: list[_Item]) -> bool:
        """Write `batch` to the store, else the spill, and settle its futures. False when
        the store did not answer in time: the batch was handed to another task."""
        records = [item.record for item in batch]
        banners = self._unstored_banners(batch)
        outcome: Outcome
        try:
            written = await self._store_write(batch, records, banners) if self._store_up else False
            if written is None:
                return False
            if written:
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
        return True

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
        self, batch: list[_Item], records: list[ConsentRecord], banners: list[BannerVersion]
    ) -> bool | None:
        """True once the store has the batch; False (reported) if it failed; None if it
        did not answer within `commit_timeout` and `_abandon` took the batch over.

        The store is awaited right here, not in a task of its own: each loop hop costs a
        waiting visitor a share of the loop's work. A watchdog bounds the wait instead.
        """
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        watch = _Watch()
        watchdog = loop.call_later(self._commit_timeout, self._abandon, watch, task, batch)
        try:
            if not self._migrated:
                await self.store.migrate()
                self._migrated = True
            await self.store.write(records, banners)
        except (Exception, asyncio.CancelledError) as error:
            if watch.fired:
                return None
            if isinstance(error, asyncio.CancelledError) and task.cancelling():
                raise  # the writer itself is cancelled (the loop is closing)
            self._guard.report(f"could not write: {error!r}")
            self._store_up = False
            return False
        finally:
            watchdog.cancel()
        return None if watch.fired else True

    def _abandon(self, watch: _Watch, task: asyncio.Task[Any], batch: list[_Item]) -> None:
        """The store has not answered a batch in time: leave it alone (spill from now
        on), cancel the hung call without waiting for it (a driver may take long to
        cancel) and let a new task spill this batch and go on with the queue. If the
        hung write still lands, the records' ids keep the store right."""
        watch.fired = True
        self._store_up = False
        self._guard.abandon(task, f"did not write within {self._commit_timeout * 1e3:.0f} ms")
        self._tasks.run = asyncio.get_running_loop().create_task(self._take_over(batch))

    async def _take_over(self, batch: list[_Item]) -> None:
        await self._commit(batch)
        await self._batches()

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
                if repr(error) != self._guard.problem:
                    LOG.exception("consent log: replaying the spill %s failed", self.spill_dir)
                self._guard.problem = repr(error)
                continue
            self._store_up = True
            self._guard.back()
            # Batches spilled while we replayed went to a fresh segment: go again for them.
            if not await self._io(self._spill.has_own_data):
                return
            delay = 0.0

    async def _replay_once(self) -> bool:
        """Move every claimable spill segment into the store; False when the store fails."""
        replayer = Replayer(
            self.store,
            self._spill,
            bounded=self._guard.bounded,
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

    async def _io(self, function: Callable[..., T], *args: Any) -> T:
        # One thread for all spill I/O: appends, seals and claims happen in order, and
        # an fsync never holds up the event loop.
        if self._io_thread is None:
            self._io_thread = ThreadPoolExecutor(1, thread_name_prefix="asgi-consent-spill")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._io_thread, functools.partial(function, *args))
