"""Loading a ConsentConfig from environment variables, .env files, mappings and TOML."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from asgi_consent import Category, ConfigError, ConsentConfig
from asgi_consent.config import OPTIONS, TEXT_OPTIONS
from asgi_consent.options import name_of_toml_key
from asgi_consent.sources import ignored_env_variables
from helpers import SECRET

OLD_SECRET = "an-older-secret-key-abcdef012345"
MAKE_ONE = "(make one: python -c 'import secrets; print(secrets.token_urlsafe(32))')"


@pytest.fixture(autouse=True)
def _no_consent_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """`from_toml` reads the real environment too: none of the runner's CONSENT_* here."""
    for key in list(os.environ):
        if key.startswith("CONSENT_"):
            monkeypatch.delenv(key)


def _env(**variables: str) -> ConsentConfig:
    environ = {"CONSENT_SECRET_KEY": SECRET}
    environ.update({f"CONSENT_{name.upper()}": value for name, value in variables.items()})
    return ConsentConfig.from_env(environ=environ)


def _env_error(**variables: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _env(**variables)
    return str(caught.value)


# -- environment variables -------------------------------------------------------------


def test_from_env_reads_the_secret_key() -> None:
    assert ConsentConfig.from_env(environ={"CONSENT_SECRET_KEY": SECRET}).secret_keys == (SECRET,)


def test_from_env_without_a_secret_key_says_the_variable_is_not_set() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_env(environ={})
    assert str(caught.value) == (
        "CONSENT_SECRET_KEY is not set: expected a secret of at least 16 characters that "
        f"signs the consent cookie {MAKE_ONE}"
    )


def test_from_env_with_an_empty_secret_key_says_the_variable_is_not_set() -> None:
    with pytest.raises(ConfigError, match="^CONSENT_SECRET_KEY is not set: "):
        ConsentConfig.from_env(environ={"CONSENT_SECRET_KEY": " "})


def test_from_env_under_a_custom_prefix_names_its_own_secret_variable() -> None:
    with pytest.raises(ConfigError, match="^SHOP_CONSENT_SECRET_KEY is not set: "):
        ConsentConfig.from_env("SHOP_CONSENT_", environ={"CONSENT_SECRET_KEY": SECRET})


def test_from_env_reads_whole_numbers() -> None:
    config = _env(expiry_days="30", policy_revision=" 4 ", max_body_size="4096")
    assert (config.expiry_days, config.policy_revision, config.max_body_size) == (30, 4, 4096)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("no", False),
        ("on", True),
        ("off", False),
        ("TRUE", True),
        ("No", False),
    ],
)
def test_from_env_reads_booleans(raw: str, expected: bool) -> None:
    assert _env(honor_gpc=raw).honor_gpc is expected


@pytest.mark.parametrize(("raw", "expected"), [("auto", None), ("", None), ("true", True)])
def test_from_env_reads_cookie_secure_as_true_false_or_automatic(
    raw: str, expected: bool | None
) -> None:
    assert _env(cookie_secure=raw).cookie_secure is expected


def test_from_env_reads_a_comma_list_of_secret_keys_newest_first() -> None:
    config = ConsentConfig.from_env(environ={"CONSENT_SECRET_KEY": f"{SECRET}, {OLD_SECRET}"})
    assert config.secret_keys == (SECRET, OLD_SECRET)


def test_from_env_reads_a_comma_list_of_trusted_origins() -> None:
    config = _env(trusted_origins="https://www.example.com,https://shop.example.com,")
    assert config.trusted_origins == ("https://www.example.com", "https://shop.example.com")


def test_from_env_reads_the_theme_as_json() -> None:
    config = _env(theme='{"accent": "#1a73e8", "radius": "4px"}')
    assert dict(config.theme) == {"accent": "#1a73e8", "radius": "4px"}


