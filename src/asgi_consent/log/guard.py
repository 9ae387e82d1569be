"""Calls into a store with a time limit, for the `LogWriter`.

A store that fails is reported once per distinct problem, not once per retry (a store
down for an hour must not write thousands of lines). A call that does not answer in
time is cancelled but not awaited: a driver may take long to cancel, and the writer
must not. Such hung calls are kept until `settle()` gives them a last moment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

LOG = logging.getLogger("asgi_consent.log")


class StoreGuard:
    """Time limits and problem reports for the calls one writer makes into one store."""

    def __init__(self, store: object, spill_dir: Path) -> None:
        self.store = store
        self.spill_dir = spill_dir
        self.problem: str | None = None  # the last one reported, until the store is back
        self._stray: set[asyncio.Task[Any]] = set()

    async def bounded(self, work: Awaitable[None], timeout: float, what: str = "write") -> bool:
        """Run `work` for at most `timeout` seconds; False (reported) if it failed or hung."""
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=timeout)
        except asyncio.CancelledError:  # our caller is cancelled (a replay at close)
            self._keep(task)  # else a failure the call ends with is never retrieved
            raise
        if not done:
            self.abandon(task, f"did not {what} within {timeout * 1e3:.0f} ms")
            return False
        error = task.exception()
        if error is not None:
            self.report(f"could not {what}: {error!r}")
            return False
        return True

    def abandon(self, task: asyncio.Task[Any], problem: str) -> None:
        """Report `problem`, cancel `task` (a hung call) and keep it until `settle()`.
        If the call still lands, the records' ids keep the store right."""
        self.report(problem)
        self._keep(task)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        task.cancel()
        self._stray.add(task)
        task.add_done_callback(self._forget)

    def report(self, problem: str) -> None:
        """Log `problem`, unless it is the one reported last."""
        if problem != self.problem:
            LOG.error(
                "consent log: store %r %s; records wait in the spill %s until it is back",
                self.store,
                problem,
                self.spill_dir,
            )
        self.problem = problem

    def back(self) -> None:
        """The store answers again: say so, if a problem was reported."""
        if self.problem is not None:
            LOG.warning("consent log: store %r is back", self.store)
            self.problem = None

    async def settle(self, timeout: float = 1.0) -> None:
        """Cancel the hung calls again and give them `timeout` seconds to end."""
        if self._stray:
            for task in self._stray:
                task.cancel()
            await asyncio.wait(set(self._stray), timeout=timeout)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._stray.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it at exit
