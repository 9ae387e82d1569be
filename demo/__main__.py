"""`python -m demo`: serve the demo site with uvicorn on HOST:PORT (default 127.0.0.1:8000).

Set CONSENT_SECRET_KEY to sign consent cookies with your own key; without it the demo
uses a development key and says so in its log.
"""

from __future__ import annotations

import logging
import os

import uvicorn

from .app import create_app

logger = logging.getLogger("demo")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    host = os.environ.get("HOST") or "127.0.0.1"
    port = int(os.environ.get("PORT") or "8000")
    app = create_app(secret_key=os.environ.get("CONSENT_SECRET_KEY") or None)
    logger.info("demo site on http://%s:%d/ (classic notice on /notice)", host, port)
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="off")


if __name__ == "__main__":
    main()