def test_from_env_reads_categories_as_json() -> None:
    config = _env(categories='{"chat": {"label": "Chat", "description": "A chat widget."}}')
    assert config.categories_list[-1] == Category("chat", "Chat", "A chat widget.")


def test_from_env_reads_a_per_language_text_as_json() -> None:
    config = _env(accept_text='{"en": "OK", "de": "Einverstanden"}')
    assert dict(config.accept_text) == {"en": "OK", "de": "Einverstanden"}  # type: ignore[arg-type]


def test_from_env_reads_a_plain_text_as_it_is() -> None:
    assert _env(title="Cookies, and why we ask").title == "Cookies, and why we ask"


def test_from_env_reads_plain_strings() -> None:
    config = _env(policy_url="/privacy", mode="notice", cookie_name="site_consent")
    assert (config.policy_url, config.mode, config.cookie_name) == (
        "/privacy",
        "notice",
        "site_consent",
    )


def test_from_env_treats_an_empty_policy_url_as_unset() -> None:
    assert _env(policy_url="").policy_url is None


def test_from_env_ignores_variables_without_the_prefix() -> None:
    config = ConsentConfig.from_env(
        environ={"CONSENT_SECRET_KEY": SECRET, "EXPIRY_DAYS": "x", "SECRET_KEY": "short"}
    )
    assert config.expiry_days == 180


def test_from_env_uses_a_custom_prefix() -> None:
    config = ConsentConfig.from_env(
        "SHOP_CONSENT_",
        environ={"SHOP_CONSENT_SECRET_KEY": SECRET, "SHOP_CONSENT_EXPIRY_DAYS": "7"},
    )
    assert config.expiry_days == 7


def test_a_misspelt_consent_variable_is_an_error_suggesting_the_variable() -> None:
    assert _env_error(expiry_day="3") == (
        "environment variable CONSENT_EXPIRY_DAY: not an option (did you mean CONSENT_EXPIRY_DAYS?)"
    )


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("CONSENT_SECRET", "CONSENT_SECRET_KEY"),
        ("CONSENT_MDOE", "CONSENT_MODE"),
        ("CONSENT_POLICY", "CONSENT_POLICY_URL"),
        ("CONSENT_TITLE_TEXT", "CONSENT_TITLE"),
    ],
)
def test_a_variable_resembling_an_option_is_an_error(variable: str, meant: str) -> None:
    with pytest.raises(ConfigError, match=f"did you mean {meant}\\?"):
        ConsentConfig.from_env(environ={"CONSENT_SECRET_KEY": SECRET, variable: "x"})


def test_a_misspelt_variable_under_a_custom_prefix_suggests_that_prefix() -> None:
    with pytest.raises(ConfigError, match="did you mean SHOP_EXPIRY_DAYS\\?"):
        ConsentConfig.from_env("SHOP_", environ={"SHOP_SECRET_KEY": SECRET, "SHOP_EXPIRYDAYS": "3"})


def test_a_misspelt_variable_in_an_env_file_names_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"CONSENT_SECRET_KEY={SECRET}\nCONSENT_EXPIRY_DAY=3\n")
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_env(environ={}, env_file=str(env_file))
    assert str(caught.value).startswith(f"{env_file}: CONSENT_EXPIRY_DAY: not an option")


@pytest.mark.parametrize(
    "variable",
    ["CONSENT_MANAGER_URL", "CONSENT_API_KEY", "CONSENT_SERVICE_HOST", "CONSENT_PORT_80_TCP"],
)
def test_a_variable_of_someone_else_under_the_prefix_is_ignored(variable: str) -> None:
    config = ConsentConfig.from_env(environ={"CONSENT_SECRET_KEY": SECRET, variable: "x"})
    assert config.secret_keys == (SECRET,)


def test_an_ignored_variable_is_logged_at_debug_level(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="asgi_consent"):
        ConsentConfig.from_env(environ={"CONSENT_SECRET_KEY": SECRET, "CONSENT_MANAGER_URL": "x"})
    assert [r.getMessage() for r in caplog.records] == [
        "ignoring CONSENT_MANAGER_URL: no option of asgi-consent is called like it"
    ]


