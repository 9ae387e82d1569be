"""`ConfigError`, at the bottom of the import graph: every module may raise it.

Also how a `ConfigError` reaches a server when a framework builds our middleware lazily
(`StartupFailure`, `built_lazily`): see `ConsentMiddleware` for why.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

# Plain ASGI types: this module imports nothing of ours and no framework.
_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: How to make a secret key; every message about a missing or short one says it.
MAKE_A_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class ConfigError(ValueError):
    """A configuration value is missing or wrong.

    `field` names the option, `value` is the bad value (masked for the secret key),
    `source` tells where it came from (an environment variable, a key, a file).
    `unset` says the value was not given at all ("secret_key is not set: ..."). `message`,
    if given, is the whole text, in place of "field (from source): expected ..., got ...".
    """

    def __init__(
        self,
        field: str,
        value: object,
        expected: str,
        *,
        source: str | None = None,
        message: str | None = None,
        unset: bool = False,
    ) -> None:
        self.field = field
        self.value = "<hidden>" if "secret" in field else value
        self.expected = expected
        self.source = source
        self.message = message
        self.unset = unset
        where = f" (from {source})" if source else ""
        if message is None:
            message = (
                f"{field} is not set{where}: expected {expected}"
                if unset
                else f"{field}{where}: expected {expected}, got {self.value!r}"
            )
        super().__init__(message)


# Starlette and FastAPI build their middleware stack on the first ASGI call, in this
# method; any framework that builds ours lazily is likely to use the same name.
_LAZY_BUILDERS = frozenset({"build_middleware_stack"})


def built_lazily(depth: int = 8) -> bool:
    """Whether the middleware being constructed was asked for by a framework that builds
    its stack on the first ASGI call (Starlette's and FastAPI's `add_middleware`), rather
    than by the application's own code at import time.

    Looked up only when a config is bad, so a good config never pays for it.
    """
    frame = sys._getframe(1)
    for _ in range(depth):
        if frame.f_code.co_name in _LAZY_BUILDERS:
            return True
        if frame.f_back is None:
            return False
        frame = frame.f_back
    return False


class StartupFailure:
    """An ASGI app that stands in for a middleware whose config is bad, when a framework
    builds it lazily: the first call is usually the lifespan start-up, and a server
    swallows an exception raised there (uvicorn's default `--lifespan auto` takes it for
    "lifespan unsupported" and serves every request a 500). This app answers the start-up
    with `lifespan.startup.failed` and the error, so the server logs it and exits; any
    other call raises the error itself.
    """

    def __init__(self, error: ConfigError) -> None:
        self.error = error

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            if message["type"] == "lifespan.startup":
                failed = f"{type(self.error).__name__}: {self.error}"
                await send({"type": "lifespan.startup.failed", "message": failed})
                return
        raise self.error
