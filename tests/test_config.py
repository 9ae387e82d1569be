"""ConsentConfig validation: every bad value is a ConfigError naming the field and value."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pytest

import asgi_consent
from asgi_consent import Category, ConfigError, ConsentConfig, ConsentMiddleware
from asgi_consent.config import OPTIONS, TEXT_OPTIONS
from asgi_consent.kinds import whole_number
from asgi_consent.options import option
from helpers import SECRET


async def _app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never run
    raise AssertionError("not called")


def _error(**options: Any) -> str:
    options.setdefault("secret_key", SECRET)
    with pytest.raises(ConfigError) as caught:
        ConsentConfig(**options)
    return str(caught.value)


# -- secret key ---------------------------------------------------------------


UNSET_SECRET = (
    "secret_key is not set: expected a secret of at least 16 characters that signs the "
    "consent cookie (make one: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
)


@pytest.mark.parametrize("secret_key", ["", "   ", []])
def test_an_empty_secret_key_says_it_is_not_set_and_how_to_make_one(secret_key: object) -> None:
    assert _error(secret_key=secret_key) == UNSET_SECRET


def test_a_short_secret_key_is_an_error_that_does_not_show_the_secret() -> None:
    message = _error(secret_key="hunter2-fifteen")
    assert message.startswith("secret_key: expected a secret of at least 16 characters")
    assert "hunter2-fifteen" not in message
    assert "<hidden>" in message
    assert "secrets.token_urlsafe(32)" in message


def test_a_missing_secret_key_says_it_is_not_set() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentConfig()
    assert (str(caught.value), caught.value.unset) == (UNSET_SECRET, True)


def test_one_short_key_in_a_rotation_list_is_an_error_that_does_not_show_it() -> None:
    message = _error(secret_key=[SECRET, "old-short-key"])
    assert message.startswith("secret_key:")
    assert "old-short-key" not in message


def test_the_config_error_for_a_secret_carries_a_masked_value() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentConfig(secret_key="tiny-secret")
    assert caught.value.field == "secret_key"
    assert caught.value.value == "<hidden>"


def test_the_repr_of_a_config_never_shows_the_secret_key() -> None:
    config = ConsentConfig(secret_key=[SECRET, "an-older-secret-key-abcdef"])
    text = repr(config)
    assert SECRET not in text
    assert "an-older-secret-key-abcdef" not in text
    assert "secret_key=<2 hidden>" in text


def test_the_first_secret_key_of_a_list_is_the_newest() -> None:
    config = ConsentConfig(secret_key=["new-secret-key-0123456789", "old-secret-key-0123456789"])
    assert config.secret_keys == ("new-secret-key-0123456789", "old-secret-key-0123456789")


# -- expiry_days ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (-1, "-1"), ("20", "'20'"), (1.5, "1.5"), (True, "True")],
)
def test_expiry_days_that_is_not_a_positive_whole_number_is_an_error(
    value: object, shown: str
) -> None:
    assert _error(expiry_days=value) == (
        f"expiry_days: expected a whole number from 1 to 3650, got {shown}"
    )


def test_expiry_days_sets_the_cookie_lifetime_in_seconds() -> None:
    assert ConsentConfig(secret_key=SECRET, expiry_days=20).max_age == 1_728_000


# -- policy_url -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:x",
        " javascript:x",
        "java\tscript:x",
        "data:text/html,<script>alert(1)</script>",
        "//evil.com",
        "vbscript:msgbox(1)",
        "https://",
        "/\\evil.com",
    ],
)
def test_a_policy_url_that_could_run_script_or_leave_the_site_is_an_error(url: str) -> None:
    assert _error(policy_url=url) == (
        f"policy_url: expected a relative path or an http(s) URL, got {url!r}"
    )


@pytest.mark.parametrize("url", ["/privacy", "privacy.html", "https://example.com/p"])
def test_a_relative_path_or_an_http_url_is_a_valid_policy_url(url: str) -> None:
    assert ConsentConfig(secret_key=SECRET, policy_url=url).policy_url == url


# -- texts ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_text_is_an_error_naming_the_text(text: str) -> None:
    assert _error(accept_text=text) == f"accept_text: expected a non-empty text, got {text!r}"


def test_an_empty_text_for_one_language_names_the_language() -> None:
    assert _error(title={"en": "Cookies", "de": ""}) == (
        "title['de']: expected a non-empty text, got ''"
    )


def test_a_text_mapping_keyed_by_something_other_than_a_language_code_is_an_error() -> None:
    assert _error(title={"english": "Cookies"}).startswith(
        "title: expected language codes such as 'en' or 'pt-br' as keys, got 'english'"
    )


def test_an_empty_text_mapping_is_an_error() -> None:
    assert _error(message={}).startswith("message: expected a non-empty text or a mapping")


def test_a_per_language_text_keeps_every_language_with_lower_case_codes() -> None:
    config = ConsentConfig(secret_key=SECRET, accept_text={"en": "Accept", "pt-BR": "Aceitar"})
    assert dict(config.accept_text) == {"en": "Accept", "pt-br": "Aceitar"}  # type: ignore[arg-type]


def test_a_per_language_text_is_copied_so_later_changes_to_the_dict_do_not_leak_in() -> None:
    texts = {"en": "Accept"}
    config = ConsentConfig(secret_key=SECRET, accept_text=texts)
    texts["en"] = "Changed"
    assert config.accept_text["en"] == "Accept"  # type: ignore[index]


def test_a_per_language_text_cannot_be_changed_through_the_config() -> None:
    config = ConsentConfig(secret_key=SECRET, accept_text={"en": "Accept"})
    with pytest.raises(TypeError):
        config.accept_text["en"] = "Other"  # type: ignore[index]


# -- option names -------------------------------------------------------------------


def test_an_unknown_option_of_the_middleware_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentMiddleware(_app, secret_kye=SECRET)
    assert str(caught.value).startswith(
        "secret_kye: expected one of the options (did you mean 'secret_key'?)"
    )
    assert SECRET not in str(caught.value)


def test_an_unknown_keyword_of_the_config_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentConfig(secret_key=SECRET, polcy_url="/privacy")
    assert str(caught.value) == (
        "polcy_url: expected one of the options (did you mean 'policy_url'?), got 'polcy_url'"
    )


def test_an_unknown_keyword_of_a_subclass_is_suggested_from_the_subclass_options() -> None:
    with pytest.raises(ConfigError, match="did you mean 'banner_delay'"):
        _WithBannerDelay(secret_key=SECRET, banner_dealy=3)


def test_an_unknown_option_of_replace_is_an_error_with_a_suggestion() -> None:
    config = ConsentConfig(secret_key=SECRET)
    with pytest.raises(ConfigError) as caught:
        config.replace(expiry_dayz=30)
    assert str(caught.value) == (
        "expiry_dayz: expected one of the options (did you mean 'expiry_days'?), got 'expiry_dayz'"
    )


def test_an_unknown_option_unlike_any_other_lists_every_option() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentMiddleware(_app, secret_key=SECRET, zzzzzz=1)
    assert "expected one of the options: secret_key, title, message," in str(caught.value)


def test_replace_validates_the_changed_value() -> None:
    config = ConsentConfig(secret_key=SECRET)
    with pytest.raises(ConfigError, match="^expiry_days: .*got 0$"):
        config.replace(expiry_days=0)


def test_replace_returns_a_copy_with_the_change_and_leaves_the_original() -> None:
    config = ConsentConfig(secret_key=SECRET)
    changed = config.replace(expiry_days=30)
    assert (changed.expiry_days, config.expiry_days) == (30, 180)


def test_config_and_keyword_options_together_are_an_error() -> None:
    config = ConsentConfig(secret_key=SECRET)
    with pytest.raises(ConfigError) as caught:
        ConsentMiddleware(_app, config=config, expiry_days=30)
    assert str(caught.value) == (
        "config: expected either config= or keyword options, not both, got 'expiry_days'"
    )


def test_a_config_that_is_not_a_consent_config_is_an_error() -> None:
    with pytest.raises(ConfigError, match="^config: expected a ConsentConfig, got"):
        ConsentMiddleware(_app, config={"secret_key": SECRET})  # type: ignore[arg-type]


def test_the_middleware_builds_its_config_from_keyword_options() -> None:
    middleware = ConsentMiddleware(_app, secret_key=SECRET, expiry_days=30)
    assert middleware.config.expiry_days == 30


# -- categories ---------------------------------------------------------------------


def test_the_built_in_categories_come_in_order_necessary_analytics_marketing_media() -> None:
    config = ConsentConfig(secret_key=SECRET)
    assert config.category_names == ("necessary", "analytics", "marketing", "media")


def test_a_custom_category_comes_after_the_built_in_ones() -> None:
    config = ConsentConfig(
        secret_key=SECRET,
        categories=[Category("fonts", "Fonts", "Web fonts"), Category("media", "Videos")],
    )
    assert config.category_names == ("necessary", "analytics", "marketing", "media", "fonts")


def test_a_category_mapping_adds_a_custom_category_with_its_texts() -> None:
    config = ConsentConfig(
        secret_key=SECRET,
        categories={"chat": {"label": "Live chat", "description": "A support chat widget."}},
    )
    assert config.categories_list[-1] == Category("chat", "Live chat", "A support chat widget.")


def test_a_built_in_category_can_get_its_own_label() -> None:
    config = ConsentConfig(secret_key=SECRET, categories=[Category("media", label="Videos")])
    assert config.categories_list[3] == Category("media", "Videos", None)


def test_a_custom_category_without_a_description_is_an_error() -> None:
    assert _error(categories={"video": {"label": "Video"}}) == (
        "categories['video']: expected a label and a description, got 'Video'"
    )


def test_a_custom_category_without_a_label_is_an_error() -> None:
    assert _error(categories=[Category("video", description="Videos")]) == (
        "categories['video']: expected a label and a description, got None"
    )


@pytest.mark.parametrize("name", ["Analytics", "1st", "x y", "", "a" * 33, "ünïcode"])
def test_a_category_name_outside_lower_case_letters_digits_and_dashes_is_an_error(
    name: str,
) -> None:
    assert _error(categories=[Category(name, "Label", "Description")]) == (
        f"categories: expected names of lower-case letters, digits, '_' or '-', got {name!r}"
    )


def test_a_category_spec_with_an_unknown_key_is_an_error() -> None:
    assert _error(categories={"chat": {"label": "C", "description": "D", "icon": "x"}}) == (
        "categories['chat']: expected only 'label' and 'description', got 'icon'"
    )


def test_an_empty_category_label_is_an_error() -> None:
    assert _error(categories=[Category("chat", "  ", "Chat")]) == (
        "categories['chat'].label: expected a non-empty text, got '  '"
    )


def test_tracker_patterns_for_an_unknown_category_are_an_error() -> None:
    assert _error(tracker_urls={"ads": ["ads.example"]}) == (
        "tracker_urls['ads']: expected one of analytics, marketing, media, got 'ads'"
    )


def test_tracker_patterns_for_the_necessary_category_are_an_error() -> None:
    assert _error(tracker_cookies={"necessary": ["session"]}).startswith(
        "tracker_cookies['necessary']: expected one of analytics, marketing, media"
    )


def test_tracker_patterns_given_as_one_string_are_an_error() -> None:
    assert _error(tracker_urls={"analytics": "stats.example"}) == (
        "tracker_urls['analytics']: expected a list of strings, got 'stats.example'"
    )


# -- theme --------------------------------------------------------------------------


def test_an_unknown_theme_key_is_an_error_listing_the_known_keys() -> None:
    assert _error(theme={"bg": "red"}).startswith(
        "theme['bg']: expected one of background, text, accent, accent-text, border"
    )


@pytest.mark.parametrize(
    "value",
    [
        "red;}body{display:none",
        "url(https://x)",
        "red}",
        "red;color:blue",
        "</style>",
        "",
        "a" * 121,
    ],
)
def test_a_theme_value_that_could_escape_its_css_declaration_is_an_error(value: str) -> None:
    assert _error(theme={"background": value}) == (
        f"theme['background']: expected a plain CSS value such as #1a73e8, got {value!r}"
    )


def test_a_theme_value_with_a_scheme_relative_url_is_an_error() -> None:
    assert _error(theme={"background": "url(//evil.example/pixel.png)"}).startswith(
        "theme['background']: expected a plain CSS value"
    )


def test_plain_css_theme_values_are_kept() -> None:
    theme = {
        "accent": "#1a73e8",
        "radius": "0.5rem",
        "font": "Georgia, 'Times New Roman', serif",
        "background": "rgb(20, 20, 20)",
    }
    assert dict(ConsentConfig(secret_key=SECRET, theme=theme).theme) == theme


# -- endpoint prefix, cookie, closed choices ----------------------------------------


@pytest.mark.parametrize("prefix", ["_consent", "/_consent/", "/", "", "/a b", "//x", "/a?b"])
def test_an_endpoint_prefix_that_is_not_a_clean_path_is_an_error(prefix: str) -> None:
    assert _error(endpoint_prefix=prefix) == (
        f"endpoint_prefix: expected a path such as /_consent (no trailing slash), got {prefix!r}"
    )


def test_a_nested_endpoint_prefix_is_valid() -> None:
    config = ConsentConfig(secret_key=SECRET, endpoint_prefix="/.well-known/consent")
    assert config.endpoint_prefix == "/.well-known/consent"


def test_a_mode_other_than_choice_or_notice_is_an_error() -> None:
    assert _error(mode="banner") == "mode: expected one of choice, notice, got 'banner'"


def test_a_position_other_than_bottom_corner_or_modal_is_an_error() -> None:
    assert _error(position="top") == "position: expected one of bottom, corner, modal, got 'top'"


def test_a_samesite_value_other_than_lax_strict_or_none_is_an_error() -> None:
    assert _error(cookie_samesite="loose") == (
        "cookie_samesite: expected one of lax, strict, none, got 'loose'"
    )


def test_samesite_none_with_an_insecure_cookie_is_an_error() -> None:
    assert _error(cookie_samesite="none", cookie_secure=False) == (
        "cookie_secure: expected true or unset when cookie_samesite is 'none', got False"
    )


def test_samesite_none_with_automatic_secure_is_valid() -> None:
    assert ConsentConfig(secret_key=SECRET, cookie_samesite="none").cookie_secure is None


def test_a_boolean_option_given_as_text_is_an_error() -> None:
    assert _error(honor_gpc="yes") == "honor_gpc: expected true or false, got 'yes'"


def test_a_cookie_name_with_a_separator_is_an_error() -> None:
    assert _error(cookie_name="my consent").startswith(
        "cookie_name: expected a cookie name (letters, digits, _ -), got 'my consent'"
    )


def test_a_cookie_domain_with_a_path_is_an_error() -> None:
    assert _error(cookie_domain="example.com/x") == (
        "cookie_domain: expected a host name such as example.com, got 'example.com/x'"
    )


def test_a_trusted_origin_with_a_path_is_an_error() -> None:
    assert _error(trusted_origins=["https://example.com/"]) == (
        "trusted_origins: expected origins such as https://example.com, got 'https://example.com/'"
    )


def test_trusted_origins_are_kept_in_lower_case() -> None:
    config = ConsentConfig(secret_key=SECRET, trusted_origins=["https://WWW.Example.com"])
    assert config.trusted_origins == ("https://www.example.com",)


def test_a_language_that_is_not_a_language_code_is_an_error() -> None:
    assert _error(default_language="English") == (
        "default_language: expected a language code such as 'en', 'de' or 'pt-br', got 'English'"
    )


def test_a_language_selector_that_is_not_callable_is_an_error() -> None:
    assert _error(language_selector="de") == (
        "language_selector: expected a callable(request), got 'de'"
    )


def test_a_config_cannot_be_changed_after_it_is_built() -> None:
    config = ConsentConfig(secret_key=SECRET)
    with pytest.raises(AttributeError):
        config.expiry_days = 1  # type: ignore[misc]


def test_cookie_parent_domains_given_as_one_string_is_an_error() -> None:
    with pytest.raises(ConfigError, match="cookie_parent_domains"):
        ConsentConfig(secret_key=SECRET, cookie_parent_domains="example.com")


def test_cookie_parent_domains_are_kept_without_a_leading_dot_in_lower_case() -> None:
    config = ConsentConfig(secret_key=SECRET, cookie_parent_domains=[".Example.com"])
    assert config.cookie_parent_domains == ("example.com",)


def test_a_none_among_cookie_parent_domains_is_an_error() -> None:
    assert _error(cookie_parent_domains=["example.com", None]) == (
        "cookie_parent_domains: expected a host name such as example.com, got None"
    )


def test_trusted_origins_given_as_one_string_is_an_error() -> None:
    assert _error(trusted_origins="https://example.com") == (
        "trusted_origins: expected a list of origins such as https://example.com, "
        "got 'https://example.com'"
    )


# -- the option table ---------------------------------------------------------------


def test_every_field_of_the_config_is_a_row_of_the_option_table() -> None:
    assert tuple(OPTIONS) == tuple(f.name for f in dataclasses.fields(ConsentConfig))


def test_the_options_that_are_texts_are_every_text_of_the_banner() -> None:
    assert TEXT_OPTIONS == (
        "title",
        "message",
        "accept_text",
        "reject_text",
        "preferences_text",
        "save_text",
        "policy_text",
        "settings_text",
        "withdraw_text",
        "preferences_title",
        "always_on_text",
        "gpc_notice",
        "placeholder_text",
        "placeholder_button",
        "close_text",
        "back_text",
    )


@pytest.mark.parametrize("name", [n for n in OPTIONS if n != "secret_key"])
def test_the_default_of_every_option_passes_its_own_check(name: str) -> None:
    declared = OPTIONS[name]
    declared.kind.check(
        name, declared.default, {"categories": ConsentConfig(secret_key=SECRET).categories}
    )


def test_every_option_has_a_one_line_doc() -> None:
    assert {name for name, o in OPTIONS.items() if not o.doc or "\n" in o.doc} == set()


def test_the_config_error_lives_at_the_bottom_and_is_re_exported_by_config() -> None:
    from asgi_consent import config, errors

    assert config.ConfigError is errors.ConfigError is asgi_consent.ConfigError


@dataclass(frozen=True, eq=False)
class _WithBannerDelay(ConsentConfig):
    """A config with one more option, declared as every option is: one line."""

    banner_delay: int = option(whole_number(0, 60), "Seconds before the banner.", default=0)


def test_an_option_declared_in_a_subclass_is_checked() -> None:
    with pytest.raises(ConfigError) as caught:
        _WithBannerDelay(secret_key=SECRET, banner_delay=61)
    assert str(caught.value) == "banner_delay: expected a whole number from 0 to 60, got 61"


def test_an_option_declared_in_a_subclass_is_read_from_the_environment() -> None:
    environ = {"CONSENT_SECRET_KEY": SECRET, "CONSENT_BANNER_DELAY": " 5 "}
    assert _WithBannerDelay.from_env(environ=environ).banner_delay == 5


def test_an_option_declared_in_a_subclass_is_suggested_for_a_typo() -> None:
    with pytest.raises(ConfigError) as caught:
        _WithBannerDelay.from_mapping({"secret_key": SECRET, "banner_dealy": 3})
    assert "did you mean 'banner_delay'?" in str(caught.value)


def test_replace_on_a_subclass_keeps_the_subclass_and_its_options() -> None:
    config = _WithBannerDelay(secret_key=SECRET).replace(banner_delay=9)
    assert (type(config), config.banner_delay) == (_WithBannerDelay, 9)


def test_the_repr_shows_only_what_differs_from_the_defaults() -> None:
    config = ConsentConfig(secret_key=SECRET, policy_url="/privacy")
    assert repr(config) == "ConsentConfig(secret_key=<1 hidden>, policy_url='/privacy')"
