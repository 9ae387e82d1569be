"""What the consent log costs the app's process per choice, without an HTTP server
(issue 10). The choice endpoint is called in process, `--connections` at once, each
posting its next choice when answered (a keep-alive connection); the log is off, a store
that keeps nothing (`null`: the log's own work, no store's), SQLite or PostgreSQL.

Two clocks. CPU time per choice (`time.process_time`: the app's threads, not the SQLite
writer child), with the GC's share from `gc.callbacks`. And, with `--instructions`,
instructions per choice under valgrind (cachegrind): the difference between a run of
`--choices` and one of 5x as many, so start-up cancels out. Instructions do not depend
on what else runs on the machine; on a shared one they are the steady figure (the GC
and, for PostgreSQL, the timing of answers still move them a little).

    python -m benchmarks.logcost off null sqlite [--choices 4000] [--rounds 5]
    python -m benchmarks.logcost null sqlite --instructions --choices 500
    python -m benchmarks.logcost null --tree /work/main    # another checkout's src/
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STORES = {
    "off": "",
    "null": "null",
    "sqlite": "sqlite:///{tmp}/logcost.db",
    "pg": "postgresql://postgres@127.0.0.1:5432/test?schema=bench_logcost",
}
BODY = b"choice=accept&next=/p"
HEADERS = [
    (b"host", b"127.0.0.1"),
    (b"accept", b"application/json"),
    (b"origin", b"http://127.0.0.1"),
    (b"content-type", b"application/x-www-form-urlencoded"),
    (b"content-length", str(len(BODY)).encode()),
]


class NullStore:
    """Keeps nothing: what the log costs without a store's own work."""

    async def migrate(self) -> None:
        pass

    async def write(self, records: Any, banners: Any) -> None:
        pass

    async def export(self, since: Any = None, until: Any = None) -> AsyncIterator[Any]:
        for record in ():
            yield record

    async def records_of(self, consent_id: str) -> list[Any]:
        return []

    async def banner_version(self, version_id: str) -> None:
        return None

    async def stats(self, since: Any = None, until: Any = None) -> list[Any]:
        return []

    async def purge(self, older_than_days: int, *, now: Any = None) -> int:
        return 0

    async def close(self) -> None:
        pass


def _app(log: str) -> Any:
    from asgi_consent import ConsentMiddleware

    async def page(scope: Any, receive: Any, send: Any) -> None:
        while scope["type"] == "lifespan":
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return

    store: Any = NullStore() if log == "null" else (log or None)
    return ConsentMiddleware(
        page, secret_key="benchmark-secret-0123456789abcdef", consent_log=store
    )


async def _choice(app: Any) -> None:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: Any) -> None:
        pass

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/_consent/choice", "raw_path": b"/_consent/choice",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000), "headers": list(HEADERS),
    }  # fmt: skip
    await app(scope, receive, send)


async def _measure(log: str, choices: int, connections: int) -> str:
    app = _app(log)
    answers: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    startup = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, str]:
        return startup.pop() if startup else await answers.get()

    async def send(message: Any) -> None:
        pass

    lifespan = asyncio.ensure_future(app({"type": "lifespan"}, receive, send))
    await asyncio.sleep(0.2)

    async def run(count: int) -> None:
        async def connection() -> None:
            for _ in range(count // connections):
                await _choice(app)

        await asyncio.gather(*(connection() for _ in range(connections)))

    await run(connections * 5)  # warm: the writer child started, memos filled
    spent = [0.0, 0.0]  # in the GC; when the current collection started

    def clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            spent[1] = time.process_time()
        else:
            spent[0] += time.process_time() - spent[1]

    gc.callbacks.append(clock)
    start = time.process_time()
    await run(choices)
    cpu = time.process_time() - start
    gc.callbacks.remove(clock)
    await answers.put({"type": "lifespan.shutdown"})
    await lifespan
    return f"cpu_us={1e6 * cpu / choices:.1f} gc_us={1e6 * spent[0] / choices:.1f}"


def _child(tree: Path, log: str, choices: int, connections: int, valgrind: bool) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(ROOT)])}
        command = [sys.executable, "-m", "benchmarks.logcost", "--child", log.format(tmp=tmp),
                   "--choices", str(choices), "--connections", str(connections)]  # fmt: skip
        if valgrind:
            command = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
                       "--cachegrind-out-file=/dev/null", *command]  # fmt: skip
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(done.stderr[-2000:])
        return done.stdout + done.stderr


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"no {pattern!r} in {text[-2000:]}")
    return float(found[1].replace(",", ""))


def _instructions(tree: Path, log: str, args: argparse.Namespace) -> float:
    small, large = (
        _number(r"I\s+refs:\s+([\d,]+)", _child(tree, log, n, args.connections, True))
        for n in (args.choices, args.choices * 5)
    )
    return (large - small) / (args.choices * 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stores", nargs="*", default=["off", "null", "sqlite"])
    parser.add_argument("--choices", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true", help="under valgrind")
    parser.add_argument(
        "--before", type=Path, action="append", default=[], help="another checkout, same rounds"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(asyncio.run(_measure(args.child, args.choices, args.connections)))
        return
    trees = [ROOT, *args.before]
    results: dict[tuple[str, Path], list[tuple[float, float]]] = {}
    for _ in range(1 if args.instructions else args.rounds):
        for store in args.stores:
            for tree in trees:
                log = STORES[store]
                if args.instructions:
                    found = (_instructions(tree, log, args), 0.0)
                else:
                    run = _child(tree, log, args.choices, args.connections, False)
                    found = (_number(r"cpu_us=([\d.]+)", run), _number(r"gc_us=([\d.]+)", run))
                results.setdefault((store, tree), []).append(found)
    for (store, tree), values in results.items():
        name = "" if tree == ROOT else f" @{tree}"
        if args.instructions:
            print(f"{store + name:24s} {values[0][0]:9.0f} instructions a choice")
            continue
        cpu, spent = [v[0] for v in values], [v[1] for v in values]
        print(
            f"{store + name:24s} CPU µs a choice {statistics.median(cpu):6.1f} "
            f"({min(cpu):.1f}..{max(cpu):.1f}), of it GC {statistics.median(spent):.1f}"
        )


if __name__ == "__main__":
    main()
