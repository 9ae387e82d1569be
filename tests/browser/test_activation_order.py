"""Order of activation in a real browser when choices overlap a slow script."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from playwright.sync_api import Browser, expect

from asgi_consent import ConsentMiddleware

from .conftest import SECRET, _ServerThread

pytestmark = pytest.mark.browser

PAGE = b"""<!doctype html><html><head><title>order</title></head><body>
<script type="text/plain" data-consent="analytics" src="/slow.js"></script>
<script type="text/plain" data-consent="analytics">
  window.order = window.lib ? "after lib" : "before lib";
</script>
</body></html>"""


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["path"] == "/slow.js":
        await anyio.sleep(1.5)  # still loading when the visitor chooses again
        body, media_type = b"window.lib = 1;", b"text/javascript"
    else:
        body, media_type = PAGE, b"text/html; charset=utf-8"
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", media_type)]}
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = _ServerThread(ConsentMiddleware(_app, secret_key=SECRET))
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def test_a_second_choice_while_a_script_loads_keeps_inline_code_after_it(
    browser: Browser, site: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site + "/")
    page.wait_for_function("window.asgiConsent !== undefined")

    banner = page.locator("#asgi-consent")
    banner.get_by_text("Manage preferences").click()
    banner.get_by_label("Analytics").check()
    banner.get_by_role("button", name="Save my choices").click()
    settings = page.locator("#asgi-consent-settings")
    expect(settings).to_be_visible()

    # A wider choice while /slow.js is still on its way.
    settings.locator(":scope > [data-consent-open]").click()
    settings.get_by_label("External content").check()
    settings.get_by_role("button", name="Save my choices").click()

    page.wait_for_function("window.order !== undefined", timeout=10_000)
    assert page.evaluate("window.order") == "after lib"
    assert errors == []
    context.close()
