"""Built-in translations, language negotiation and the texts of one banner.

Each `<code>.json` beside this file holds every text of the banner in one language. A
banner is always in one language: only languages every text of it exists in are offered
(see `languages.py`), and each text is taken in that language or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ..config import TEXT_OPTIONS, ConsentConfig, Text, banner_texts
from ..languages import builtin as builtin
from ..languages import builtin_base, builtin_languages, offered_languages, primary

#: Every text of a banner; each is an option, so a site can give it in any language.
TEXT_KEYS = TEXT_OPTIONS
# Written right to left; the primary subtag decides, for languages we have no
# translation of too (a site's own Persian texts).
RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "ps", "yi", "dv", "ckb"})


def available_languages() -> frozenset[str]:
    """The languages the package ships a translation of."""
    return builtin_languages()


def parse_accept_language(header: str) -> list[str]:
    """Language tags from an Accept-Language header, best first (q-values honoured)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if 0.0 < quality <= 1.0:
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def best_language(candidates: list[str], supported: frozenset[str]) -> str | None:
    """The first candidate we support, exactly ("pt-br") or by its primary tag ("pt")."""
    for tag in candidates:
        if tag in supported:
            return tag
        primary = tag.split("-", 1)[0]
        if primary in supported:
            return primary
    return None


_MEMO = "_locale_memo"


def _memo(config: ConsentConfig) -> dict[object, Any]:
    """What this config's texts resolve to, per language: kept on the config itself, so
    it goes with it (a config is frozen; its texts never change). Bounded: keys are
    supported languages, which the config validated."""
    found: dict[object, Any] | None = config.__dict__.get(_MEMO)
    if found is None:
        found = {}
        object.__setattr__(config, _MEMO, found)
    return found


def supported_languages(config: ConsentConfig) -> frozenset[str]:
    """Languages the banner can be shown in: those every one of its texts exists in."""
    memo = _memo(config)
    if "supported" not in memo:
        memo["supported"] = offered_languages(
            banner_texts(config), config.default_language, config.language
        )
    result: frozenset[str] = memo["supported"]
    return result


def _pick(value: Text | None, language: str) -> str | None:
    """`value` in `language` (a plain string is in every language it is offered in), or
    None: then the built-in translation has it."""
    if value is None or isinstance(value, str):
        return value
    for code in (language, primary(language)):
        if code in value:
            return value[code]
    return None


@dataclass(frozen=True, slots=True)
class Texts:
    """Every text of one banner, in one language, not yet escaped."""

    language: str
    direction: str
    strings: Mapping[str, str]
    labels: Mapping[str, str]
    descriptions: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        return self.strings[key]


def _texts(config: ConsentConfig, language: str) -> Texts:
    # Only an offered language, so that every text below exists in it; anything else
    # (a caller's own guess) gets the default language, which is always offered.
    language = best_language([language], supported_languages(config)) or config.default_language
    # Where the language has no translation of its own, the config gives every text.
    base = builtin(builtin_base(language) or "en")
    strings: dict[str, str] = {}
    for key in TEXT_KEYS:
        own = _pick(getattr(config, key), language)
        strings[key] = own if own is not None else base[key]
    labels: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for category in config.categories_list:
        builtin_cat = base["categories"].get(category.name, {})
        labels[category.name] = _pick(category.label, language) or builtin_cat.get(
            "label", category.name
        )
        descriptions[category.name] = _pick(category.description, language) or builtin_cat.get(
            "description", ""
        )
    return Texts(language, _direction(language, base), strings, labels, descriptions)


def _direction(language: str, base: Mapping[str, Any]) -> str:
    """Right to left for a right-to-left language, whichever translation fills in."""
    if language.split("-", 1)[0] in RTL_LANGUAGES:
        return "rtl"
    direction: str = base.get("dir", "ltr")
    return direction


def texts_for(config: ConsentConfig, language: str) -> Texts:
    """The banner's texts in `language`: the config's own texts first, then built-ins."""
    memo = _memo(config)
    key = ("texts", language)
    if key not in memo:
        memo[key] = _texts(config, language)
    result: Texts = memo[key]
    return result


def choose_language(config: ConsentConfig, request: Request) -> str:
    """The banner language: `language`, else `language_selector(request)`, else
    Accept-Language (q-values honoured), else `default_language`."""
    if config.language:
        return config.language
    supported = supported_languages(config)
    if config.language_selector is not None:
        chosen = config.language_selector(request)
        if chosen:
            found = best_language([chosen.lower()], supported)
            if found:
                return found
    header = request.headers.get("accept-language")
    if header:
        found = best_language(parse_accept_language(header), supported)
        if found:
            return found
    return config.default_language
