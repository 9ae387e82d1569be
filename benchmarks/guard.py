"""What the run-time guard costs a page, measured in Chromium with the Performance API.

The same page is served twice by uvicorn on loopback, behind the middleware with
`runtime_guard` on and off, to a visitor who has not chosen yet (the guard's worst
case: every category refused). Per load, two figures from the page's own clock:

- `first script at`: `performance.now()` in the page's first <head> script. With the
  guard, that script runs after guard.js was fetched (from the browser's cache after
  the first load: the URL is content-hashed), compiled and run.
- `DOM work`: a first-party script doing what a busy page does (2,000 elements built
  with createElement/appendChild, 300 innerHTML writes, 300 setAttribute('src') and
  src setters on first-party images, 200 cookie writes, 60 inserted scripts), timed
  with `performance.now()`: every one of those calls goes through the guard.

Variants alternate inside each round (fresh page, warm cache); the table gives the
median over rounds and the median of the per-round on/off ratios.

    python -m benchmarks.guard [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time
from typing import Any

SECRET = "benchmark-secret-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
]
PAGE = b"""<!doctype html><html><head><title>bench</title>
<script>window.__first = performance.now();</script>
</head><body><main id="app"></main>
<script>
(() => {
  const t0 = performance.now();
  const app = document.getElementById("app");
  const list = document.createElement("ul");
  for (let i = 0; i < 2000; i++) {
    const li = document.createElement("li");
    const span = document.createElement("span");
    span.textContent = "item " + i;
    li.appendChild(span);
    list.appendChild(li);
  }
  app.appendChild(list);
  const box = app.appendChild(document.createElement("div"));
  for (let i = 0; i < 300; i++) {
    box.innerHTML = '<p class="x">para ' + i + ' <a href="/p/' + i + '">link</a></p>';
  }
  for (let i = 0; i < 300; i++) {
    const img = document.createElement("img");
    if (i % 2) { img.setAttribute("src", "/i.gif?" + i); } else { img.src = "/i.gif?" + i; }
    box.append(img);
  }
  for (let i = 0; i < 200; i++) { document.cookie = "pref" + (i % 10) + "=" + i + "; path=/"; }
  for (let i = 0; i < 60; i++) {
    const s = document.createElement("script");
    s.textContent = "window.__n = (window.__n || 0) + 1;";
    document.body.appendChild(s);
  }
  window.__work = performance.now() - t0;
})();
</script></body></html>"""


def _app(guard: bool) -> Any:
    from asgi_consent import ConsentMiddleware

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        body, kind = (b"", b"image/gif") if path == "/i.gif" else (PAGE, b"text/html")
        headers = [(b"content-type", kind), (b"cache-control", b"max-age=3600")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return ConsentMiddleware(app, secret_key=SECRET, runtime_guard=guard)


def _serve(app: Any) -> tuple[Any, str]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{port}/"


def run(rounds: int) -> dict[str, dict[str, list[float]]]:
    from playwright.sync_api import sync_playwright

    servers = {name: _serve(_app(name == "guard on")) for name in ("guard off", "guard on")}
    results: dict[str, dict[str, list[float]]] = {
        name: {"first": [], "work": []} for name in servers
    }
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            contexts = {name: browser.new_context() for name in servers}
            pages = {name: contexts[name].new_page() for name in servers}
            for name, (_, url) in servers.items():
                pages[name].goto(url)  # warm the cache (guard.js, consent.js, css)
            order = list(servers)
            for index in range(rounds):
                for name in order[index % 2 :] + order[: index % 2]:
                    page = pages[name]
                    page.goto(servers[name][1])
                    page.wait_for_function("window.__work !== undefined")
                    results[name]["first"].append(page.evaluate("window.__first"))
                    results[name]["work"].append(page.evaluate("window.__work"))
            browser.close()
    finally:
        for server, _ in servers.values():
            server.should_exit = True
    return results


def format_table(results: dict[str, dict[str, list[float]]]) -> str:
    off, on = results["guard off"], results["guard on"]
    lines = [
        "run-time guard in Chromium (ms, median over rounds; ratio: median of per-round on/off)",
        f"{'':24}{'guard off':>12}{'guard on':>12}{'on/off':>10}",
    ]
    for key, label in (("first", "first script at"), ("work", "DOM work")):
        ratios = [b / a for a, b in zip(off[key], on[key], strict=True) if a > 0]
        lines.append(
            f"{label:24}{statistics.median(off[key]):12.2f}{statistics.median(on[key]):12.2f}"
            f"{statistics.median(ratios):10.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.guard", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"run-time guard: skipped, {CHROMIUM} is missing")
        return 0
    print(format_table(run(args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
