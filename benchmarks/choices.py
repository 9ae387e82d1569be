"""Choices per second and the choice endpoint's latency, with the consent log off, on
SQLite and on PostgreSQL (issue 10: the log should add no more than 2 ms p99 under 200
concurrent choices).

Each variant runs uvicorn in its own process on a free loopback port; the load comes
from a second process: `CONCURRENCY` keep-alive connections for `SECONDS`, timing every
answer. Rounds are interleaved. Two loads, since they answer different questions:

- saturated: each connection posts its next choice as soon as the last one is answered.
  The server is always busy, so latency is queueing (concurrency / throughput) and the
  log's cost shows as lost throughput.
- paced (`--rate`, choices per second over all connections): each connection posts on a
  fixed schedule, and latency counts from the scheduled time (no coordinated omission).
  Below saturation this is what a visitor waits: the group commit's wait shows here.

Besides latency, each row gives the server's CPU time per choice (all its threads and
child processes; not PostgreSQL's own), the steadiest number on a shared machine, and
how many records the log wrote per batch (its group commit). p99 moves a lot from one
run to the next (a GC pause, a neighbour's burst), so: every round runs every variant,
in a new random order; each figure is the median over rounds with the range in
brackets; and what the log adds is taken round by round against the same round's
server without it. `--before REV` also runs every variant at that git revision, in the
same rounds, for before/after.

    python -m benchmarks.choices [--seconds 5] [--rounds 3] [--concurrency 200]
                                 [--rate 1000 | --rate 200,500,1000]
                                 [--before REV] [--loads saturated,paced] [--gc-freeze]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret-0123456789abcdef"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test?schema=bench_choices"


def build() -> Any:
    """The app uvicorn serves (`--factory`): a page behind the middleware, the log at
    CHOICES_LOG (unset: off). GET /_bench/counts answers the writer's counts."""
    from starlette.types import Receive, Scope, Send

    from asgi_consent import ConsentMiddleware

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup" and os.environ.get("CHOICES_GC_FREEZE"):
                    # Everything built so far (the middleware included) out of the GC's
                    # sight: a full collection then scans only what requests leave.
                    gc.collect()
                    gc.freeze()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        body = b"ok"
        if scope["path"] == "/_bench/counts":
            log = middleware.consent_log
            counts = None if log is None else log.writer.counts
            body = json.dumps({} if counts is None else dataclasses.asdict(counts)).encode()
        headers = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    log = os.environ.get("CHOICES_LOG") or None
    middleware = ConsentMiddleware(page, secret_key=SECRET, consent_log=log)
    return middleware


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(log: str | None, src: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    # The package from `src` (this tree's, or a revision's export), not the installed one.
    path = os.pathsep.join([str(src), str(ROOT)])
    env = {**os.environ, "CHOICES_LOG": log or "", "PYTHONPATH": path}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.choices:build",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--lifespan", "on", "--backlog", "2048"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server, port
        time.sleep(0.05)
    server.kill()
    raise RuntimeError("uvicorn did not start")


REQUEST = (
    "POST /_consent/choice HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
    "Origin: http://127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: {length}\r\n\r\n{body}"
)


async def _client(
    port: int, until: float, latencies: list[float], interval: float | None = None
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = 0
    # Paced clients start spread over one interval, so the load is even from the start.
    scheduled = time.perf_counter() + (random.random() * interval if interval else 0.0)
    while time.perf_counter() < until:
        body = f"choice={('accept', 'reject', 'save')[index % 3]}&next=/p"
        if interval:
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            started = scheduled
            scheduled += interval
        else:
            started = time.perf_counter()
        writer.write(REQUEST.format(length=len(body), body=body).encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.split(b"\r\n")[0].decode())
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))  # fmt: skip
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        index += 1
    writer.close()


