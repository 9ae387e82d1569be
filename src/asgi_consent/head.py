"""What goes first in <head>: the run-time guard and the consent signals' defaults.

These scripts must run before any page script and any vendor tag, so the rewriter puts
them at the very top of <head>; every other piece of our markup goes before </body>.
"""

from __future__ import annotations

from html import escape

from .assets import Assets
from .config import ConsentConfig

# Google Consent Mode v2: the signals each of our categories stands for. Written into the
# default command's state and onto our consent.js element, which sends the updates.
CONSENT_MODE_SIGNALS = (
    ("analytics_storage", "analytics"),
    ("ad_storage", "marketing"),
    ("ad_user_data", "marketing"),
    ("ad_personalization", "marketing"),
)


# Microsoft's signals: UET consent mode has one (ad_storage); Clarity's consentv2 two.
UET_SIGNALS = (("ad_storage", "marketing"),)
CLARITY_SIGNALS = (("ad_Storage", "marketing"), ("analytics_Storage", "analytics"))


def pairs(signals: tuple[tuple[str, str], ...]) -> str:
    return " ".join(f"{signal}:{category}" for signal, category in signals)


class HeadScripts:
    """Renders the head insertion for one page (see `scripts`)."""

    def __init__(self, config: ConsentConfig, assets: Assets) -> None:
        self._config = config
        self._assets = assets

    def consent_mode_default(self, granted: frozenset[str], nonce: str | None) -> bytes:
        """Google Consent Mode's default command, first in <head>: each signal granted or
        denied as the visitor chose, so a returning visitor starts with their choice."""
        state = " ".join(
            f"{signal}:{'granted' if category in granted else 'denied'}"
            for signal, category in CONSENT_MODE_SIGNALS
        )
        nonce_attr = f' nonce="{escape(nonce, quote=True)}"' if nonce else ""
        return (
            f'<script src="{self._assets.url("consent-mode.js")}"'
            f' data-consent-state="{state}"{nonce_attr}></script>'
        ).encode()

    def scripts(
        self, granted: frozenset[str], nonce: str | None, guard: bool, *, cached: bool = False
    ) -> bytes:
        """What goes first in <head>, in this order: the run-time guard (before any page
        script), then the consent signals' defaults (before any vendor tag). `cached`: the
        page is the same for everyone (cacheable_html), so the scripts ask consent-cache.js,
        which ran before them, for the choice in the cookie instead of carrying it; it also
        gives Google's default itself."""
        cfg = self._config
        nonce_attr = f' nonce="{escape(nonce, quote=True)}"' if nonce else ""
        state = ' data-cached=""'
        if not cached:
            state = f' data-granted="{escape(" ".join(sorted(granted)), quote=True)}"'
        parts = []
        if guard:  # first: RewritePlan.frame_start takes it from here
            guard_url = self._assets.url("guard.js")
            parts.append(f'<script src="{guard_url}"{state}{nonce_attr}></script>')
        if cfg.consent_mode and not cached:
            parts.append(self.consent_mode_default(granted, nonce).decode())
        if cfg.uet_consent_mode or cfg.clarity_consent:
            uet = f' data-uet="{pairs(UET_SIGNALS)}"' if cfg.uet_consent_mode else ""
            clarity = f' data-clarity="{pairs(CLARITY_SIGNALS)}"' if cfg.clarity_consent else ""
            parts.append(
                f'<script src="{self._assets.url("microsoft-consent.js")}"'
                f"{uet}{clarity}{state}{nonce_attr}></script>"
            )
        return "".join(parts).encode()
