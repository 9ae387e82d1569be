"""Moving spilled records into the store once it is back.

Every spill segment this process can claim (its own, and those of processes that died)
is written to the store in chunks and then deleted. A chunk the store refuses while it
still answers holds a record it cannot take: the chunk is retried one record at a time
and the records refused alone are set aside in a ``.rejected`` file, logged, so that one
bad record never keeps the rest of the spill out of the store.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .records import BannerVersion, ConsentRecord
from .spill import Claimed, Spill
from .store import Store

LOG = logging.getLogger("asgi_consent.log")
T = TypeVar("T")

Bounded = Callable[[Awaitable[None], float, str], Awaitable[bool]]
InThread = Callable[..., Awaitable[Any]]


@dataclass(slots=True)
class WriterCounts:
    """What a writer did since it started: records stored, spilled, replayed, set aside
    (refused by a working store), lost; batches committed."""

    stored: int = 0
    spilled: int = 0
    replayed: int = 0
    rejected: int = 0
    lost: int = 0
    batches: int = 0


class Replayer:
    """Replays one spill directory into one store (used by `LogWriter`).

    `bounded` runs a store call with a time limit and reports failures; `in_thread`
    runs a blocking spill call in the writer's spill thread.
    """

    def __init__(
        self,
        store: Store,
        spill: Spill,
        *,
        bounded: Bounded,
        in_thread: InThread,
        counts: WriterCounts,
        max_batch: int,
        timeout: float,
    ) -> None:
        self._store = store
        self._spill = spill
        self._bounded = bounded
        self._in_thread = in_thread
        self._counts = counts
        self._max_batch = max_batch
        self._timeout = timeout

    async def _reachable(self) -> bool:
        return await self._bounded(self._store.migrate(), self._timeout, "migrate")

    async def replay(self) -> bool:
        """Replay every claimable segment; False as soon as the store fails."""
        if not await self._reachable():
            return False
        await self._in_thread(self._spill.seal)
        for path in await self._in_thread(self._spill.segments):
            claimed = await self._in_thread(self._spill.claim, path)
            if claimed is None:
                continue  # another process holds it: its writer, or its replay
            try:
                if not await self._segment(claimed):
                    return False
            finally:
                await self._in_thread(self._spill.release, claimed)
        return True

    async def _segment(self, claimed: Claimed) -> bool:
        records, banners, unreadable = await self._in_thread(self._spill.read, claimed)
        rejected: list[ConsentRecord] = []
        for start in range(0, max(len(records), 1), self._max_batch):
            chunk = records[start : start + self._max_batch]
            refused = await self._chunk(chunk, banners if start == 0 else [])
            if refused is None:
                return False
            rejected += refused
        if rejected:
            kept = await self._in_thread(self._spill.set_aside_records, claimed, rejected)
            self._counts.rejected += len(rejected)
            LOG.error(
                "consent log: the store refused %d spilled records that it was given alone; "
                "kept in %s",
                len(rejected),
                kept,
            )
        if unreadable:
            kept = await self._in_thread(self._spill.set_aside, claimed)
            LOG.error(
                "consent log: %d lines of a spill segment could not be read; kept in %s",
                unreadable,
                kept,
            )
        else:
            await self._in_thread(self._spill.discard, claimed)
        self._counts.replayed += len(records) - len(rejected)
        LOG.info("consent log: %d spilled records replayed into the store", len(records))
        return True

    async def _chunk(
        self, chunk: Sequence[ConsentRecord], banners: Sequence[BannerVersion]
    ) -> list[ConsentRecord] | None:
        """The records of `chunk` the store refused alone; None when the store is down."""
        if await self._write(chunk, banners):
            return []
        if not await self._reachable():
            return None  # the store is down, not the data
        if banners and not await self._write([], banners):
            return None
        refused: list[ConsentRecord] = []
        for record in chunk:
            if await self._write([record], []):
                continue
            if not await self._reachable():
                return None
            refused.append(record)
        return refused

    async def _write(
        self, records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]
    ) -> bool:
        return await self._bounded(self._store.write(records, banners), self._timeout, "write")
