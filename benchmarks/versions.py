"""Two versions of the package in one process, so that before and after run in the same rounds.

`python -m benchmarks --before REV` measures the package at a git revision (or in a folder)
next to the working tree's, variant by variant in the same interleaved rounds: the two
share the machine's background load second for second, which separate runs never do on a
shared machine. Each version is imported from its own `src` folder under its own module
name (`asgi_consent_before`, ...); the package imports itself only relatively, so the two
copies never mix. A revision is exported with `git archive` into a temporary folder: the
repository, its work tree and its worktrees are left as they are.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "asgi_consent"
REPOSITORY = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret-key-0123456789abcdef"
ALL_CATEGORIES = ("analytics", "marketing", "media")
ASGIApp = Callable[..., Awaitable[None]]
# What the middleware passes to plan_for: the page's own response headers.
PAGE_HEADERS = [(b"content-type", b"text/html; charset=utf-8")]


@dataclass
class Version:
    """One copy of the package: the middleware, a granted cookie and the rewriter."""

    label: str  # "" when only the working tree is measured
    package: ModuleType
    source: str  # where it came from, for the table's header

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.package.__name__}.{name}")

    def wrap(self, app: ASGIApp) -> Any:
        return self.package.ConsentMiddleware(app, secret_key=SECRET, policy_url="/privacy")

    def tag(self, text: str) -> str:
        return f"{text} [{self.label}]" if self.label else text

    @cached_property
    def granted_cookie(self) -> str:
        """A valid consent cookie value that grants every category."""
        middleware = self.wrap(_no_app)
        value: str = middleware.codec.encode(ALL_CATEGORIES)
        return value

    def plan(self, scope: dict[str, Any], *, granted: bool) -> Any:
        """The plan the middleware builds for this page and visitor (no choice, or all)."""
        middleware = self.wrap(_no_app)
        if granted:
            consent = middleware.codec.decode(self.granted_cookie)
        else:
            consent = self.module("cookie").NO_CHOICE
        # The page planner moved out of the middleware during issue 8; both are measured.
        planner = getattr(middleware, "planner", None)
        plan = planner.plan if planner is not None else middleware.plan_for
        return plan(scope, consent, list(PAGE_HEADERS))

    def rewriter(self, plan: Any) -> Any:
        return self.module("rewrite").HtmlRewriter(plan)


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    return None


def current() -> Version:
    """The package as this environment imports it (the working tree, installed editable)."""
    package = importlib.import_module(PACKAGE)
    return Version("", package, str(Path(package.__file__ or "").parent))


def load(spec: str, label: str) -> Version:
    """The package at `spec`: a folder (holding `asgi_consent/`, or that package itself)
    or a git revision of this repository, imported as `asgi_consent_<label>`."""
    folder = Path(spec)
    if folder.is_dir():
        package_dir = folder if (folder / "__init__.py").exists() else folder / PACKAGE
        if not (package_dir / "__init__.py").exists():
            raise SystemExit(f"{spec}: no {PACKAGE} package there")
        source = str(package_dir)
    else:
        package_dir = _export(spec)
        source = f"git {spec} ({_short(spec)})"
    return Version(label, _import_as(package_dir, f"{PACKAGE}_{label}"), source)


def _short(revision: str) -> str:
    return _git("rev-parse", "--short", revision).decode().strip()


def _git(*args: str) -> bytes:
    try:
        return subprocess.run(
            ["git", "-C", str(REPOSITORY), *args], check=True, capture_output=True
        ).stdout
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"git {' '.join(args)}: {error.stderr.decode().strip()}") from None


def _export(revision: str) -> Path:
    """`src/asgi_consent` at `revision`, written into a new temporary folder."""
    target = Path(tempfile.mkdtemp(prefix="asgi-consent-bench-"))
    archive = _git("archive", "--format=tar", revision, f"src/{PACKAGE}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src" / PACKAGE


def _import_as(package_dir: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        name, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
