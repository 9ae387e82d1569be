"""The markup we put into pages: the banner, the settings control, embed placeholders.

Every text is HTML-escaped here and nowhere else. Markup that does not depend on the
request is rendered once per language and kept; only `next` is filled in per request.
"""

from __future__ import annotations

import re

from .assets import Assets
from .config import NECESSARY, ConsentConfig
from .head import CONSENT_MODE_SIGNALS, HeadScripts, pairs
from .locales import Texts, texts_for
from .memo import Memo
from .slots import ID as _ID
from .slots import NEXT as _NEXT
from .slots import NEXT_QUERY as _NEXT_QUERY
from .slots import fill as _fill
from .slots import html_escaped as _e
from .slots import json_pieces as _json_pieces
from .slots import json_text as _json_text
from .slots import slot_values as _slot_values

_SIZE = "\x00size\x00"  # slot for a placeholder's size keeper
# An HTML dimension value as browsers read it: digits, a fraction, a "%"; the rest ignored.
_DIMENSION = re.compile(r"[\t\n\f\r ]*([0-9]{1,5})(?:\.[0-9]*)?(%?)")
_SVG = "http://www.w3.org/2000/svg"
_CLOSE_ICON = (
    f'<svg xmlns="{_SVG}" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"'
    ' focusable="false"><path d="M6 6l12 12M18 6L6 18" stroke="currentColor"'
    ' stroke-width="2" stroke-linecap="round" fill="none"/></svg>'
)


def size_keeper(size: tuple[str, str] | None) -> tuple[str, str]:
    """A placeholder's modifier classes and the empty SVG that gives it the iframe's size
    and, once the page is narrower, its aspect ratio. An SVG and not a style attribute:
    a strict Content-Security-Policy blocks style attributes. ("", "") when unsized."""
    if size is None:
        return "", ""
    width, height = (_DIMENSION.match(value) for value in size)
    if width is None or height is None or height.group(2):
        return "", ""  # a height in % follows the container's height: not a size we know
    if width.group(2) and width.group(1) != "100":
        return "", ""  # a part of the container's width: the default box is as close
    w, h = width.group(1), height.group(1)
    view_box = ""
    modifier = " asgi-consent-placeholder--sized"
    if width.group(2):
        w += "%"
        modifier += " asgi-consent-placeholder--fluid"
    else:
        view_box = f' viewBox="0 0 {w} {h}"'
    svg = (
        f'<svg xmlns="{_SVG}" class="asgi-consent-placeholder__size" width="{w}" height="{h}"'
        f'{view_box} aria-hidden="true" focusable="false"></svg>'
    )
    return modifier, svg


