"""What the wheel and the sdist carry, as pyproject.toml and the Makefile declare it
(`make` builds nothing here; issue 11's note has the wheel and sdist listings)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def test_the_mit_licence_is_a_file_the_metadata_names() -> None:
    licence = (ROOT / "LICENSE").read_text("utf-8")
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 asgi-consent developers\n")
    assert (PROJECT["project"]["license"], PROJECT["project"]["license-files"]) == (
        "MIT",
        ["LICENSE"],
    )


def test_the_classifiers_name_asgi_frameworks_and_no_wsgi() -> None:
    classifiers = PROJECT["project"]["classifiers"]
    assert not [c for c in classifiers if "WSGI" in c]
    assert {"Framework :: FastAPI", "Framework :: Django", "Framework :: Litestar"} <= set(
        classifiers
    )


def test_the_sdist_ships_the_tests_and_the_c_source_and_not_the_benchmarks() -> None:
    manifest = (ROOT / "MANIFEST.in").read_text("utf-8").splitlines()
    lines = {line.strip() for line in manifest if not line.startswith("#")}
    assert {"graft src/asgi_consent", "graft tests", "graft demo", "prune benchmarks"} <= lines
    assert "include README.md LICENSE pyproject.toml setup.py" in lines
    assert "*.so" in " ".join(line for line in lines if line.startswith("global-exclude"))


def test_the_wheel_carries_the_package_data_but_not_the_c_source() -> None:
    data = PROJECT["tool"]["setuptools"]["package-data"]["asgi_consent"]
    assert {"py.typed", "locales/*.json", "static/*"} <= set(data)
    assert not [pattern for pattern in data if pattern.endswith(".c")]
    assert PROJECT["tool"]["setuptools"]["include-package-data"] is False


def test_the_demo_extra_is_a_server_and_nothing_of_the_test_tool_chain() -> None:
    demo = PROJECT["project"]["optional-dependencies"]["demo"]
    assert [re.split(r"[<>=\[]", requirement)[0] for requirement in demo] == ["uvicorn"]


def test_make_demo_installs_the_demo_extra_and_make_test_the_test_extra() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    demo_stamp = re.search(r"^demo: (\S+)$", makefile, re.M)
    assert demo_stamp is not None
    recipe = makefile[makefile.index(demo_stamp.group(1) + ": pyproject.toml") :]
    assert "-e '.[demo]'" in recipe.split("\n\n")[0]
    assert "-e '.[test]'" in makefile
