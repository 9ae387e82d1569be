"""The public API: exactly the names users import, and the files the package ships."""

from __future__ import annotations

from importlib import resources

import pytest

import asgi_consent

PUBLIC_NAMES = ["Category", "ConfigError", "Consent", "ConsentConfig", "ConsentMiddleware"]


def test_all_lists_exactly_the_public_names() -> None:
    assert sorted(asgi_consent.__all__) == PUBLIC_NAMES


def test_the_package_exposes_no_other_public_names() -> None:
    public = {
        name
        for name in vars(asgi_consent)
        if not name.startswith("_")
        and not isinstance(getattr(asgi_consent, name), type(asgi_consent))
    }
    assert public == set(PUBLIC_NAMES)


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_each_public_name_is_importable_from_the_package(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from asgi_consent import {name}", namespace)
    assert isinstance(namespace[name], type)


def test_star_import_gives_exactly_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from asgi_consent import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == PUBLIC_NAMES


def test_config_error_is_a_value_error() -> None:
    assert issubclass(asgi_consent.ConfigError, ValueError)


def test_a_config_error_from_a_bad_option_can_be_caught_as_a_value_error() -> None:
    with pytest.raises(ValueError, match="^expiry_days"):
        asgi_consent.ConsentConfig(secret_key="x" * 32, expiry_days=0)


def test_a_config_error_carries_field_value_and_source() -> None:
    error = asgi_consent.ConfigError("mode", "loud", "one of choice, notice", source="a file")
    assert (error.field, error.value, error.expected, error.source) == (
        "mode",
        "loud",
        "one of choice, notice",
        "a file",
    )
    assert str(error) == "mode (from a file): expected one of choice, notice, got 'loud'"


def test_the_package_has_a_version() -> None:
    assert asgi_consent.__version__ == "0.1.0"


def test_the_package_ships_py_typed() -> None:
    assert resources.files("asgi_consent").joinpath("py.typed").is_file()


@pytest.mark.parametrize("name", ["consent.css", "consent.js", "consent-mode.js"])
def test_the_package_ships_each_static_file(name: str) -> None:
    static = resources.files("asgi_consent").joinpath("static", name)
    assert static.is_file()
    assert static.read_bytes().strip()


@pytest.mark.parametrize(
    "language", ["ar", "da", "de", "en", "es", "fr", "he", "it", "nl", "pl", "pt", "sv"]
)
def test_the_package_ships_each_locale(language: str) -> None:
    assert resources.files("asgi_consent.locales").joinpath(f"{language}.json").is_file()
