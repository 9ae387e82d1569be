"""A PostgreSQL killed mid-batch and restarted: every choice made meanwhile is in the
table after replay, exactly once. The test starts its own throwaway cluster."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from asgi_consent.log import ConsentRecord, LogWriter, Outcome
from asgi_consent.log.postgres import PostgresStore

from .helpers import BANNER, make_record, postgres_execute, require, wait_for

pytestmark = pytest.mark.anyio


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary folder, run as the postgres user."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="consent-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_postgres, *command], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, "-w", "start",
        )  # fmt: skip

    def kill(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bin_dir = _postgres_bin()
    problem = None
    if bin_dir is None:
        problem = "PostgreSQL's initdb is not installed (/usr/lib/postgresql/*/bin)"
    elif os.geteuid() == 0 and shutil.which("runuser") is None:
        problem = "runuser is missing: initdb refuses to run as root"
    require(problem)
    assert bin_dir is not None
    throwaway = Cluster(bin_dir)
    try:
        throwaway.init()
        throwaway.start()
    except subprocess.CalledProcessError as error:
        throwaway.remove()
        require(f"a throwaway PostgreSQL cluster did not start: {error.stderr!r}")
    yield throwaway
    throwaway.remove()


@pytest.fixture
async def writer(cluster: Cluster, tmp_path: Path) -> AsyncIterator[LogWriter]:
    store = PostgresStore(cluster.url, schema="fault", connect_timeout=1.0)
    writer = LogWriter(store, tmp_path / "spill", commit_timeout=0.5, retry_interval=0.1)
    await writer.start()
    yield writer
    await writer.close()


async def test_a_postgresql_killed_mid_batch_loses_and_duplicates_nothing(
    cluster: Cluster, writer: LogWriter
) -> None:
    made: list[ConsentRecord] = []
    outcomes: list[Outcome] = []
    stop = asyncio.Event()

    async def visitor() -> None:
        while not stop.is_set():
            record = make_record()
            made.append(record)
            outcomes.append(await writer.record(record, BANNER))
            await asyncio.sleep(0.01)

    visitors = [asyncio.ensure_future(visitor()) for _ in range(20)]
    await wait_for(lambda: writer.counts.stored >= 200)
    await asyncio.to_thread(cluster.kill)  # while batches are in flight
    await wait_for(lambda: writer.counts.spilled >= 200)
    await asyncio.to_thread(cluster.start)
    spilled = writer.counts.spilled
    await wait_for(lambda: writer.counts.stored >= 400 + spilled)  # back, and replayed
    stop.set()
    await asyncio.gather(*visitors)
    await wait_for(lambda: writer.counts.replayed >= writer.counts.spilled, timeout=20)

    rows = await postgres_execute(
        "SELECT count(*), count(DISTINCT record_id) FROM fault.consent_records", url=cluster.url
    )
    ids = await postgres_execute("SELECT record_id FROM fault.consent_records", url=cluster.url)
    assert tuple(rows[0]) == (len(made), len(made))
    assert {row[0] for row in ids} == {record.record_id for record in made}
    assert "lost" not in outcomes and writer.counts.lost == 0
    assert outcomes.count("spilled") >= 200
