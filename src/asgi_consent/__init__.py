"""asgi-consent: real cookie consent for any ASGI application.

Trackers are neutralised in the HTML before it leaves the server, the visitor's
choice is kept in a signed cookie, and the banner works with and without JavaScript.
"""

from .config import Category as Category
from .config import ConfigError as ConfigError
from .config import ConsentConfig as ConsentConfig
from .cookie import Consent as Consent
from .middleware import ConsentMiddleware as ConsentMiddleware

__all__ = ["Category", "ConfigError", "Consent", "ConsentConfig", "ConsentMiddleware"]
__version__ = "0.1.0"
