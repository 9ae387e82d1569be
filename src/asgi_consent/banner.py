"""The markup we put into pages: the banner, the settings control, embed placeholders.

Every text is HTML-escaped here and nowhere else. Markup that does not depend on the
request is rendered once per language and kept; only `next` is filled in per request.
"""

from __future__ import annotations

from html import escape

from .assets import Assets
from .config import NECESSARY, ConsentConfig
from .locales import Texts, texts_for
from .memo import Memo

_NEXT = "\x00next\x00"  # slot for the per-request `next` path; never in escaped text
_ID = "\x00id\x00"  # slot for the visitor's consent id, after a choice

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


def _pairs(signals: tuple[tuple[str, str], ...]) -> str:
    return " ".join(f"{signal}:{category}" for signal, category in signals)


def _e(text: str) -> str:
    return escape(text, quote=True)


def _fill(template: str, next_path: str, consent_id: str | None) -> str:
    """`template` with the request's `next` path and consent id (if any) in their slots."""
    shown = ""
    if consent_id:
        shown = f'<p class="asgi-consent__id">ID: <code>{_e(consent_id)}</code></p>'
    return template.replace(_NEXT, _e(next_path)).replace(_ID, shown)


class BannerRenderer:
    """Renders our markup for one config. The markup that does not depend on the request
    is rendered once per language (and choice state) and kept."""

    def __init__(self, config: ConsentConfig, assets: Assets) -> None:
        self._config = config
        self._assets = assets
        self._prefix = config.endpoint_prefix
        # Keys are languages, choices and catalogue names: bounded by the config.
        self._banners: Memo[tuple[str, bool], str] = Memo(size=256)
        self._settings: Memo[tuple[str, frozenset[str]], str] = Memo(size=1024)
        self._placeholders: Memo[tuple[str, str, str], str] = Memo(size=1024)
        mode = ""
        if config.consent_mode:
            signals = " ".join(f"{signal}:{category}" for signal, category in CONSENT_MODE_SIGNALS)
            mode = f' data-consent-mode="{signals}"'
        self._mode_attribute = mode

    def texts(self, language: str) -> Texts:
        return texts_for(self._config, language)

    def _scripts(self, nonce: str | None, granted: frozenset[str] | None) -> str:
        nonce_attr = f' nonce="{_e(nonce)}"' if nonce else ""
        state = f' data-granted="{_e(" ".join(sorted(granted)))}"' if granted else ""
        return (
            f'<link rel="stylesheet" href="{self._assets.url("consent.css")}"{nonce_attr}/>'
            f'<script src="{self._assets.url("consent.js")}" defer="defer"'
            f"{self._mode_attribute}{state}{nonce_attr}></script>"
        )

    def banner(self, language: str, *, next_path: str, gpc: bool, nonce: str | None) -> bytes:
        """The banner for a visitor who has not chosen yet."""
        template = self._banners.get((language, gpc), self._render_banner)
        return (template.replace(_NEXT, _e(next_path)) + self._scripts(nonce, None)).encode()

    def settings(
        self,
        language: str,
        granted: frozenset[str],
        *,
        next_path: str,
        nonce: str | None,
        control: bool = True,
        consent_id: str | None = None,
    ) -> bytes:
        """After a choice: the small "Cookie settings" control (unless `control` is off)
        and the script, which also wakes up inert markup of the granted categories."""
        scripts = self._scripts(nonce, granted)
        if not control:
            return scripts.encode()
        return (self.settings_fragment(language, granted, next_path, consent_id) + scripts).encode()

    def settings_fragment(
        self,
        language: str,
        granted: frozenset[str],
        next_path: str,
        consent_id: str | None = None,
    ) -> str:
        """The settings control alone, for the script to insert after a choice."""
        template = self._settings.get((language, granted), self._render_settings)
        return _fill(template, next_path, consent_id)

    def preferences_page(
        self,
        language: str,
        granted: frozenset[str],
        next_path: str,
        consent_id: str | None = None,
    ) -> bytes:
        """A standalone preferences page: the no-JavaScript target of "Cookie settings" links.
        After a choice it shows the visitor's consent id, to quote in a request to the site."""
        texts = self.texts(language)
        form = self._form(texts, granted, in_banner=False, heading="h1")
        body = _fill(
            f'<main id="asgi-consent" class="asgi-consent asgi-consent--page" '
            f'aria-labelledby="asgi-consent-title">{form}</main>',
            next_path,
            consent_id,
        )
        return (
            f'<!doctype html><html lang="{_e(texts.language)}" dir="{texts.direction}">'
            f'<head><meta charset="utf-8"/><meta name="viewport" content="width=device-width"/>'
            f"<title>{_e(texts['preferences_title'])}</title>"
            f'<link rel="stylesheet" href="{self._assets.url("consent.css")}"/></head>'
            f"<body>{body}</body></html>"
        ).encode()

    def placeholder(self, language: str, category: str, provider: str, next_path: str) -> bytes:
        """The click-to-load box shown where a blocked iframe would be."""
        key = (language, category, provider)
        template = self._placeholders.get(key, self._render_placeholder)
        return template.replace(_NEXT, _e(next_path)).encode()

    def consent_mode_default(self, granted: frozenset[str], nonce: str | None) -> bytes:
        """Google Consent Mode's default command, first in <head>: each signal granted or
        denied as the visitor chose, so a returning visitor starts with their choice."""
        state = " ".join(
            f"{signal}:{'granted' if category in granted else 'denied'}"
            for signal, category in CONSENT_MODE_SIGNALS
        )
        nonce_attr = f' nonce="{_e(nonce)}"' if nonce else ""
        return (
            f'<script src="{self._assets.url("consent-mode.js")}"'
            f' data-consent-state="{state}"{nonce_attr}></script>'
        ).encode()

    def head_scripts(self, granted: frozenset[str], nonce: str | None, guard: bool) -> bytes:
        """What goes first in <head>, in this order: the run-time guard (before any page
        script), then the consent signals' defaults (before any vendor tag)."""
        cfg = self._config
        nonce_attr = f' nonce="{_e(nonce)}"' if nonce else ""
        state = f' data-granted="{_e(" ".join(sorted(granted)))}"'
        parts = []
        if guard:
            guard_url = self._assets.url("guard.js")
            parts.append(f'<script src="{guard_url}"{state}{nonce_attr}></script>')
        if cfg.consent_mode:
            parts.append(self.consent_mode_default(granted, nonce).decode())
        if cfg.uet_consent_mode or cfg.clarity_consent:
            uet = f' data-uet="{_pairs(UET_SIGNALS)}"' if cfg.uet_consent_mode else ""
            clarity = f' data-clarity="{_pairs(CLARITY_SIGNALS)}"' if cfg.clarity_consent else ""
            parts.append(
                f'<script src="{self._assets.url("microsoft-consent.js")}"'
                f"{uet}{clarity}{state}{nonce_attr}></script>"
            )
        return "".join(parts).encode()

    def _render_placeholder(self, key: tuple[str, str, str]) -> str:
        language, category, provider = key
        texts = self.texts(language)
        label = texts.labels.get(category, category)
        message = texts["placeholder_text"].replace("{provider}", provider or "another site")
        message = message.replace("{category}", label)
        return (
            f'<div class="asgi-consent-placeholder" data-consent-placeholder="{_e(category)}"'
            f' lang="{_e(texts.language)}" dir="{texts.direction}">'
            f"<p>{_e(message)}</p>"
            f'<form method="post" action="{self._prefix}/choice" data-consent-form="">'
            f'<input type="hidden" name="choice" value="grant"/>'
            f'<input type="hidden" name="category" value="{_e(category)}"/>'
            f'<input type="hidden" name="next" value="{_NEXT}"/>'
            f'<button type="submit">{_e(texts["placeholder_button"])}</button>'
            f"</form></div>"
        )

    # -- templates (cached) -----------------------------------------------------

    def _render_banner(self, key: tuple[str, bool]) -> str:
        language, gpc = key
        cfg = self._config
        texts = self.texts(language)
        modal = cfg.position == "modal"
        role = 'role="dialog" aria-modal="true"' if modal else 'role="region"'
        notice = cfg.mode == "notice"
        form = self._form(texts, frozenset(), in_banner=True, gpc=gpc, notice=notice)
        return (
            f'<div id="asgi-consent" class="asgi-consent asgi-consent--{cfg.position}" {role}'
            f' aria-labelledby="asgi-consent-title" aria-describedby="asgi-consent-message"'
            f' lang="{_e(texts.language)}" dir="{texts.direction}"'
            f' data-consent-banner="" data-granted="">{form}</div>'
        )

    def _render_settings(self, key: tuple[str, frozenset[str]]) -> str:
        language, granted = key
        texts = self.texts(language)
        form = self._form(texts, granted, in_banner=False)
        return (
            f'<div id="asgi-consent-settings" class="asgi-consent-settings"'
            f' lang="{_e(texts.language)}" dir="{texts.direction}"'
            f' data-granted="{_e(" ".join(sorted(granted)))}">'
            f"<details><summary>{_e(texts['settings_text'])}</summary>"
            f'<div class="asgi-consent asgi-consent--settings" role="region"'
            f' aria-labelledby="asgi-consent-title">{form}</div></details></div>'
        )

    def _form(
        self,
        texts: Texts,
        granted: frozenset[str],
        *,
        in_banner: bool,
        gpc: bool = False,
        notice: bool = False,
        heading: str = "h2",
    ) -> str:
        cfg = self._config
        policy = ""
        if cfg.policy_url:
            policy = (
                f' <a class="asgi-consent__policy" href="{_e(cfg.policy_url)}">'
                f"{_e(texts['policy_text'])}</a>"
            )
        title_tag = heading
        title = texts["title"] if in_banner else texts["preferences_title"]
        parts = [
            f'<form class="asgi-consent__form" method="post" action="{self._prefix}/choice"'
            f' data-consent-form="">',
            f'<input type="hidden" name="next" value="{_NEXT}"/>',
            f'<{title_tag} id="asgi-consent-title" class="asgi-consent__title">'
            f"{_e(title)}</{title_tag}>",
            f'<p id="asgi-consent-message" class="asgi-consent__message">'
            f"{_e(texts['message'])}{policy}</p>",
        ]
        if gpc and cfg.honor_gpc:
            parts.append(f'<p class="asgi-consent__gpc">{_e(texts["gpc_notice"])}</p>')
        # Reject first in the DOM, same element, same class, same size as accept.
        buttons = []
        if not notice:
            buttons.append(self._button("reject", texts["reject_text"]))
        buttons.append(self._button("accept", texts["accept_text"]))
        parts.append(f'<div class="asgi-consent__buttons">{"".join(buttons)}</div>')
        if not notice:
            parts.append(self._preferences(texts, granted, in_banner))
        parts.append("</form>")
        return "".join(parts)

    @staticmethod
    def _button(choice: str, text: str) -> str:
        return (
            f'<button type="submit" name="choice" value="{choice}"'
            f' class="asgi-consent__button" data-choice="{choice}">{_e(text)}</button>'
        )

    def _preferences(self, texts: Texts, granted: frozenset[str], in_banner: bool) -> str:
        rows = []
        for category in self._config.categories_list:
            name = category.name
            input_id = f"asgi-consent-{'b' if in_banner else 's'}-{name}"
            desc_id = input_id + "-desc"
            locked = name == NECESSARY
            state = (
                ' checked="checked" disabled="disabled"'
                if locked
                else (' checked="checked"' if name in granted else "")
            )
            always = (
                f' <span class="asgi-consent__always">({_e(texts["always_on_text"])})</span>'
                if locked
                else ""
            )
            rows.append(
                f'<div class="asgi-consent__category">'
                f'<input type="checkbox" id="{input_id}" name="category" value="{_e(name)}"'
                f' aria-describedby="{desc_id}"{state}/>'
                f'<label for="{input_id}">{_e(texts.labels[name])}{always}</label>'
                f'<p id="{desc_id}" class="asgi-consent__description">'
                f"{_e(texts.descriptions[name])}</p></div>"
            )
        withdraw = ""
        if not in_banner:
            withdraw = (
                f'<button type="submit" name="choice" value="withdraw"'
                f' class="asgi-consent__link" formaction="{self._prefix}/withdraw"'
                f' data-choice="withdraw">{_e(texts["withdraw_text"])}</button>'
            )
        summary = texts["preferences_text"]
        # Outside the banner (settings control, preferences page) the choices show at once.
        open_attr = "" if in_banner else ' open="open"'
        return (
            f'<details class="asgi-consent__preferences"{open_attr}>'
            f"<summary>{_e(summary)}</summary>"
            f"<fieldset><legend>{_e(texts['preferences_title'])}</legend>{''.join(rows)}"
            f"</fieldset>"
            f'<div class="asgi-consent__buttons">'
            f"{self._button('save', texts['save_text'])}{withdraw}</div>"
            f"{'' if in_banner else _ID}</details>"
        )
