"""The spill: where records wait, on local disk, while the store cannot take them.

A spill directory holds append-only JSON-lines segments, one line per record or banner
version, each append fsynced. A writer appends to its own current segment, locked with
`flock` for as long as it is open; a segment nobody holds (sealed, or left by a process
that died) can be claimed by any writer, replayed into the store and deleted. Several
app processes may share one directory. Replaying twice is harmless: record ids are unique.

Every method does blocking I/O: the writer calls them from its one spill thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .records import BannerVersion, ConsentRecord

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per spill directory
    fcntl = None  # type: ignore[assignment]

SUFFIX = ".jsonl"
UNREADABLE_SUFFIX = ".unreadable"
REJECTED_SUFFIX = ".rejected"


@dataclass(slots=True)
class Claimed:
    """A segment this process holds (locked) while it replays it."""

    path: Path
    fd: int


def _lock(fd: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def encode(records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]) -> bytes:
    """The spill lines for one batch: banner versions first, then records."""
    lines = [
        json.dumps({"banner": {"version_id": b.version_id, "content": b.content}}) for b in banners
    ]
    lines += [json.dumps({"record": record.to_dict()}) for record in records]
    return "".join(line + "\n" for line in lines).encode()


def decode(data: bytes) -> tuple[list[ConsentRecord], list[BannerVersion], int]:
    """Records and banner versions in spill lines, and how many lines were unreadable."""
    records: list[ConsentRecord] = []
    banners: list[BannerVersion] = []
    bad = 0
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if "record" in item:
                records.append(ConsentRecord.from_dict(item["record"]))
            else:
                banner = item["banner"]
                banners.append(BannerVersion(str(banner["version_id"]), str(banner["content"])))
        except (ValueError, KeyError, TypeError):
            bad += 1  # a line cut by a crash mid-write, or an edited file
    return records, banners, bad


class Spill:
    """One writer's view of a spill directory (created on first use)."""

    def __init__(self, directory: Path, *, segment_bytes: int = 1 << 20) -> None:
        self.directory = directory
        self._segment_bytes = segment_bytes
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0

    def _open_segment(self) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
        # Created under a hidden name and renamed once locked: no other writer can
        # claim it in between and delete it as empty.
        hidden = self.directory / f".{name}.new"
        fd = os.open(hidden, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _lock(fd)
            os.rename(hidden, self.directory / name)
            self._fsync_directory()
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                hidden.unlink()
            raise
        self._fd, self._path, self._size = fd, self.directory / name, 0
        return fd

    def _fsync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]) -> None:
        """Append one batch and fsync; on failure the segment is cut back and OSError raised."""
        data = encode(records, banners)
        fd = self._fd if self._fd is not None else self._open_segment()
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except OSError:
            # A half-written batch would glue the next line to its tail: cut it off
            # (truncating frees space, so this works on a full disk too).
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._size)
            raise
        self._size += len(data)
        if self._size >= self._segment_bytes:
            self.seal()

    def has_own_data(self) -> bool:
        """Whether this writer's current segment holds anything."""
        return self._fd is not None and self._size > 0

    def seal(self) -> None:
        """Close the current segment (it becomes claimable); the next append starts another."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if self._size == 0 and self._path is not None:
            with contextlib.suppress(OSError):
                self._path.unlink()
        os.close(fd)
        self._path, self._size = None, 0

    def segments(self) -> list[Path]:
        """Every segment in the directory but our current one, oldest first."""
        if not self.directory.is_dir():
            return []
        found = sorted(
            path
            for path in self.directory.iterdir()
            if path.name.endswith(SUFFIX) and not path.name.startswith(".")
        )
        return [path for path in found if path != self._path]

    def claim(self, path: Path) -> Claimed | None:
        """Lock a segment for replay; `None` if another process holds it or it is gone."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        if not _lock(fd) or os.fstat(fd).st_nlink == 0:
            os.close(fd)
            return None
        return Claimed(path, fd)

    def read(self, claimed: Claimed) -> tuple[list[ConsentRecord], list[BannerVersion], int]:
        """The records and banner versions of a claimed segment, and its unreadable lines."""
        with open(claimed.fd, "rb", closefd=False) as file:
            file.seek(0)
            return decode(file.read())

    def set_aside(self, claimed: Claimed) -> Path:
        """Rename a segment with unreadable lines out of the replay, for a person to read."""
        target = claimed.path.with_suffix(UNREADABLE_SUFFIX)
        os.rename(claimed.path, target)
        return target

    def set_aside_records(self, claimed: Claimed, records: Sequence[ConsentRecord]) -> Path:
        """Write records the store refused beside their segment, out of the replay."""
        target = claimed.path.with_suffix(REJECTED_SUFFIX)
        with open(target, "ab") as file:
            file.write(encode(records, []))
            file.flush()
            os.fsync(file.fileno())
        return target

    def discard(self, claimed: Claimed) -> None:
        """Delete a replayed segment (still locked, so no one else replays it meanwhile)."""
        with contextlib.suppress(FileNotFoundError):
            claimed.path.unlink()

    def release(self, claimed: Claimed) -> None:
        """Unlock a claimed segment."""
        os.close(claimed.fd)

    def count_waiting(self) -> int:
        """How many records wait in the directory's segments (ours included)."""
        paths = self.segments() + ([self._path] if self._path is not None else [])
        total = 0
        for path in paths:
            with contextlib.suppress(OSError):
                lines = path.read_bytes().splitlines()
                total += sum(1 for line in lines if line.startswith(b'{"record"'))
        return total

    def close(self) -> None:
        """Seal the current segment (an empty one is deleted)."""
        self.seal()