def test_ignored_env_variables_lists_what_from_env_ignores() -> None:
    environ = {"CONSENT_SECRET_KEY": SECRET, "CONSENT_MANAGER_URL": "x", "CONSENT_MODE": "notice"}
    assert ignored_env_variables(ConsentConfig, environ=environ) == ["CONSENT_MANAGER_URL"]


def test_a_value_that_is_not_a_number_names_the_variable_and_the_value() -> None:
    assert _env_error(expiry_days="thirty") == (
        "expiry_days (from environment variable CONSENT_EXPIRY_DAYS): "
        "expected a whole number, got 'thirty'"
    )


def test_a_value_that_is_not_a_boolean_names_the_variable_and_the_value() -> None:
    assert _env_error(honor_gpc="maybe") == (
        "honor_gpc (from environment variable CONSENT_HONOR_GPC): "
        "expected true/false, 1/0, yes/no or on/off, got 'maybe'"
    )


def test_invalid_json_names_the_variable_and_the_value() -> None:
    assert _env_error(theme="{accent: red}") == (
        "theme (from environment variable CONSENT_THEME): expected valid JSON, got '{accent: red}'"
    )


def test_an_out_of_range_value_names_the_field_and_the_value() -> None:
    assert _env_error(expiry_days="0").startswith("expiry_days (from environment")
    assert _env_error(expiry_days="0").endswith("expected a whole number from 1 to 3650, got 0")


def test_an_out_of_range_value_names_the_variable_it_came_from() -> None:
    assert "environment variable CONSENT_EXPIRY_DAYS" in _env_error(expiry_days="0")


def test_a_short_secret_key_from_the_environment_is_not_shown_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_env(environ={"CONSENT_SECRET_KEY": "tiny-secret-123"})
    assert str(caught.value).startswith("secret_key (from environment")
    assert "tiny-secret-123" not in str(caught.value)


def test_a_short_old_key_in_the_rotation_list_is_not_shown_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_env(environ={"CONSENT_SECRET_KEY": f"{SECRET},old-tiny"})
    assert "old-tiny" not in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_language_selector_from_the_environment_is_an_error() -> None:
    with pytest.raises(ConfigError, match="CONSENT_LANGUAGE_SELECTOR"):
        _env(language_selector="myapp.pick_language")


def test_a_language_selector_from_the_environment_says_it_must_be_set_in_code() -> None:
    assert "a callable set in code" in _env_error(language_selector="myapp.pick_language")


# -- .env files ----------------------------------------------------------------------------


def _env_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_an_env_file_is_read_with_comments_blank_lines_and_export(tmp_path: Path) -> None:
    env_file = _env_file(
        tmp_path,
        f"# consent settings\n\nexport CONSENT_SECRET_KEY={SECRET}\n"
        "   # indented comment\nCONSENT_EXPIRY_DAYS = 14\n",
    )
    config = ConsentConfig.from_env(environ={}, env_file=env_file)
    assert (config.secret_keys, config.expiry_days) == ((SECRET,), 14)


def test_an_env_file_value_may_be_in_double_or_single_quotes(tmp_path: Path) -> None:
    env_file = _env_file(
        tmp_path,
        f"CONSENT_SECRET_KEY='{SECRET}'\nCONSENT_TITLE=\"Cookies = choices\"\n",
    )
    config = ConsentConfig.from_env(environ={}, env_file=env_file)
    assert (config.secret_keys, config.title) == ((SECRET,), "Cookies = choices")


def test_the_real_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = _env_file(tmp_path, f"CONSENT_SECRET_KEY={SECRET}\nCONSENT_EXPIRY_DAYS=14\n")
    config = ConsentConfig.from_env(environ={"CONSENT_EXPIRY_DAYS": "60"}, env_file=env_file)
    assert config.expiry_days == 60


