"""The SQLite store's writes, in a process of their own (`sqlitechild`).

A writer thread in the app's process holds the GIL while it binds rows and takes it
back after each call into SQLite: while the event loop is busy, the thread waits for
it, and while the thread holds it, the loop waits. So batches go, as SQL text and
parameters, over a pipe to a small child process that writes them durably and answers;
the event loop only writes the batch and reads the answer, in its own I/O callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import marshal
import sqlite3
import subprocess
import sys
from collections.abc import Sequence

from . import sqlitechild
from .sqlitechild import HEADER, Statement

LOG = logging.getLogger("asgi_consent.log")
_START_TIMEOUT = 10.0  # seconds for a child to start and open the database
_RESTART_DELAY = 10.0  # seconds between two starts, after one failed
_CHILD = sqlitechild.__file__


class WriterProcessError(OSError):
    """No writer process can run here (no Python to start, or it dies at once)."""


class _Child(asyncio.SubprocessProtocol):
    """One child as the event loop sees it: answers parsed as they come, its end."""

    def __init__(self, owner: WriterProcess) -> None:
        self.owner = owner
        self.waiting: dict[int, asyncio.Future[None]] = {}
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.SubprocessTransport | None = None
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def pipe_data_received(self, fd: int, data: bytes | bytearray) -> None:
        self._buffer += data
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            end = HEADER.size + size
            if len(self._buffer) < end:
                return
            seq, error = marshal.loads(bytes(self._buffer[HEADER.size : end]))
            del self._buffer[:end]
            future = self.waiting.pop(seq, None)
            if future is None or future.done():
                continue  # its caller gave up (a timeout): the records' ids keep the store right
            if error is None:
                future.set_result(None)
            else:
                kind = getattr(sqlite3, error[0], None)
                if not (isinstance(kind, type) and issubclass(kind, sqlite3.Error)):
                    kind = OSError
                future.set_exception(kind(error[1]))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd != 1:
            return
        # No more answers can come, whatever happened to the child.
        self.owner._lost(self)
        for seq, future in self.waiting.items():
            if not future.done():
                # Before its first answer, the child cannot run here at all.
                kind = WriterProcessError if seq == 0 else OSError
                future.set_exception(kind("the SQLite writer process ended"))
        self.waiting.clear()

    def process_exited(self) -> None:
        if not self.ended.done():
            self.ended.set_result(None)

    async def end(self, timeout: float) -> None:
        """Close its input (it ends once it has answered what it was sent), wait for it
        to end, kill it after `timeout` seconds."""
        if self.transport is None:
            return
        pipe = self.transport.get_pipe_transport(0)
        if pipe is not None:
            pipe.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.ended), timeout)
        except TimeoutError:
            self.transport.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.ended), 1.0)
        finally:
            self.transport.close()


class WriterProcess:
    """One child process writing to one SQLite file.

    `usable()` says whether batches can go to it now; if not, it starts one in the
    background (batches go to the store's thread meanwhile: a start takes a while).
    Where no child can run at all, it says so once and stays unused.
    """

    def __init__(self, path: str, busy_timeout: float, owner: object) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._owner = owner  # named in what is logged
        self._child: _Child | None = None  # the child answering, once it has opened the file
        self._children: set[_Child] = set()  # every child not yet reaped
        self._seq = itertools.count(1)
        self._starting: asyncio.Task[None] | None = None
        self._start_after = 0.0  # loop time: no new start before it
        self._unusable = False

    @property
    def pid(self) -> int | None:
        """The process id of the child that writes, once one is ready."""
        transport = None if self._child is None else self._child.transport
        return None if transport is None else transport.get_pid()

    def usable(self) -> bool:
        """Whether a child runs and has opened the database; if not, start one."""
        if self._child is not None or self._unusable:
            return self._child is not None
        loop = asyncio.get_running_loop()
        idle = self._starting is None or self._starting.done()
        if idle and loop.time() >= self._start_after:
            self._starting = loop.create_task(self._start_in_background())
        return False

    async def _start_in_background(self) -> None:
        try:
            await self.start()
        except WriterProcessError as error:
            LOG.warning("consent log: %r writes in a thread: %s", self._owner, error)
            self._unusable = True
        except Exception as error:  # the database: the thread says it, for each batch
            self._start_after = asyncio.get_running_loop().time() + _RESTART_DELAY
            LOG.debug("consent log: no writer process for %r: %r", self._owner, error)

    async def start(self) -> None:
        """Start a child and wait until it has opened the database. Raises what SQLite
        raised, or `WriterProcessError` when no child can run here."""
        loop = asyncio.get_running_loop()
        child = _Child(self)
        opened = child.waiting[0] = loop.create_future()
        self._children.add(child)
        try:
            try:
                await loop.subprocess_exec(
                    lambda: child,
                    *(sys.executable, "-I", "-S", _CHILD, self._path, str(self._busy_timeout)),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=None,
                )
            except (OSError, NotImplementedError) as error:  # no executable; no pipes
                raise WriterProcessError(f"cannot start {sys.executable!r}: {error!r}") from error
            try:
                await asyncio.wait_for(opened, _START_TIMEOUT)
            except TimeoutError:
                raise WriterProcessError(f"no answer within {_START_TIMEOUT:.0f} s") from None
        except BaseException as error:
            opened.cancel()
            if isinstance(error, Exception):  # cancelled: close() ends the child
                await self._end(child)
            raise
        self._child = child

    async def execute(self, statements: Sequence[Statement]) -> None:
        """Run `statements` in one transaction in the child; raises what SQLite raised,
        or OSError if the child ended. Only when `usable()`."""
        child = self._child
        if child is None or child.transport is None:
            raise OSError("the SQLite writer process is not running")
        seq = next(self._seq)
        future = child.waiting[seq] = asyncio.get_running_loop().create_future()
        payload = marshal.dumps((seq, list(statements)))
        pipe: asyncio.WriteTransport = child.transport.get_pipe_transport(0)  # type: ignore[assignment]
        pipe.write(HEADER.pack(len(payload)) + payload)
        try:
            await future
        finally:
            child.waiting.pop(seq, None)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop a start under way; let every child finish what it was sent and end; kill
        any still there after `timeout` seconds."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        self._child = None
        await asyncio.gather(*(self._end(child, timeout) for child in list(self._children)))

    async def _end(self, child: _Child, timeout: float = 1.0) -> None:
        if self._child is child:
            self._child = None
        try:
            await child.end(timeout)
        finally:
            self._children.discard(child)

    def _lost(self, child: _Child) -> None:
        if self._child is child:
            self._child = None  # the next batch goes to the thread; a new child starts
