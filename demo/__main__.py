"""`python -m demo`: serve the demo site with uvicorn on HOST:PORT (default 127.0.0.1:8000).

Set CONSENT_SECRET_KEY to sign consent cookies with your own key; without it the demo
uses a development key and says so in its log. Each choice is kept as proof of consent
in a SQLite file whose path the log names at start-up (CONSENT_CONSENT_LOG sets another
store); read it with `python -m asgi_consent log stats --store <that URL>`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import uvicorn

from .app import create_app

logger = logging.getLogger("demo")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    host = os.environ.get("HOST") or "127.0.0.1"
    port = int(os.environ.get("PORT") or "8000")
    consent_log = os.environ.get("CONSENT_CONSENT_LOG") or default_consent_log()
    app = create_app(
        secret_key=os.environ.get("CONSENT_SECRET_KEY") or None, consent_log=consent_log
    )
    logger.info("demo site on http://%s:%d/ (classic notice on /notice)", host, port)
    logger.info(
        "consent log: %s (see it: python -m asgi_consent log stats --store %s)",
        consent_log,
        consent_log,
    )
    # lifespan: the consent log's writer starts with the server and is flushed at exit.
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="on")


def default_consent_log() -> str:
    """A SQLite file in the system's temporary folder, kept between runs of the demo."""
    folder = Path(tempfile.gettempdir()) / "asgi-consent-demo"
    folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder / 'consent.db'}"


if __name__ == "__main__":
    main()