def test_a_malformed_env_file_line_names_the_file_and_line_number(tmp_path: Path) -> None:
    env_file = _env_file(tmp_path, f"# settings\nCONSENT_SECRET_KEY={SECRET}\nnot a setting\n")
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_env(environ={}, env_file=env_file)
    assert str(caught.value).startswith(f"env_file (from {env_file}, line 3): expected KEY=VALUE")


def test_a_malformed_env_file_line_does_not_show_the_secret_on_it(tmp_path: Path) -> None:
    env_file = _env_file(tmp_path, f"CONSENT_SECRET_KEY {SECRET}\n")
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_env(environ={}, env_file=env_file)
    assert SECRET not in str(caught.value)


def test_a_bad_value_in_an_env_file_names_the_file_and_key(tmp_path: Path) -> None:
    env_file = _env_file(tmp_path, f"CONSENT_SECRET_KEY={SECRET}\nCONSENT_EXPIRY_DAYS=soon\n")
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_env(environ={}, env_file=env_file)
    assert str(caught.value) == (
        f"expiry_days (from {env_file}: CONSENT_EXPIRY_DAYS): expected a whole number, got 'soon'"
    )


def test_a_missing_env_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.env")
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_env(environ={}, env_file=missing)
    assert str(caught.value).startswith("env_file: expected a readable file")
    assert missing in str(caught.value)


# -- mappings ------------------------------------------------------------------------------


def test_from_mapping_builds_a_config() -> None:
    config = ConsentConfig.from_mapping({"secret_key": SECRET, "expiry_days": 30})
    assert config.expiry_days == 30


def test_from_mapping_accepts_django_style_upper_case_keys() -> None:
    config = ConsentConfig.from_mapping(
        {"SECRET_KEY": SECRET, "POLICY_URL": "/privacy", "EXPIRY_DAYS": 90}
    )
    assert (config.policy_url, config.expiry_days) == ("/privacy", 90)


def test_from_mapping_with_an_unknown_key_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_mapping({"secret_key": SECRET, "polciy_url": "/privacy"})
    assert str(caught.value) == (
        "polciy_url (from mapping): expected one of the options (did you mean 'policy_url'?), "
        "got 'polciy_url'"
    )


def test_from_mapping_names_its_source_in_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_mapping(
            {"secret_key": SECRET, "expiry_days": -1}, source="settings.CONSENT"
        )
    assert str(caught.value) == (
        "expiry_days (from settings.CONSENT): expected a whole number from 1 to 3650, got -1"
    )


def test_from_mapping_of_something_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(ConfigError, match="^config \\(from mapping\\): expected a mapping"):
        ConsentConfig.from_mapping([("secret_key", SECRET)])  # type: ignore[arg-type]


def test_from_mapping_with_a_value_of_the_wrong_shape_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match="^cookie_parent_domains \\(from mapping\\): expected a list of host"
    ):
        ConsentConfig.from_mapping({"secret_key": SECRET, "cookie_parent_domains": 5})


def test_from_mapping_accepts_a_language_selector_callable() -> None:
    def selector(request: object) -> str:
        return "de"

    config = ConsentConfig.from_mapping({"secret_key": SECRET, "language_selector": selector})
    assert config.language_selector is selector


# -- TOML ----------------------------------------------------------------------------------


def _toml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_from_toml_reads_the_tool_asgi_consent_table(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        f'[project]\nname = "site"\n\n[tool.asgi-consent]\nsecret_key = "{SECRET}"\n'
        'policy_url = "/privacy"\n',
    )
    assert ConsentConfig.from_toml(path).policy_url == "/privacy"


def test_from_toml_accepts_hyphenated_keys(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        f'[tool.asgi-consent]\nsecret-key = "{SECRET}"\nexpiry-days = 30\n'
        'cookie-samesite = "strict"\n',
    )
    config = ConsentConfig.from_toml(path)
    assert (config.expiry_days, config.cookie_samesite) == (30, "strict")


