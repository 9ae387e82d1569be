"""`python -m asgi_consent check-config`: a few runs in a subprocess, as a user would run
it, and the rest through `main()` in process (a subprocess costs about half a second)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from asgi_consent.__main__ import main
from asgi_consent.config import OPTIONS, TEXT_OPTIONS
from helpers import SECRET

OLD_SECRET = "an-older-secret-key-abcdef012345"


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asgi_consent", "check-config", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _settings(stdout: str) -> dict[str, str]:
    rows = (line.split(None, 1) for line in stdout.splitlines())
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The process environment without any CONSENT_ variable of the machine running the tests."""
    for name in os.environ:
        if name.startswith(("CONSENT_", "SHOP_")):
            monkeypatch.delenv(name)
    return monkeypatch


# -- in a subprocess --------------------------------------------------------------------


def test_check_config_env_prints_the_effective_settings_with_the_secret_masked() -> None:
    result = _run(
        "--env",
        env={"CONSENT_SECRET_KEY": f"{SECRET},{OLD_SECRET}", "CONSENT_EXPIRY_DAYS": "30"},
    )
    assert result.returncode == 0, result.stderr
    settings = _settings(result.stdout)
    assert (settings["expiry_days"], settings["cookie_name"]) == ("30", "asgi_consent")
    assert settings["secret_key"] == "<2 key(s), hidden>"
    assert SECRET not in result.stdout + result.stderr
    assert OLD_SECRET not in result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == "configuration OK"


def test_check_config_with_a_bad_value_exits_1_naming_the_variable_and_value() -> None:
    result = _run("--env", env={"CONSENT_SECRET_KEY": SECRET, "CONSENT_EXPIRY_DAYS": "a month"})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "configuration error: expiry_days (from environment variable CONSENT_EXPIRY_DAYS): "
        "expected a whole number, got 'a month'"
    )


def test_check_config_reads_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        f'[tool.asgi-consent]\nsecret-key = "{SECRET}"\npolicy-url = "/privacy"\n',
        encoding="utf-8",
    )
    result = _run("--toml", str(path), env={})
    assert result.returncode == 0, result.stderr
    assert _settings(result.stdout)["policy_url"] == "/privacy"
    assert SECRET not in result.stdout


# -- through main() ---------------------------------------------------------------------


