"""Real-server load test: uvicorn (httptools) on 127.0.0.1, load from `wrk`.

One uvicorn process per variant (bare app, app + ConsentMiddleware, app + GZipMiddleware),
each on its own free loopback port, all started up front and idle while another one is
under load. The runs are interleaved: round 1 runs every (case, variant), then round 2,
and so on; we report min / median / max of requests/s and p99 latency over the rounds.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .inprocess import granted_cookie

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
FACTORIES = {
    "bare": "benchmarks.inprocess:build_bare",
    "+ours": "benchmarks.inprocess:build_wrapped",
    "+gzip": "benchmarks.inprocess:build_gzip",
}


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    cookie: bool
    variants: tuple[str, ...]


CASES = (
    Case("a JSON, consent cookie", "/api/status", True, ("bare", "+ours")),
    Case("b 20 KB page, all granted", "/news", True, ("bare", "+ours")),
    Case("c 20 KB page, no choice", "/news", False, ("bare", "+ours", "+gzip")),
    Case("d 2 MB page, no choice", "/archive", False, ("bare", "+ours", "+gzip")),
)


@dataclass
class Result:
    case: str
    variant: str
    rps: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    errors: int = 0
    requests: int = 0


@dataclass
class WrkRun:
    rps: float
    p99_ms: float
    requests: int
    errors: int


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _duration_ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not found:
        raise ValueError(f"wrk latency {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_wrk(output: str) -> WrkRun:
    """Requests/s, p99 latency, request count and errors from `wrk --latency` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = _duration_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return WrkRun(rps, p99, requests, errors)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not listen on {HOST}:{port} within {timeout} s")


def start_server(factory: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "src")]))
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        HOST,
        "--port",
        str(port),
        "--http",
        "httptools",
        "--lifespan",
        "off",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        _wait_for(port, process)
    except BaseException:
        process.terminate()
        process.wait(10)
        raise
    return process, port


def run_wrk(
    url: str, *, duration: str, connections: int, headers: list[str], threads: int = 2
) -> WrkRun:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency"]
    command += ["--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(
        [*command, url], check=True, capture_output=True, text=True, timeout=600
    ).stdout
    return parse_wrk(output)


def run(*, duration: str = "5s", rounds: int = 3, connections: int = 32) -> list[Result]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    cookie = f"Cookie: session=abc123; asgi_consent={granted_cookie()}"
    common = ["Accept-Language: en-GB,en;q=0.7", "Accept-Encoding: gzip"]
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    results = {
        (case.name, variant): Result(case.name, variant)
        for case in CASES
        for variant in case.variants
    }
    try:
        for variant, factory in FACTORIES.items():
            servers[variant] = start_server(factory)
        for case in CASES:  # warm-up: imports, caches, first connections
            for variant in case.variants:
                run_wrk(
                    f"http://{HOST}:{servers[variant][1]}{case.path}",
                    duration="1s",
                    connections=4,
                    headers=common + ([cookie] if case.cookie else []),
                )
        for r in range(rounds):
            for case in CASES:
                order = list(case.variants)
                order = order[r % len(order) :] + order[: r % len(order)]
                for variant in order:
                    measured = run_wrk(
                        f"http://{HOST}:{servers[variant][1]}{case.path}",
                        duration=duration,
                        connections=connections,
                        headers=common + ([cookie] if case.cookie else []),
                    )
                    result = results[(case.name, variant)]
                    result.rps.append(measured.rps)
                    result.p99_ms.append(measured.p99_ms)
                    result.errors += measured.errors
                    result.requests += measured.requests
    finally:
        for process, _ in servers.values():
            process.terminate()
        for process, _ in servers.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return list(results.values())


def format_table(results: list[Result]) -> str:
    def triple(values: list[float], digits: int) -> str:
        if not values:
            return ""
        return " / ".join(
            f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values))
        )

    bare = {r.case: r for r in results if r.variant == "bare"}
    header = (
        "case",
        "variant",
        "requests/s (min/med/max)",
        "p99 ms (min/med/max)",
        "rps vs bare (median)",
        "requests",
        "errors",
    )
    table = [header]
    for r in results:
        ratio = ""
        if r.variant != "bare" and r.case in bare:
            ratio = f"{statistics.median(r.rps) / statistics.median(bare[r.case].rps):.3f}"
        table.append(
            (
                r.case,
                r.variant,
                triple(r.rps, 0),
                triple(r.p99_ms, 2),
                ratio,
                str(r.requests),
                str(r.errors),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    rounds = max((len(r.rps) for r in results), default=0)
    lines = [
        f"Load test: uvicorn --http httptools on {HOST}, wrk -t2 -c<n> --latency, "
        f"{rounds} interleaved rounds"
    ]
    for index, row in enumerate(table):
        lines.append(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)
