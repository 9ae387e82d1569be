"""Accessibility fixtures: a tiny Starlette page behind ConsentMiddleware, served by
uvicorn on loopback, one headless Debian Chromium, and axe-core from npm.

Fixtures are package-scoped so the browser and servers are gone before another
test package starts its own Playwright.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route as StarletteRoute

from asgi_consent import ConsentMiddleware
from helpers import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SECRET = "a11y-test-secret-key-0123456789abcdef"
COOKIE = "asgi_consent"

_HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta name="color-scheme" content="light dark">'
    "<style>body{{font-family:sans-serif;margin:2rem;background:#fff;color:#1f2328}}"
    "a{{color:#1a4fbf}}@media (prefers-color-scheme: dark){{"
    "body{{background:#0d1117;color:#e6edf3}}a{{color:#9cc2ff}}}}</style>"
    "<title>{title}</title></head><body>"
)
HOME = (
    _HEAD.format(title="Example news") + "<header><h1>Example news</h1></header><main>"
    "<p>A short article about the town library, which opens on Sundays from next month.</p>"
    '<p><a href="/article" id="page-link">Read the whole article</a></p>'
    '<button type="button" id="page-button">Subscribe</button></main>'
    '<footer><a href="/_consent/preferences" data-consent-open id="settings-link">'
    "Cookie settings</a></footer></body></html>"
)
VIDEO = (
    _HEAD.format(title="A video")
    + "<header><h1>A video</h1></header><main><p>Our interview, on YouTube.</p>"
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/M7lc1UVf-VE"'
    ' title="YouTube video player" allowfullscreen></iframe>'
    '<p><a href="/" id="page-link">Back to the front page</a></p>'
    "</main></body></html>"
)
PRIVACY = (
    _HEAD.format(title="Privacy policy")
    + "<header><h1>Privacy policy</h1></header><main><p>What we store and why.</p></main>"
    "</body></html>"
)


def build_app(**options: Any) -> ConsentMiddleware:
    """The page under test: a heading, a paragraph, a link and a button, and the
    a "Cookie settings" link (`data-consent-open`) in its footer, as issue 4 asks sites
    to be able to place anywhere."""

    def page(html: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> HTMLResponse:
            return HTMLResponse(html)

        return endpoint

    app = Starlette(
        routes=[
            StarletteRoute("/", page(HOME)),
            StarletteRoute("/article", page(HOME)),
            StarletteRoute("/video", page(VIDEO)),
            StarletteRoute("/privacy", page(PRIVACY)),
        ]
    )
    options.setdefault("policy_url", "/privacy")
    return ConsentMiddleware(app, secret_key=SECRET, **options)




def _missing(reason: str) -> None:
    # CI must have everything; a developer machine without it skips with the reason.
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def site() -> Iterator[Callable[..., str]]:
    """`site(position="modal", ...)` -> base URL of a server with those options."""
    servers: dict[tuple[tuple[str, Any], ...], LoopbackServer] = {}

    def start(**options: Any) -> str:
        key = tuple(sorted(options.items()))
        if key not in servers:
            server = LoopbackServer(build_app(**options), http="h11", access_log=False)
            server.start()
            servers[key] = server
        return servers[key].url

    yield start
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _loopback_only(route: Route) -> None:
    if route.request.url.startswith(("http://127.0.0.1:", "data:", "about:")):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """`new_page(language="de", color_scheme="dark", ...)` -> a page in a fresh context.

    Keyword arguments other than `language` go to `browser.new_context`.
    """
    contexts: list[BrowserContext] = []

    def open_page(language: str = "en", **options: Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(
            locale=language, extra_http_headers={"Accept-Language": language}, **options
        )
        context.set_default_timeout(10_000)  # as in tests/browser: 5 s is short under CI load
        context.route("**/*", _loopback_only)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


_AXE_RUN = """async (options) => {
  await Promise.all(document.getAnimations().map((a) => a.finished));
  const results = await axe.run(document, options || {});
  const ours = "#asgi-consent, #asgi-consent-settings, .asgi-consent-placeholder";
  const isOurs = (target) => {
    const el = target.length === 1 ? document.querySelector(target[0]) : null;
    return Boolean(el && el.closest(ours));
  };
  const slim = (rules) => rules.map((rule) => ({
    id: rule.id,
    impact: rule.impact,
    help: rule.help,
    nodes: rule.nodes.map((node) => ({
      target: node.target.join(" "),
      ours: isOurs(node.target),
      html: node.html,
      summary: node.failureSummary || "",
      data: node.any.map((check) => check.data).filter(Boolean),
    })),
  }));
  return {
    version: axe.version,
    violations: slim(results.violations),
    incomplete: slim(results.incomplete),
    passes: slim(results.passes),
  };
}"""


@pytest.fixture(scope="package")
def axe_path() -> Path:
    if not AXE_PATH.exists():
        _missing(f"axe-core is not installed at {AXE_PATH} (run make, or npm install axe-core@4)")
    return AXE_PATH


@pytest.fixture
def run_axe(axe_path: Path) -> Callable[..., dict[str, Any]]:
    """`run_axe(page, options=None)` -> axe.run(document) results, trimmed to plain data."""

    def run(page: Page, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if page.evaluate("typeof window.axe === 'undefined'"):  # once per page (500 kB)
            page.add_script_tag(path=str(axe_path))
        results: dict[str, Any] = page.evaluate(_AXE_RUN, options)
        return results

    return run


def _describe(rules: list[dict[str, Any]]) -> str:
    """axe rules and their nodes, one line each, for an assertion message."""
    lines = []
    for rule in rules:
        lines.append(f"{rule['id']} ({rule['impact']}): {rule['help']}")
        for node in rule["nodes"]:
            lines.append(f"    {node['target']}: {node['html'][:160]}")
            if node["summary"]:
                lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.fixture
def assert_axe_clean(run_axe: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """`assert_axe_clean(page, disable=())`: every axe rule (but `disable`), zero violations,
    each one listed with its nodes on failure."""

    def check(page: Page, disable: tuple[str, ...] = ()) -> dict[str, Any]:
        options: dict[str, Any] = {"resultTypes": ["violations", "incomplete"]}
        if disable:
            options["rules"] = {rule: {"enabled": False} for rule in disable}
        results = run_axe(page, options)
        violations = results["violations"]
        assert not violations, (
            f"axe-core {results['version']}: {len(violations)} violation(s)\n"
            + _describe(violations)
        )
        return results

    return check
