"""Litestar: wrap the app's ASGI handler, `app.asgi_handler = ConsentMiddleware(app.asgi_handler,
...)`; consent in `request.state`.

`app` stays a `Litestar`, so Litestar's own CLI runs it (`litestar run` finds it,
`litestar --app app:app run` loads it), and its lifespan and `scope["app"]` stay
Litestar's. Three Litestar facts shape the recipe (all asserted below):

- Litestar runs `middleware=[...]` only for requests that match one of its routes, so
  with `DefineMiddleware(ConsentMiddleware, ...)` the consent endpoints under
  `/_consent` answer 404 and the banner's buttons do nothing. Wrap the handler instead.
- `compression_config=` compresses inside every Litestar middleware, so ours would
  only ever see gzip and step aside. Wrap ours in Litestar's `CompressionMiddleware`
  instead, outside.
- `app = ConsentMiddleware(Litestar(...))` serves fine under uvicorn, but Litestar's CLI
  wants a `Litestar`: it cannot load the wrapper, and autodiscovery skips it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import Cookie
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig

from asgi_consent import ConsentMiddleware
from helpers import SECRET

from . import contract
from .contract import BANNER, client_for

pytestmark = pytest.mark.anyio

PAGE = (
    "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>"
    + "<p>Fresh bread every morning.</p>" * 20
    + "</body></html>"
)


@get("/", media_type=MediaType.HTML)
async def page() -> str:
    return PAGE


@get("/api")
async def api() -> dict[str, object]:
    return {"items": [1, 2, 3], "html": "<body></body>"}


@get("/whoami", media_type=MediaType.TEXT)
async def whoami(request: Request) -> str:
    consent = request.state.consent
    assert consent is request.scope["state"]["consent"]
    return f"decided={consent.decided} analytics={consent.allows('analytics')}"


@get("/cart", media_type=MediaType.HTML)
async def cart(request: Request) -> Response[str]:
    visits = request.session.get("visits", 0) + 1
    request.set_session({"visits": visits})
    body = PAGE.replace("Shop</h1>", f"Shop {visits}</h1>")
    # a tracker cookie: held back before consent
    return Response(body, media_type=MediaType.HTML, cookies=[Cookie("_ga", "GA1.1.123.456")])


HANDLERS = [page, api, whoami, cart]
# Server-side sessions in the default memory store (cookie sessions need `cryptography`).
session_config = ServerSideSessionConfig()


def build_app() -> Litestar:
    app = Litestar(HANDLERS)
    app.asgi_handler = ConsentMiddleware(app.asgi_handler, secret_key=SECRET)  # type: ignore[arg-type, assignment]
    return app


def build_full_app() -> Litestar:
    app = Litestar(HANDLERS, middleware=[session_config.middleware])
    app.asgi_handler = CompressionMiddleware(
        app=ConsentMiddleware(app.asgi_handler, secret_key=SECRET),  # type: ignore[arg-type]
        config=CompressionConfig(backend="gzip"),
    )
    return app


async def test_banner_appears_on_an_html_page() -> None:
    await contract.banner_appears(build_app())


async def test_accept_through_the_form_sets_the_cookie_and_removes_the_banner() -> None:
    await contract.accept_removes_the_banner(build_app())


async def test_consent_is_readable_in_a_handler_as_request_state_consent() -> None:
    await contract.consent_is_readable_in_a_handler(build_app())


async def test_json_route_passes_byte_for_byte() -> None:
    await contract.passes_byte_for_byte(Litestar(HANDLERS), build_app())


async def test_inside_compression_the_page_gets_the_banner_and_is_compressed() -> None:
    await contract.compressed_page_has_the_banner(build_full_app())


async def test_session_cookie_and_consent_cookie_coexist() -> None:
    await contract.session_and_consent_cookies_coexist(build_full_app(), "session")


async def test_compression_config_is_inside_us_and_gzip_pages_are_rewritten() -> None:
    app = ConsentMiddleware(
        Litestar(HANDLERS, compression_config=CompressionConfig(backend="gzip")),
        secret_key=SECRET,
    )
    async with client_for(app) as client:
        compressed = await client.get("/", headers={"Accept-Encoding": "gzip"})
        identity = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert compressed.status_code == 200
    assert compressed.headers["content-encoding"] == "gzip"
    assert BANNER in compressed.text and compressed.text == identity.text


async def test_define_middleware_never_sees_the_consent_endpoints() -> None:
    app = Litestar(HANDLERS, middleware=[DefineMiddleware(ConsentMiddleware, secret_key=SECRET)])
    async with client_for(app) as client:
        page_ = await client.get("/")
        choice = await client.post(
            "/_consent/choice",
            data={"choice": "accept", "next": "/"},
            headers={"Origin": "http://testserver"},
        )
        whoami_ = await client.get("/whoami")
    assert BANNER in page_.text  # routed pages are rewritten ...
    assert choice.status_code == 404  # ... but Litestar answers /_consent itself
    assert "set-cookie" not in choice.headers
    assert whoami_.text == "decided=False analytics=False"


async def test_the_app_stays_a_litestar_with_its_own_state() -> None:
    app = build_app()
    assert isinstance(app, Litestar)
    async with client_for(app) as client:
        response = await client.get("/")
    assert response.status_code == 200 and BANNER in response.text


# -- Litestar's own CLI, in a subprocess ---------------------------------------------------

APP_MODULE = """
    import os

    from litestar import Litestar, MediaType, Request, get
    from asgi_consent import ConsentMiddleware


    @get("/", media_type=MediaType.HTML)
    async def home(request: Request) -> str:
        consent = request.state.consent
        return f"<!doctype html><html><body><h1>{consent.decided}</h1></body></html>"


    app = Litestar(route_handlers=[home])
    app.asgi_handler = ConsentMiddleware(
        app.asgi_handler, secret_key=os.environ["CONSENT_SECRET_KEY"]
    )
"""


def _litestar_cli(tmp_path: Path, *args: str) -> tuple[str, str]:
    """Runs `litestar <args> run` in a folder holding app.py; (home page, preferences page)."""
    (tmp_path / "app.py").write_text(textwrap.dedent(APP_MODULE), encoding="utf-8")
    env = {**os.environ, "CONSENT_SECRET_KEY": SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "litestar", *args, "run", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            found = re.search(r"Uvicorn running on (http://\S+)", line)
            if found:
                break
        else:
            pytest.fail("".join(lines))
        pages = []
        for path in ("/", "/_consent/preferences"):
            with urllib.request.urlopen(found.group(1) + path, timeout=10) as response:
                pages.append(response.read().decode())
        return pages[0], pages[1]
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.mark.server
def test_litestar_run_finds_the_app_with_consent(tmp_path: Path) -> None:
    home, preferences = _litestar_cli(tmp_path)
    assert "<h1>False</h1>" in home and BANNER in home
    assert 'name="choice"' in preferences


@pytest.mark.server
def test_litestar_run_with_the_app_option_runs_the_app_with_consent(tmp_path: Path) -> None:
    home, preferences = _litestar_cli(tmp_path, "--app", "app:app")
    assert "<h1>False</h1>" in home and BANNER in home
    assert 'name="choice"' in preferences
