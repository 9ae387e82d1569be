"""The demo application: a Starlette news site behind two `ConsentMiddleware` instances.

`/notice` (and everything below it) gets the classic single-button notice; every other
path gets the full banner. `create_app()` builds it; `python -m demo` serves it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from asgi_consent import ConsentMiddleware

from . import pages

logger = logging.getLogger("demo")

#: Signs consent cookies when no key is given. Public, so only ever for the demo.
DEV_SECRET_KEY = "asgi-consent-demo-development-key-do-not-use"
NOTICE_PATH = "/notice"
NOTICE_OPTIONS: dict[str, Any] = {
    "mode": "notice",
    "message": "Bullion Bite uses cookies to enhance your experience.",
    "policy_text": "How We Use Cookies?",
    "accept_text": "Ok, Go it!",
    "expiry_days": 20,
    "policy_url": "/privacy",
    "cookie_name": "asgi_consent_notice",
    "endpoint_prefix": NOTICE_PATH + "/_consent",
}
STATIC = Path(__file__).parent / "static"


def _page(title: str, main: str, **extra: Any) -> Any:
    async def endpoint(request: Request) -> HTMLResponse:
        html = pages.layout(title, main, consent=request.state.consent, **extra)
        return HTMLResponse(html)

    return endpoint


def site() -> Starlette:
    """The news site alone, knowing nothing of consent but `request.state.consent`."""
    return Starlette(
        routes=[
            Route("/", _page("Town council votes to keep the night bus", pages.ARTICLE)),
            Route("/video", _page("Watch: the night bus debate", pages.VIDEO)),
            Route("/privacy", _page("Privacy policy", pages.PRIVACY)),
            Route(
                NOTICE_PATH,
                _page(
                    "The classic notice bar",
                    pages.NOTICE,
                    settings_url=NOTICE_OPTIONS["endpoint_prefix"] + "/preferences",
                ),
            ),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )


class _ByPath:
    """Sends `/notice` and below to one app and every other path to another."""

    def __init__(self, notice: ASGIApp, default: ASGIApp) -> None:
        self.notice = notice
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if path == NOTICE_PATH or path.startswith(NOTICE_PATH + "/"):
            await self.notice(scope, receive, send)
        else:
            await self.default(scope, receive, send)


def create_app(secret_key: str | None = None, **options: Any) -> ASGIApp:
    """The demo site. `options` go to the main `ConsentMiddleware` (not the notice one).

    Without `secret_key` the demo signs with `DEV_SECRET_KEY` and logs a warning: fine on
    your own machine, never in production (anyone can forge consent with a public key).
    """
    if secret_key is None:
        secret_key = DEV_SECRET_KEY
        logger.warning(
            "the demo signs consent cookies with a public DEVELOPMENT secret key; "
            "set CONSENT_SECRET_KEY to use your own, and never deploy with this one"
        )
    options.setdefault("policy_url", "/privacy")
    news = site()
    main = ConsentMiddleware(news, secret_key=secret_key, **options)
    notice = ConsentMiddleware(news, secret_key=secret_key, **NOTICE_OPTIONS)
    return _ByPath(notice, main)