def test_from_toml_reads_a_custom_table(tmp_path: Path) -> None:
    path = _toml(tmp_path, f'[site.consent]\nsecret_key = "{SECRET}"\nmode = "notice"\n')
    assert ConsentConfig.from_toml(path, table="site.consent").mode == "notice"


def test_from_toml_reads_lists_and_tables(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        f'[tool.asgi-consent]\nsecret_key = ["{SECRET}", "{OLD_SECRET}"]\n'
        'accept_text = { en = "OK", de = "Einverstanden" }\n'
        '[tool.asgi-consent.theme]\naccent = "#1a73e8"\n',
    )
    config = ConsentConfig.from_toml(path)
    assert config.secret_keys == (SECRET, OLD_SECRET)
    assert dict(config.accept_text) == {"en": "OK", "de": "Einverstanden"}  # type: ignore[arg-type]
    assert dict(config.theme) == {"accent": "#1a73e8"}


def test_from_toml_without_the_table_is_an_error_naming_the_table(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[project]\nname = "site"\n')
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_toml(path)
    assert str(caught.value) == (
        f"toml (from {path}): expected a [tool.asgi-consent] table, got {path!r}"
    )


def test_from_toml_where_the_table_is_not_a_table_is_a_config_error(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[tool]\nasgi-consent = "on"\n')
    with pytest.raises(ConfigError, match="tool.asgi-consent"):
        ConsentConfig.from_toml(path)


def test_from_toml_with_invalid_toml_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[tool.asgi-consent\n")
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_toml(path)
    assert str(caught.value).startswith("toml: expected valid TOML (")
    assert str(caught.value).endswith(f"got {path!r}")


def test_from_toml_with_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.toml")
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_toml(missing)
    assert str(caught.value).startswith("toml: expected a readable file")


def test_from_toml_with_an_unknown_key_names_the_file_and_table(tmp_path: Path) -> None:
    path = _toml(tmp_path, f'[tool.asgi-consent]\nsecret_key = "{SECRET}"\nexpiry = 30\n')
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_toml(path)
    assert str(caught.value).startswith(
        f"expiry (from {path} [tool.asgi-consent]): expected one of the options (did you mean"
    )


def test_from_toml_suggests_a_key_spelt_as_toml_keys_are(tmp_path: Path) -> None:
    path = _toml(tmp_path, f'[tool.asgi-consent]\nsecret-key = "{SECRET}"\nexpiry-day = 3\n')
    with pytest.raises(ConfigError, match="did you mean 'expiry-days'\\?"):
        ConsentConfig.from_toml(path)


def test_from_toml_takes_the_secret_from_the_environment(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[tool.asgi-consent]\npolicy-url = "/privacy"\n')
    config = ConsentConfig.from_toml(path, environ={"CONSENT_SECRET_KEY": SECRET})
    assert (config.secret_keys, config.policy_url) == ((SECRET,), "/privacy")


def test_from_toml_reads_the_real_environment_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENT_SECRET_KEY", SECRET)
    path = _toml(tmp_path, "[tool.asgi-consent]\nexpiry-days = 30\n")
    assert ConsentConfig.from_toml(path).secret_keys == (SECRET,)


def test_an_environment_variable_wins_over_the_toml_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, f'[tool.asgi-consent]\nsecret-key = "{OLD_SECRET}"\nexpiry-days = 30\n')
    environ = {"CONSENT_SECRET_KEY": SECRET, "CONSENT_EXPIRY_DAYS": "7"}
    config = ConsentConfig.from_toml(path, environ=environ)
    assert (config.secret_keys, config.expiry_days) == ((SECRET,), 7)


def test_from_toml_without_an_env_prefix_reads_the_file_alone(tmp_path: Path) -> None:
    path = _toml(tmp_path, f'[tool.asgi-consent]\nsecret-key = "{SECRET}"\nexpiry-days = 30\n')
    config = ConsentConfig.from_toml(path, env_prefix=None, environ={"CONSENT_EXPIRY_DAYS": "7"})
    assert config.expiry_days == 30


def test_from_toml_without_a_secret_says_where_to_set_it(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[tool.asgi-consent]\nexpiry-days = 30\n")
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_toml(path, environ={})
    assert str(caught.value) == (
        f"CONSENT_SECRET_KEY (or secret-key in {path} [tool.asgi-consent]) is not set: "
        f"expected a secret of at least 16 characters that signs the consent cookie {MAKE_ONE}"
    )


def test_a_bad_value_from_the_environment_beside_toml_names_the_variable(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[tool.asgi-consent]\nexpiry-days = 30\n")
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_toml(path, environ={"CONSENT_SECRET_KEY": SECRET, "CONSENT_MODE": "x"})
    assert caught.value.source == "environment variable CONSENT_MODE"


def test_from_toml_with_a_bad_value_names_the_file_table_field_and_value(tmp_path: Path) -> None:
    path = _toml(tmp_path, f'[tool.asgi-consent]\nsecret_key = "{SECRET}"\nexpiry-days = 0\n')
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_toml(path)
    assert str(caught.value) == (
        f"expiry_days (from {path} [tool.asgi-consent]): "
        "expected a whole number from 1 to 3650, got 0"
    )


def test_from_toml_refuses_a_language_selector(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        f'[tool.asgi-consent]\nsecret_key = "{SECRET}"\nlanguage-selector = "app.pick"\n',
    )
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_toml(path)
    assert str(caught.value) == (
        f"language_selector (from {path} [tool.asgi-consent]): expected a callable set in code, "
        "got 'language_selector'"
    )


def test_from_toml_never_shows_a_short_secret(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[tool.asgi-consent]\nsecret_key = "tiny-secret"\n')
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_toml(path)
    assert str(caught.value).startswith("secret_key (from ")
    assert "tiny-secret" not in str(caught.value)


# -- the option table and the class -------------------------------------------------------


class _SiteConfig(ConsentConfig):
    """A subclass a site might keep its own helpers on."""


def test_from_env_builds_the_class_it_is_called_on() -> None:
    config = _SiteConfig.from_env(environ={"CONSENT_SECRET_KEY": SECRET})
    assert type(config) is _SiteConfig


def test_from_mapping_builds_the_class_it_is_called_on() -> None:
    assert type(_SiteConfig.from_mapping({"secret_key": SECRET})) is _SiteConfig


def test_from_toml_builds_the_class_it_is_called_on(tmp_path: Path) -> None:
    path = _toml(tmp_path, f'[tool.asgi-consent]\nsecret-key = "{SECRET}"\n')
    assert type(_SiteConfig.from_toml(path)) is _SiteConfig


@pytest.mark.parametrize("name", TEXT_OPTIONS)
def test_every_text_option_reads_one_text_per_language_as_json(name: str) -> None:
    config = _env(**{name: '{"en": "Hello", "FR": "Bonjour"}'})
    assert dict(getattr(config, name)) == {"en": "Hello", "fr": "Bonjour"}


@pytest.mark.parametrize("name", [n for n, o in OPTIONS.items() if o.kind.read is not None])
def test_every_option_is_read_from_the_variable_its_row_names(name: str) -> None:
    variable = OPTIONS[name].env_variable("SITE_")
    wrong_for_every_kind = " {\\"
    with pytest.raises(ConfigError) as caught:
        ConsentConfig.from_env(
            "SITE_", environ={"SITE_SECRET_KEY": SECRET, variable: wrong_for_every_kind}
        )
    assert caught.value.field.startswith(name)
    assert caught.value.source == f"environment variable {variable}"


@pytest.mark.parametrize("name", list(OPTIONS))
def test_every_option_is_read_from_the_toml_key_its_row_names(name: str) -> None:
    assert name_of_toml_key(OPTIONS[name].toml_key) == name