class BannerRenderer:
    """Renders our markup for one config. The markup that does not depend on the request
    is rendered once per language (and choice state) and kept."""

    def __init__(self, config: ConsentConfig, assets: Assets) -> None:
        self._config = config
        self._assets = assets
        self._prefix = config.endpoint_prefix
        # Keys are languages, choices and catalogue names: bounded by the config.
        self._banners: Memo[tuple[str, bool, frozenset[str]], str] = Memo(size=256)
        self._settings: Memo[tuple[str, frozenset[str]], str] = Memo(size=1024)
        self._settings_json: Memo[tuple[str, frozenset[str]], list[str]] = Memo(size=1024)
        self._placeholders: Memo[tuple[str, str, str], str] = Memo(size=1024)
        self.head = HeadScripts(config, assets)
        mode = ""
        if config.consent_mode:
            mode = f' data-consent-mode="{pairs(CONSENT_MODE_SIGNALS)}"'
        self._mode_attribute = mode
        # color_scheme: light is the stylesheet's default; the others are a class on our roots.
        scheme = config.color_scheme
        self._scheme = "" if scheme == "light" else f" asgi-consent-scheme-{scheme}"

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

    def banner(
        self,
        language: str,
        *,
        next_path: str,
        gpc: bool,
        nonce: str | None,
        granted: frozenset[str] = frozenset(),
    ) -> bytes:
        """The banner for a visitor who has not chosen yet; `granted` holds what an embed
        placeholder granted meanwhile (the switches show it, the script wakes it)."""
        granted = granted - {NECESSARY}
        template = self._banners.get((language, gpc, granted), self._render_banner)
        state = granted | {NECESSARY} if granted else None
        return (_fill(template, next_path, None) + self._scripts(nonce, state)).encode()

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

    def settings_fragment_json(
        self,
        language: str,
        granted: frozenset[str],
        next_path: str,
        consent_id: str | None = None,
    ) -> str:
        """`settings_fragment(...)` as a JSON string, quotes included, the same text
        `json.dumps(..., ensure_ascii=False)` gives: the endpoint answers every choice
        with it, and escaping its 4 KB cost more than rendering it."""
        pieces = self._settings_json.get(
            (language, granted), lambda key: _json_pieces(self._render_settings(key))
        )
        values = _slot_values(next_path, consent_id)
        text = "".join(
            _json_text(values[piece]) if index % 2 else piece for index, piece in enumerate(pieces)
        )
        return f'"{text}"'

    def preferences_page(
        self,
        language: str,
        granted: frozenset[str],
        next_path: str,
        consent_id: str | None = None,
    ) -> bytes:
        """A standalone preferences page: the no-JavaScript target of "Cookie settings"
        links, with a way back to `next_path`. Once the cookie holds anything it shows the
        visitor's consent id (to quote in a request to the site) and offers to withdraw."""
        texts = self.texts(language)
        recorded = consent_id is not None
        form = self._form(texts, granted, heading="h1", withdraw=recorded, page=True)
        back = f'<p class="asgi-consent__back"><a href="{_NEXT}">{_e(texts["back_text"])}</a></p>'
        body = _fill(
            f'<main id="asgi-consent" class="asgi-consent asgi-consent--page{self._scheme}"'
            f' aria-labelledby="asgi-consent-title">{form}{_ID}{back}</main>',
            next_path,
            consent_id,
        )
        return (
            f'<!doctype html><html lang="{_e(texts.language)}" dir="{texts.direction}"'
            f' class="asgi-consent-root{self._scheme}">'
            f'<head><meta charset="utf-8"/><meta name="viewport" content="width=device-width"/>'
            f"<title>{_e(texts['preferences_title'])}</title>"
            f'<link rel="stylesheet" href="{self._assets.url("consent.css")}"/></head>'
            f"<body>{body}</body></html>"
        ).encode()

    def placeholder(
        self,
        language: str,
        category: str,
        provider: str,
        next_path: str,
        size: tuple[str, str] | None = None,
    ) -> bytes:
        """The click-to-load box shown where a blocked iframe would be, as large as the
        iframe's width and height attributes say (see `size_keeper`)."""
        key = (language, category, provider)
        template = self._placeholders.get(key, self._render_placeholder)
        modifier, svg = size_keeper(size)
        box = template.replace(_NEXT, _e(next_path)).replace(_SIZE, svg)
        if modifier:
            box = box.replace("asgi-consent-placeholder", "asgi-consent-placeholder" + modifier, 1)
        return box.encode()

    # -- templates (cached) -----------------------------------------------------

    def _render_placeholder(self, key: tuple[str, str, str]) -> str:
        language, category, provider = key
        texts = self.texts(language)
        label = texts.labels.get(category, category)
        message = texts["placeholder_text"].replace("{provider}", provider or "another site")
        message = message.replace("{category}", label)
        return (
            f'<div class="asgi-consent-placeholder{self._scheme}"'
            f' data-consent-placeholder="{_e(category)}"'
            f' lang="{_e(texts.language)}" dir="{texts.direction}">{_SIZE}'
            f'<div class="asgi-consent-placeholder__body"><p>{_e(message)}</p>'
            f'<form method="post" action="{self._prefix}/choice" data-consent-form="">'
            f'<input type="hidden" name="choice" value="grant"/>'
            f'<input type="hidden" name="category" value="{_e(category)}"/>'
            f'<input type="hidden" name="next" value="{_NEXT}"/>'
            f'<button type="submit">{_e(texts["placeholder_button"])}</button>'
            f"</form></div></div>"
        )

    def _render_banner(self, key: tuple[str, bool, frozenset[str]]) -> str:
        language, gpc, granted = key
        cfg = self._config
        texts = self.texts(language)
        modal = cfg.position == "modal"
        role = 'role="dialog" aria-modal="true"' if modal else 'role="region"'
        notice = cfg.mode == "notice"
        policy = self._policy(texts)
        parts = [
            f'<form class="asgi-consent__form" method="post" action="{self._prefix}/choice"'
            f' data-consent-form="">',
            f'<input type="hidden" name="next" value="{_NEXT}"/>',
            '<div class="asgi-consent__text">',
            f'<h2 id="asgi-consent-title" class="asgi-consent__title">{_e(texts["title"])}</h2>',
            f'<p id="asgi-consent-message" class="asgi-consent__message">'
            f"{_e(texts['message'])}{policy}</p>",
        ]
        if gpc and cfg.honor_gpc:
            parts.append(f'<p class="asgi-consent__gpc">{_e(texts["gpc_notice"])}</p>')
        parts.append('</div><div class="asgi-consent__actions">')
        parts.append(self._choices(texts, notice))
        if not notice:
            parts.append(self._open_link("asgi-consent__secondary", texts["preferences_text"]))
        parts.append("</div></form>")
        if not notice:
            parts.append(self._dialog(texts, granted, gpc=gpc and cfg.honor_gpc))
        return (
            f'<div id="asgi-consent" class="asgi-consent asgi-consent--{cfg.position}'
            f'{self._scheme}" {role}'
            f' aria-labelledby="asgi-consent-title" aria-describedby="asgi-consent-message"'
            f' lang="{_e(texts.language)}" dir="{texts.direction}"'
            f' data-consent-banner="" data-granted="">{"".join(parts)}</div>'
        )

    def _render_settings(self, key: tuple[str, frozenset[str]]) -> str:
        language, granted = key
        texts = self.texts(language)
        return (
            f'<div id="asgi-consent-settings" class="asgi-consent-settings{self._scheme}"'
            f' lang="{_e(texts.language)}" dir="{texts.direction}"'
            f' data-granted="{_e(" ".join(sorted(granted)))}">'
            f"{self._open_link('asgi-consent-settings__open', texts['settings_text'])}"
            f"{self._dialog(texts, granted, withdraw=True)}</div>"
        )

    def _open_link(self, css_class: str, text: str) -> str:
        """A link to the preferences page; with JavaScript it opens the dialog instead."""
        return (
            f'<a class="{css_class}" href="{self._prefix}/preferences?next={_NEXT_QUERY}"'
            f' data-consent-open="" aria-haspopup="dialog">{_e(text)}</a>'
        )

    def _policy(self, texts: Texts) -> str:
        if not self._config.policy_url:
            return ""
        return (
            f' <a class="asgi-consent__policy" href="{_e(self._config.policy_url)}">'
            f"{_e(texts['policy_text'])}</a>"
        )

    def _choices(self, texts: Texts, notice: bool = False) -> str:
        # Reject first in the DOM, same element, same class, same size as accept.
        buttons = [] if notice else [self._button("reject", texts["reject_text"])]
        buttons.append(self._button("accept", texts["accept_text"]))
        return f'<div class="asgi-consent__buttons">{"".join(buttons)}</div>'

    def _dialog(
        self, texts: Texts, granted: frozenset[str], *, gpc: bool = False, withdraw: bool = False
    ) -> str:
        """The preferences as a modal dialog that consent.js opens (`showModal`). Closed,
        it is never shown: without JavaScript the links lead to the preferences page."""
        form = self._form(texts, granted, heading="h2", withdraw=withdraw, gpc=gpc)
        return (
            f'<dialog id="asgi-consent-preferences" class="asgi-consent__dialog"'
            f' aria-labelledby="asgi-consent-preferences-title">{form}</dialog>'
        )

    def _form(
        self,
        texts: Texts,
        granted: frozenset[str],
        *,
        heading: str,
        withdraw: bool,
        page: bool = False,
        gpc: bool = False,
    ) -> str:
        """The switches with reject, accept and save: in the dialog, or the page's body."""
        title_id = "asgi-consent-title" if page else "asgi-consent-preferences-title"
        close = ""
        if not page:
            close = (
                f'<button type="button" class="asgi-consent__close" data-consent-close=""'
                f' aria-label="{_e(texts["close_text"])}">{_CLOSE_ICON}</button>'
            )
        intro = ""
        if page:
            message = _e(texts["message"]) + self._policy(texts)
            intro = f'<p class="asgi-consent__message">{message}</p>'
        if gpc:
            intro += f'<p class="asgi-consent__gpc">{_e(texts["gpc_notice"])}</p>'
        withdraw_button = ""
        if withdraw:
            withdraw_button = (
                f'<button type="submit" name="choice" value="withdraw"'
                f' class="asgi-consent__link" formaction="{self._prefix}/withdraw"'
                f' data-choice="withdraw">{_e(texts["withdraw_text"])}</button>'
            )
        return (
            f'<form class="asgi-consent__form asgi-consent__panel" method="post"'
            f' action="{self._prefix}/choice" data-consent-form="">'
            f'<input type="hidden" name="next" value="{_NEXT}"/>'
            f'<div class="asgi-consent__head"><{heading} id="{title_id}"'
            f' class="asgi-consent__title">{_e(texts["preferences_title"])}</{heading}>'
            f"{close}</div>"
            f'<div class="asgi-consent__body">{intro}'
            f'<fieldset class="asgi-consent__switches" aria-labelledby="{title_id}">'
            f"{self._switches(texts, granted, 'p' if page else 'd')}</fieldset>"
            f"{'' if page else _ID}</div>"
            f'<div class="asgi-consent__foot">{self._choices(texts)}'
            f'<button type="submit" name="choice" value="save" class="asgi-consent__secondary"'
            f' data-choice="save">{_e(texts["save_text"])}</button>{withdraw_button}</div>'
            f"</form>"
        )

    @staticmethod
    def _button(choice: str, text: str) -> str:
        return (
            f'<button type="submit" name="choice" value="{choice}"'
            f' class="asgi-consent__button" data-choice="{choice}">{_e(text)}</button>'
        )

    def _switches(self, texts: Texts, granted: frozenset[str], where: str) -> str:
        rows = []
        for category in self._config.categories_list:
            name = category.name
            input_id = f"asgi-consent-{where}-{name}"
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
            # A real checkbox (no JavaScript needed, read by every screen reader) drawn
            # as a switch, and announced as one.
            rows.append(
                f'<div class="asgi-consent__category">'
                f'<label for="{input_id}">{_e(texts.labels[name])}{always}</label>'
                f'<input type="checkbox" role="switch" class="asgi-consent__switch"'
                f' id="{input_id}" name="category" value="{_e(name)}"'
                f' aria-describedby="{desc_id}"{state}/>'
                f'<p id="{desc_id}" class="asgi-consent__description">'
                f"{_e(texts.descriptions[name])}</p></div>"
            )
        return "".join(rows)
