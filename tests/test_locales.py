"""Built-in translations, Accept-Language negotiation and the texts of one banner."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

import pytest
from starlette.requests import Request

from asgi_consent import ConfigError, ConsentConfig
from asgi_consent.config import BUILTIN_CATEGORIES, TEXT_OPTIONS
from asgi_consent.locales import (
    TEXT_KEYS,
    available_languages,
    choose_language,
    parse_accept_language,
    texts_for,
)
from helpers import SECRET, body_of, html_app, make_scope, run_asgi, wrap

LOCALES = resources.files("asgi_consent.locales")
LANGUAGES = sorted(
    entry.name.removesuffix(".json") for entry in LOCALES.iterdir() if entry.name.endswith(".json")
)


def _load(language: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(LOCALES.joinpath(f"{language}.json").read_text("utf-8"))
    return loaded


def _key_paths(document: Mapping[str, Any], prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for key, value in document.items():
        paths.add(prefix + key)
        if isinstance(value, Mapping):
            paths |= _key_paths(value, f"{prefix}{key}.")
    return paths


def _strings(document: Mapping[str, Any], prefix: str = "") -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in document.items():
        if isinstance(value, Mapping):
            found.update(_strings(value, f"{prefix}{key}."))
        else:
            found[prefix + key] = value
    return found


def _request(accept_language: str | None = None) -> Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return Request(make_scope(headers=headers))


def _config(**options: Any) -> ConsentConfig:
    return ConsentConfig(secret_key=SECRET, **options)


def _every_text_in(language: str, word: str) -> dict[str, Any]:
    """Options giving every text of the banner in English and in `language`."""
    options: dict[str, Any] = {
        name: {"en": name, language: f"{word} {name}"} for name in TEXT_OPTIONS
    }
    options["categories"] = {
        name: {
            "label": {"en": name, language: f"{word} {name}"},
            "description": {"en": name, language: f"{word} {name}"},
        }
        for name in BUILTIN_CATEGORIES
    }
    return options


def _language_error(**options: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        _config(**options)
    return str(caught.value)


# -- the locale files ----------------------------------------------------------------


def test_the_package_ships_the_twelve_documented_languages() -> None:
    assert LANGUAGES == ["ar", "da", "de", "en", "es", "fr", "he", "it", "nl", "pl", "pt", "sv"]
    assert available_languages() == frozenset(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_locale_has_exactly_the_keys_of_english(language: str) -> None:
    assert _key_paths(_load(language)) == _key_paths(_load("en"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_locale_text_is_a_non_empty_string(language: str) -> None:
    empty = {
        path: value
        for path, value in _strings(_load(language)).items()
        if not isinstance(value, str) or not value.strip()
    }
    assert empty == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_placeholder_text_names_the_provider_and_the_category(language: str) -> None:
    text = _load(language)["placeholder_text"]
    assert "{provider}" in text
    assert "{category}" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_locale_labels_the_four_built_in_categories(language: str) -> None:
    assert list(_load(language)["categories"]) == ["necessary", "analytics", "marketing", "media"]


@pytest.mark.parametrize("language", ["ar", "he"])
def test_arabic_and_hebrew_are_right_to_left(language: str) -> None:
    assert texts_for(_config(), language).direction == "rtl"


@pytest.mark.parametrize("language", ["en", "de", "fr", "pl"])
def test_other_languages_are_left_to_right(language: str) -> None:
    assert texts_for(_config(), language).direction == "ltr"


# -- Accept-Language -----------------------------------------------------------------


def test_accept_language_is_ordered_by_q_value() -> None:
    assert parse_accept_language("de;q=0.5, fr;q=0.9") == ["fr", "de"]


def test_accept_language_without_q_values_keeps_the_header_order() -> None:
    assert parse_accept_language("nl, de-DE, en") == ["nl", "de-de", "en"]


def test_accept_language_with_equal_q_values_keeps_the_header_order() -> None:
    assert parse_accept_language("it;q=0.8, es;q=0.8, en") == ["en", "it", "es"]


def test_accept_language_ignores_languages_with_q_zero() -> None:
    assert parse_accept_language("de;q=0, fr") == ["fr"]


@pytest.mark.parametrize(
    "header", ["de;q=abc, fr", "de;q=2, fr", "de;q=-1, fr", ";q=1, fr", "*, fr", ",,, fr"]
)
def test_accept_language_ignores_garbage(header: str) -> None:
    assert parse_accept_language(header) == ["fr"]


def test_an_empty_accept_language_has_no_languages() -> None:
    assert parse_accept_language("") == []


# -- choosing the banner language -------------------------------------------------------


def test_an_explicit_language_wins_over_everything() -> None:
    config = _config(language="it", language_selector=lambda request: "de")
    assert choose_language(config, _request("fr")) == "it"


def test_the_language_selector_wins_over_accept_language() -> None:
    config = _config(language_selector=lambda request: "de")
    assert choose_language(config, _request("fr")) == "de"


def test_the_language_selector_receives_the_request() -> None:
    seen: list[str | None] = []

    def selector(request: Request) -> str | None:
        seen.append(request.headers.get("accept-language"))
        return None

    choose_language(_config(language_selector=selector), _request("sv"))
    assert seen == ["sv"]


def test_accept_language_is_used_when_the_selector_has_no_answer() -> None:
    config = _config(language_selector=lambda request: None)
    assert choose_language(config, _request("fr")) == "fr"


def test_accept_language_is_used_when_the_selector_names_an_unknown_language() -> None:
    config = _config(language_selector=lambda request: "xx")
    assert choose_language(config, _request("nl")) == "nl"


def test_accept_language_falls_back_to_the_primary_tag() -> None:
    assert choose_language(_config(), _request("pt-BR")) == "pt"


def test_accept_language_skips_unsupported_languages_for_a_supported_one() -> None:
    assert choose_language(_config(), _request("ja, zh;q=0.9, da;q=0.5")) == "da"


def test_the_default_language_is_used_without_accept_language() -> None:
    assert choose_language(_config(default_language="de"), _request()) == "de"


def test_the_default_language_is_used_when_no_accepted_language_is_supported() -> None:
    assert choose_language(_config(default_language="es"), _request("ja, zh")) == "es"


def test_a_language_the_config_gives_every_text_in_can_be_chosen() -> None:
    config = _config(**_every_text_in("ja", "日本語"))
    assert choose_language(config, _request("ja")) == "ja"


def test_a_plain_text_pins_the_banner_to_the_default_language() -> None:
    config = _config(accept_text="Ok, Go it!")
    assert choose_language(config, _request("de, fr;q=0.5")) == "en"


def test_a_plain_text_pins_the_banner_to_a_default_language_other_than_english() -> None:
    config = _config(default_language="de", accept_text="Einverstanden")
    assert choose_language(config, _request("en")) == "de"


def test_a_text_given_per_language_keeps_every_built_in_language_on_offer() -> None:
    config = _config(accept_text={"de": "Ja"})
    assert [choose_language(config, _request(lang)) for lang in ("de", "fr", "en")] == [
        "de",
        "fr",
        "en",
    ]


# -- texts of one banner --------------------------------------------------------------


def test_the_built_in_texts_are_used_for_the_chosen_language() -> None:
    assert texts_for(_config(), "de")["accept_text"] == "Alle akzeptieren"


def test_a_regional_language_uses_the_built_in_texts_of_its_primary_language() -> None:
    assert texts_for(_config(), "pt-br")["reject_text"] == "Rejeitar todos"


def test_an_unknown_language_uses_the_built_in_texts_of_the_default_language() -> None:
    assert texts_for(_config(default_language="fr"), "ja")["title"] == "Nous utilisons des cookies"


def test_a_users_single_text_is_shown_in_the_default_language_only() -> None:
    config = _config(accept_text="OK")
    texts = [texts_for(config, lang) for lang in ("en", "de", "ar")]
    assert [(t.language, t["accept_text"], t["reject_text"]) for t in texts] == [
        ("en", "OK", "Reject all"),
    ] * 3


def test_a_users_per_language_text_is_picked_for_the_language() -> None:
    config = _config(accept_text={"en": "Fine", "de": "Gerne"})
    assert texts_for(config, "de")["accept_text"] == "Gerne"


def test_a_users_per_language_text_is_picked_by_primary_language() -> None:
    config = _config(accept_text={"en": "Fine", "de": "Gerne"})
    assert texts_for(config, "de-at")["accept_text"] == "Gerne"


def test_a_users_per_language_text_falls_back_to_the_built_in_text_of_the_language() -> None:
    config = _config(default_language="de", accept_text={"en": "Fine", "de": "Gerne"})
    assert texts_for(config, "fr")["accept_text"] == "Tout accepter"


def test_a_text_given_only_in_german_is_not_shown_to_english_visitors() -> None:
    config = _config(accept_text={"de": "Ja"})
    assert (texts_for(config, "en")["accept_text"], texts_for(config, "de")["accept_text"]) == (
        "Accept all",
        "Ja",
    )


def test_texts_for_a_language_not_on_offer_are_all_in_the_default_language() -> None:
    texts = texts_for(_config(message="We use cookies."), "de")
    assert (texts.language, texts["message"], texts["accept_text"]) == (
        "en",
        "We use cookies.",
        "Accept all",
    )


def test_a_users_per_language_text_with_a_regional_code_is_matched() -> None:
    config = _config(accept_text={"en": "Fine", "pt-BR": "Beleza"})
    assert texts_for(config, "pt-br")["accept_text"] == "Beleza"


def test_other_texts_stay_built_in_when_the_user_sets_one() -> None:
    config = _config(accept_text={"en": "Fine", "de": "Gerne"})
    assert texts_for(config, "de")["reject_text"] == "Alle ablehnen"


def test_a_custom_category_label_is_picked_for_the_language() -> None:
    config = _config(
        categories={
            "chat": {
                "label": {"en": "Chat", "de": "Plaudern"},
                "description": {"en": "A chat widget.", "de": "Ein Chat."},
            }
        }
    )
    texts = texts_for(config, "de")
    assert (texts.labels["chat"], texts.descriptions["chat"]) == ("Plaudern", "Ein Chat.")


def test_a_custom_category_in_one_plain_language_pins_the_banner_to_the_default() -> None:
    config = _config(categories={"chat": {"label": "Chat", "description": "A chat widget."}})
    assert choose_language(config, _request("de")) == "en"


def test_built_in_category_labels_come_from_the_locale() -> None:
    texts = texts_for(_config(), "fr")
    assert texts.labels["analytics"] == "Mesure d’audience"


# -- the option table ----------------------------------------------------------------


@pytest.mark.parametrize("name", TEXT_OPTIONS)
def test_a_language_one_text_names_but_the_banner_lacks_is_an_error(name: str) -> None:
    message = _language_error(**{name: {"en": "English", "ja": "日本語"}})
    assert message.startswith(f"{name}['ja']: expected a language the whole banner is in")
    assert "no built-in translation for 'ja'" in message


def test_save_text_in_french_alone_makes_french_a_supported_language() -> None:
    config = _config(save_text={"fr-ca": "Enregistrer"})
    assert choose_language(config, _request("fr-CA")) == "fr-ca"


@pytest.mark.parametrize("name", TEXT_OPTIONS)
def test_every_text_option_is_picked_for_the_language(name: str) -> None:
    config = _config(**{name: {"en": "English", "de": "Deutsch"}})
    assert texts_for(config, "de")[name] == "Deutsch"


def test_every_built_in_text_is_an_option() -> None:
    built_in = {key for key, value in _load("en").items() if isinstance(value, str)}
    assert built_in - {"dir"} == set(TEXT_KEYS) == set(TEXT_OPTIONS)


def test_a_right_to_left_language_without_a_translation_is_right_to_left() -> None:
    config = _config(**_every_text_in("fa", "فارسی"))
    assert texts_for(config, "fa").direction == "rtl"


def test_a_language_the_site_translates_fully_takes_no_text_from_another() -> None:
    texts = texts_for(_config(default_language="ar", **_every_text_in("ja", "日本語")), "ja")
    assert (texts.language, texts.direction) == ("ja", "ltr")
    assert all(text.startswith("日本語 ") for text in texts.strings.values())
    assert all(label.startswith("日本語 ") for label in texts.labels.values())


# -- languages that cannot be offered are configuration errors -----------------------


def test_an_unknown_forced_language_is_an_error() -> None:
    assert _language_error(language="xx") == (
        "language: expected a language the whole banner is in: built in ("
        + ", ".join(LANGUAGES)
        + ") or given for every text; no built-in translation and no text in 'xx', got 'xx'"
    )


def test_an_unknown_default_language_is_an_error() -> None:
    assert _language_error(default_language="xx").startswith(
        "default_language: expected a language the whole banner is in"
    )


def test_forcing_a_language_a_plain_text_is_not_in_is_an_error_naming_the_text() -> None:
    assert _language_error(language="de", message="We use cookies.").endswith(
        "message: one plain text, in the default language 'en'; give it per language to "
        "show the banner in 'de', got 'de'"
    )


def test_a_translation_beside_a_plain_text_is_an_error_naming_both() -> None:
    message = _language_error(message="We use cookies.", accept_text={"en": "OK", "de": "Ja"})
    assert message.startswith("accept_text['de']: ")
    assert "message: one plain text" in message


def test_a_language_missing_one_custom_category_text_is_an_error_naming_it() -> None:
    chat = {"label": {"en": "Chat", "de": "Plaudern"}, "description": {"en": "A chat."}}
    assert _language_error(categories={"chat": chat}).endswith(
        "no 'de' text for categories['chat'].description, got 'de'"
    )


@pytest.mark.parametrize("language", ["de", "pt-br", "de-at"])
def test_a_built_in_language_or_a_region_of_one_can_be_forced(language: str) -> None:
    assert _config(language=language).language == language


# -- the banner as a visitor gets it ---------------------------------------------------

NOTICE = {
    "mode": "notice",
    "message": "Bullion Bite uses cookies to enhance your experience.",
    "policy_url": "/cookies",
    "policy_text": "How We Use Cookies?",
    "accept_text": "Ok, Go it!",
    "expiry_days": 20,
}
PAGE = b"<!doctype html><html><head><title>t</title></head><body><p>Hi</p></body></html>"


async def _page(accept_language: str, **options: Any) -> str:
    app = wrap(html_app([PAGE]), **options)
    headers = [(b"accept-language", accept_language.encode())]
    return body_of(await run_asgi(app, make_scope(headers=headers))).decode()


@pytest.mark.anyio
async def test_the_readme_notice_seen_in_german_is_wholly_english() -> None:
    page = await _page("de-DE,de;q=0.9", **NOTICE)
    assert 'lang="en"' in page and 'lang="de"' not in page
    assert "Ok, Go it!" in page and "Bullion Bite uses cookies" in page
    assert not any(word in page for word in ("Wir ", "Datenschutz", "Einstellungen", "akzeptieren"))


@pytest.mark.anyio
async def test_a_german_only_button_text_is_shown_to_german_visitors_alone() -> None:
    german = await _page("de", accept_text={"de": "Ja"})
    english = await _page("en", accept_text={"de": "Ja"})
    assert (">Ja<" in german, ">Ja<" in english, ">Accept all<" in english) == (True, False, True)