async def _load(
    port: int, seconds: float, concurrency: int, rate: float | None = None
) -> list[float]:
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    interval = concurrency / rate if rate else None
    await asyncio.gather(
        *(_client(port, until, latencies, interval) for _ in range(concurrency))
    )
    return latencies


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads) and of its child
    processes (the SQLite store's writer), on Linux; 0 elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds(child) for child in children)


async def _records_and_batches(port: int) -> tuple[int, int]:
    """What the server's log writer has written so far: records, batches (0, 0: no log)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /_bench/counts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    counts = json.loads(answer.split(b"\r\n\r\n", 1)[1] or b"{}")
    records = sum(counts.get(key, 0) for key in ("stored", "spilled", "lost"))
    return records, counts.get("batches", 0)


@dataclasses.dataclass
class Row:
    """One load on one variant in one round."""

    rate: float  # choices answered per second
    p50: float  # ms
    p99: float  # ms
    cpu: float  # the server's CPU ms per choice
    batch: float  # records per batch written (0: no log)


@dataclasses.dataclass
class Variant:
    log: str | None
    package: Path
    baseline: str  # the variant without a log, same package: what "log adds" is against


def _spread(values: list[float], digits: int = 1) -> str:
    """Median, and the range over rounds."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} ({low:.{digits}f}..{high:.{digits}f})"


def _report(title: str, results: dict[str, list[Row]], variants: dict[str, Variant]) -> None:
    """Medians over rounds, ranges in brackets; what the log adds is taken round by round
    against the same round's server without it (rounds are interleaved), then the
    median and range of those differences."""
    print(f"\n{title}")
    print(
        f"  {'variant':<20} {'choices/s':>9} {'p50 ms':>7} {'p99 ms':<22} {'CPU ms':>6} "
        f"{'rec/batch':>9}   log adds: p99 ms, CPU us per choice"
    )
    for name, rows in results.items():
        rate = statistics.median(row.rate for row in rows)
        p50 = statistics.median(row.p50 for row in rows)
        cpu = statistics.median(row.cpu for row in rows)
        batch = statistics.median(row.batch for row in rows)
        added = ""
        base = results[variants[name].baseline]
        if base is not rows:
            p99s = [row.p99 - off.p99 for row, off in zip(rows, base, strict=True)]
            cpus = [(row.cpu - off.cpu) * 1e3 for row, off in zip(rows, base, strict=True)]
            added = f"   {_spread(p99s)}, {_spread(cpus, 0)}"
        print(
            f"  {name:<20} {rate:>9.0f} {p50:>7.1f} {_spread([r.p99 for r in rows]):<22} "
            f"{cpu:>6.3f} {batch or 0:>9.1f}{added}"
        )


def _export(spec: str) -> Path:
    """A folder holding `asgi_consent/`, as given, or the `src` folder of a git revision,
    exported into a temporary folder."""
    if (Path(spec) / "asgi_consent").is_dir():
        return Path(spec)
    from .versions import _export as export_package

    return export_package(spec).parent


def _variants(folder: str, before: str | None) -> dict[str, Variant]:
    packages = {"": ROOT / "src"}
    if before:
        packages[f" @{Path(before).name}"] = _export(before)
    variants: dict[str, Variant] = {}
    for index, (label, package) in enumerate(packages.items()):
        off = f"log off{label}"
        variants[off] = Variant(None, package, off)
        variants[f"SQLite{label}"] = Variant(f"sqlite:///{folder}/consent{index}.db", package, off)
        variants[f"PostgreSQL{label}"] = Variant(f"{POSTGRES}{index}", package, off)
    return variants


def _run(port: int, seconds: float, concurrency: int, rate: float | None, pid: int) -> Row:
    records, batches = asyncio.run(_records_and_batches(port))
    cpu = _cpu_seconds(pid)
    latencies = asyncio.run(_load(port, seconds, concurrency, rate))
    cpu = (_cpu_seconds(pid) - cpu) / len(latencies)
    records_after, batches_after = asyncio.run(_records_and_batches(port))
    cut = statistics.quantiles(latencies, n=100)
    batches_after -= batches
    return Row(
        len(latencies) / seconds,
        cut[49] * 1e3,
        cut[98] * 1e3,
        cpu * 1e3,
        (records_after - records) / batches_after if batches_after else 0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument(
        "--rate", default="1000", help="paced load, choices/s; several: 200,500,1000"
    )
    parser.add_argument(
        "--before", metavar="REV|DIR", help="also run the code at this revision (or src folder)"
    )
    parser.add_argument("--loads", default="saturated,paced", help="saturated, paced or both")
    parser.add_argument("--seed", type=int, default=0, help="of the variants' order per round")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="servers call gc.freeze() once started (does p99 follow the GC's full collections?)",
    )
    args = parser.parse_args()
    if args.gc_freeze:
        os.environ["CHOICES_GC_FREEZE"] = "1"
    variants = _variants(tempfile.mkdtemp(prefix="asgi-consent-bench-"), args.before)
    chosen = args.loads.split(",")
    loads: dict[str, float | None] = {"saturated": None} if "saturated" in chosen else {}
    if "paced" in chosen:
        for rate in args.rate.split(","):
            loads[f"paced {float(rate):.0f}/s"] = float(rate)
    results: dict[str, dict[str, list[Row]]] = {
        load: {name: [] for name in variants} for load in loads
    }
    order = list(variants)
    shuffle = random.Random(args.seed).shuffle
    load_average = os.getloadavg()[0]
    for _ in range(args.rounds):
        shuffle(order)  # no variant always runs first, or right after a heavy one
        for name in order:
            variant = variants[name]
            server, port = _start(variant.log, variant.package)
            try:
                asyncio.run(_load(port, 0.5, args.concurrency))  # connections, caches, schema
                for load, rate in loads.items():
                    row = _run(port, args.seconds, args.concurrency, rate, server.pid)
                    results[load][name].append(row)
            finally:
                server.terminate()
                server.wait(timeout=30)
    print(
        f"{args.concurrency} concurrent connections, {args.seconds:.0f} s per load, "
        f"{args.rounds} rounds; load average {load_average:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    for load, rows in results.items():
        _report(load, rows, variants)


if __name__ == "__main__":
    main()
