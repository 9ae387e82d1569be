"""The ASGI lifespan around an app, for the consent log's writer.

The app's own start-up runs first; once it has succeeded, the writer starts (it migrates
the store and replays a spill a previous run left) before the server is told the app is
ready. At shutdown the app finishes first, then the writer flushes what is queued and
closes the store, then the server hears that shutdown is complete. A server without
lifespan (or an app that does not take part) still gets a writer: the first record
starts it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .writer import LogWriter


async def lifespan_with_writer(
    app: ASGIApp, writer: LogWriter, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run `app`'s lifespan `scope`, starting `writer` at start-up and closing it at
    shutdown. The app's messages and exceptions reach the server unchanged."""

    async def send_with_writer(message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            await writer.start()
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            await writer.close()
        await send(message)

    await app(scope, receive, send_with_writer)