def test_check_config_with_a_short_secret_exits_1_without_showing_it(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("CONSENT_SECRET_KEY", "tiny-secret")
    assert main(["check-config", "--env"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("configuration error: secret_key")
    assert "tiny-secret" not in err


def test_check_config_reads_a_custom_prefix(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("SHOP_SECRET_KEY", SECRET)
    environ.setenv("SHOP_MODE", "notice")
    assert main(["check-config", "--env", "SHOP_"]) == 0
    assert _settings(capsys.readouterr().out)["mode"] == "notice"


def test_check_config_with_a_bad_toml_value_exits_1_naming_the_file_and_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "consent.toml"
    path.write_text(f'[consent]\nsecret_key = "{SECRET}"\nmode = "loud"\n', encoding="utf-8")
    assert main(["check-config", "--toml", str(path), "--table", "consent"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"configuration error: mode (from {path} [consent]): "
        "expected one of choice, notice, got 'loud'"
    )


def test_check_config_reads_an_env_file(
    environ: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ".env"
    path.write_text(f"CONSENT_SECRET_KEY={SECRET}\nCONSENT_POSITION=corner\n", encoding="utf-8")
    assert main(["check-config", "--env", "--env-file", str(path)]) == 0
    assert _settings(capsys.readouterr().out)["position"] == "corner"


def test_check_config_without_a_command_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "usage: python -m asgi_consent" in capsys.readouterr().err


def test_check_config_prints_every_option_of_the_table_in_order(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("CONSENT_SECRET_KEY", SECRET)
    assert main(["check-config", "--env"]) == 0
    assert list(_settings(capsys.readouterr().out)) == list(OPTIONS)


def test_options_lists_every_option_with_its_variable_toml_key_and_doc(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["options"]) == 0
    out = capsys.readouterr().out
    assert "expiry_days = 180\n  Days a choice is kept.\n" in out
    assert "  whole number 1..3650; CONSENT_EXPIRY_DAYS, expiry-days\n" in out
    for name, declared in OPTIONS.items():
        assert f"\n  {declared.doc}\n" in out, name


def test_options_names_the_variables_under_a_custom_prefix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["options", "--prefix", "SHOP_"]) == 0
    out = capsys.readouterr().out
    assert "SHOP_SECRET_KEY, secret-key" in out
    assert "CONSENT_EXPIRY" not in out


def test_options_says_which_option_only_code_can_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["options"]) == 0
    assert "callable(request) -> language code or None; code only\n" in capsys.readouterr().out


def test_check_config_prints_the_built_in_texts_the_default_language_gets(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("CONSENT_SECRET_KEY", SECRET)
    environ.setenv("CONSENT_DEFAULT_LANGUAGE", "de")
    assert main(["check-config", "--env"]) == 0
    settings = _settings(capsys.readouterr().out)
    assert (settings["accept_text"], settings["title"]) == (
        "Alle akzeptieren  (built in, de)",
        "Wir verwenden Cookies  (built in, de)",
    )
    assert "None" not in {settings[name] for name in TEXT_OPTIONS}


def test_check_config_prints_a_per_language_text_and_the_built_in_categories(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("CONSENT_SECRET_KEY", SECRET)
    environ.setenv("CONSENT_ACCEPT_TEXT", '{"de": "Ja"}')
    assert main(["check-config", "--env"]) == 0
    settings = _settings(capsys.readouterr().out)
    assert settings["accept_text"] == '{"de": "Ja"}  (built in for other languages)'
    assert settings["categories"] == (
        "necessary (Strictly necessary), analytics (Analytics), marketing (Marketing), "
        "media (External content)"
    )


def test_check_config_says_which_languages_the_banner_is_offered_in(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("CONSENT_SECRET_KEY", SECRET)
    environ.setenv("CONSENT_MESSAGE", "Bullion Bite uses cookies.")
    assert main(["check-config", "--env"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "banner languages: en (default en)",
        "message: one plain text, so the banner is in en only; give texts per language to "
        "offer others",
        "configuration OK",
    ]


def test_check_config_names_the_variables_it_ignored(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("CONSENT_SECRET_KEY", SECRET)
    environ.setenv("CONSENT_MANAGER_URL", "https://cmp.example")
    assert main(["check-config", "--env"]) == 0
    assert "ignored CONSENT_MANAGER_URL: resembles no option\n" in capsys.readouterr().err


def test_check_config_with_a_misspelt_variable_exits_1_suggesting_it(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("CONSENT_SECRET_KEY", SECRET)
    environ.setenv("CONSENT_EXPIRY_DAY", "30")
    assert main(["check-config", "--env"]) == 1
    assert capsys.readouterr().err == (
        "configuration error: environment variable CONSENT_EXPIRY_DAY: not an option "
        "(did you mean CONSENT_EXPIRY_DAYS?)\n"
    )


def test_check_config_without_a_secret_says_the_variable_is_not_set(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--env"]) == 1
    assert capsys.readouterr().err.startswith(
        "configuration error: CONSENT_SECRET_KEY is not set: expected a secret of at least 16"
    )


def test_check_config_reads_a_toml_file_with_the_secret_from_the_environment(
    environ: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.asgi-consent]\npolicy-url = "/privacy"\n', encoding="utf-8")
    environ.setenv("CONSENT_SECRET_KEY", SECRET)
    assert main(["check-config", "--toml", str(path)]) == 0
    settings = _settings(capsys.readouterr().out)
    assert (settings["secret_key"], settings["policy_url"]) == ("<1 key(s), hidden>", "/privacy")
