"""The asgi-consent demo: a small news site. Run it with `make demo` (`python -m demo`)."""

from .app import DEV_SECRET_KEY as DEV_SECRET_KEY
from .app import create_app as create_app

__all__ = ["DEV_SECRET_KEY", "create_app"]
