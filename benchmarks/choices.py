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
child processes; not PostgreSQL's own), the steadiest number on a shared machine. `--before REV`
also runs the log at that git revision, in the same rounds, for before/after.

    python -m benchmarks.choices [--seconds 5] [--rounds 3] [--concurrency 200] [--rate 1000]
                                 [--before REV] [--loads saturated,paced]
"""

from __future__ import annotations

import argparse
import asyncio
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
    CHOICES_LOG (unset: off)."""
    from asgi_consent import ConsentMiddleware

    async def page(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    log = os.environ.get("CHOICES_LOG") or None
    return ConsentMiddleware(page, secret_key=SECRET, consent_log=log)


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


Row = tuple[float, float, float, float]  # choices/s, p50 ms, p99 ms, server CPU ms/choice


def _report(title: str, results: dict[str, list[Row]]) -> None:
    print(
        f"{title:<20} {'choices/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7}"
        "   (median of rounds; CPU: the server's, per choice)"
    )
    off = None
    for name, rows in results.items():
        rate, p50, p99, cpu = (statistics.median(column) for column in zip(*rows, strict=True))
        if off is None:
            off = (p50, p99, cpu)
            added = ""
        else:
            added = (
                f"   log adds p50 {p50 - off[0]:+.1f}, p99 {p99 - off[1]:+.1f} ms, "
                f"CPU {(cpu - off[2]) * 1e3:+.0f} us"
            )
        print(f"{name:<20} {rate:>10.0f} {p50:>8.1f} {p99:>8.1f} {cpu:>7.3f}{added}")


def _export(spec: str) -> Path:
    """A folder holding `asgi_consent/`, as given, or the `src` folder of a git revision,
    exported into a temporary folder."""
    if (Path(spec) / "asgi_consent").is_dir():
        return Path(spec)
    from .versions import _export as export_package

    return export_package(spec).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1000.0, help="paced load, choices/s")
    parser.add_argument(
        "--before", metavar="REV|DIR", help="also run the log at this revision (or src folder)"
    )
    parser.add_argument("--loads", default="saturated,paced", help="saturated, paced or both")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="asgi-consent-bench-")
    src = ROOT / "src"
    variants: dict[str, tuple[str | None, Path]] = {
        "log off": (None, src),
        "SQLite": (f"sqlite:///{folder}/consent.db", src),
        "PostgreSQL": (POSTGRES, src),
    }
    if args.before:
        old, label = _export(args.before), Path(args.before).name
        variants[f"SQLite @{label}"] = (f"sqlite:///{folder}/before.db", old)
        variants[f"PostgreSQL @{label}"] = (POSTGRES + "_before", old)
    chosen = args.loads.split(",")
    loads = {"saturated": None} if "saturated" in chosen else {}
    if "paced" in chosen:
        loads[f"paced {args.rate:.0f}/s"] = args.rate
    results: dict[str, dict[str, list[Row]]] = {
        load: {name: [] for name in variants} for load in loads
    }
    for _ in range(args.rounds):
        for name, (log, package) in variants.items():
            server, port = _start(log, package)
            try:
                asyncio.run(_load(port, 0.5, args.concurrency))  # connections, caches, schema
                for load, rate in loads.items():
                    cpu = _cpu_seconds(server.pid)
                    latencies = asyncio.run(_load(port, args.seconds, args.concurrency, rate))
                    cpu = (_cpu_seconds(server.pid) - cpu) / len(latencies)
                    cut = statistics.quantiles(latencies, n=100)
                    results[load][name].append(
                        (len(latencies) / args.seconds, cut[49] * 1e3, cut[98] * 1e3, cpu * 1e3)
                    )
            finally:
                server.terminate()
                server.wait(timeout=30)
    print(
        f"{args.concurrency} concurrent connections, {args.seconds:.0f} s per load, "
        f"{args.rounds} rounds; load average {os.getloadavg()[0]:.1f}"
    )
    for load, rows in results.items():
        _report(load, rows)


if __name__ == "__main__":
    main()
