"""Which languages a banner can be shown in. A banner is always in one language.

Every text of the banner must exist in the language it is shown in. A text left unset
exists in every language the package has a translation of (`locales/*.json`); a text
given per language exists in the languages it names and, where it names none, in the
built-in translations; a text given as one plain string is taken to be in the default
language only. So a site that writes `message="We use cookies."` gets its banner in the
default language for every visitor, unless it gives that text per language.

Reads the translation files as data, so `config.py` can check languages when a config is
built without importing the `locales` package (which imports the config).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, NamedTuple

from .errors import ConfigError

_LOCALES = "locales"


def _translations() -> dict[str, Mapping[str, Any]]:
    folder = resources.files(__package__).joinpath(_LOCALES)
    return {
        entry.name.removesuffix(".json"): json.loads(entry.read_text("utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


# Package data, read once at import (a dozen small files): not a cache.
_BUILTIN = _translations()
_TEXT_NAMES = frozenset(key for key, value in _BUILTIN["en"].items() if isinstance(value, str))


def builtin_languages() -> frozenset[str]:
    """The languages the package ships a translation of."""
    return frozenset(_BUILTIN)


def builtin(language: str) -> Mapping[str, Any]:
    """The built-in translation for `language` (a code from `builtin_languages()`)."""
    return _BUILTIN[language]


def builtin_text_names() -> frozenset[str]:
    """The texts every built-in translation has (each translation has the same keys)."""
    return _TEXT_NAMES


def primary(language: str) -> str:
    """The primary subtag: `pt` of `pt-br`."""
    return language.split("-", 1)[0]


def builtin_base(language: str) -> str | None:
    """The built-in translation that fills in for `language`: its own, or its primary
    language's (`pt` for `pt-br`); None if there is neither."""
    available = builtin_languages()
    if language in available:
        return language
    return primary(language) if primary(language) in available else None


class BannerText(NamedTuple):
    """One text of the banner as a config gives it: its name for messages, its value
    (None, one string, or one per language), and whether a built-in translation fills in
    for the languages the value does not name."""

    name: str
    value: str | Mapping[str, str] | None
    builtin: bool


def in_language(text: BannerText, language: str, default_language: str) -> bool:
    """Whether `text` exists in `language`."""
    value = text.value
    if isinstance(value, str):
        return language == default_language
    if value is not None and (language in value or primary(language) in value):
        return True
    return text.builtin and builtin_base(language) is not None


def offered_languages(
    texts: Sequence[BannerText], default_language: str, language: str | None = None
) -> frozenset[str]:
    """Every language in which the whole banner can be shown: built-in ones, those the
    texts name, and the default and forced `language` (a region of a built-in one)."""
    candidates = set(builtin_languages()) | {default_language}
    if language is not None:
        candidates.add(language)
    for text in texts:
        if isinstance(text.value, Mapping):
            candidates.update(text.value)
    return frozenset(
        code
        for code in candidates
        if all(in_language(text, code, default_language) for text in texts)
    )


def check_languages(
    texts: Sequence[BannerText], default_language: str, language: str | None
) -> frozenset[str]:
    """The offered languages; `ConfigError` if the default language, the forced language
    or a language a text names is not one of them, saying which texts it lacks."""
    offered = offered_languages(texts, default_language, language)
    named: list[tuple[str, str]] = [("default_language", default_language)]
    if language is not None:
        named.append(("language", language))
    for text in texts:
        if isinstance(text.value, Mapping):
            named.extend((f"{text.name}[{code!r}]", code) for code in text.value)
    for field, code in named:
        if code not in offered:
            raise ConfigError(field, code, _why_not(texts, code, default_language))
    return offered


def _why_not(texts: Sequence[BannerText], code: str, default_language: str) -> str:
    plain = [t.name for t in texts if isinstance(t.value, str)]
    lacking = [
        t.name
        for t in texts
        if not isinstance(t.value, str) and not in_language(t, code, default_language)
    ]
    reasons = []
    if plain and code != default_language:
        reasons.append(
            f"{', '.join(plain)}: one plain text, in the default language "
            f"{default_language!r}; give it per language to show the banner in {code!r}"
        )
    if lacking:
        given = any(isinstance(t.value, Mapping) and code in t.value for t in texts)
        shown = ", ".join(lacking[:4]) + (f" and {len(lacking) - 4} more" if lacking[4:] else "")
        if builtin_base(code) is not None:
            reasons.append(f"no {code!r} text for {shown}")
        elif given:
            reasons.append(
                f"no built-in translation for {code!r}, and no {code!r} text for {shown}"
            )
        else:
            reasons.append(f"no built-in translation and no text in {code!r}")
    return (
        "a language the whole banner is in: built in ("
        + ", ".join(sorted(builtin_languages()))
        + ") or given for every text; "
        + "; ".join(reasons)
    )
