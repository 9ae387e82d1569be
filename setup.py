"""The scanner's optional C core (src/asgi_consent/_scanner.c), built when it can be.

Everything else is declared in pyproject.toml. Without a working C compiler (or with
ASGI_CONSENT_PURE_PYTHON=1 at build time) the build goes on without the extension and
the package runs its pure-Python scanner, which is also the reference the core is tested
against.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that leaves the extension out, with a note, when compiling fails."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # any failure: the pure path is there
            _skipped(error)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            _skipped(error)


def _skipped(error: BaseException) -> None:
    print(
        f"asgi-consent: the C scanner core was not built ({error}); "
        "the pure-Python scanner is used",
        file=sys.stderr,
    )


pure = os.environ.get("ASGI_CONSENT_PURE_PYTHON", "") not in ("", "0")
extensions = (
    []
    if pure
    else [
        Extension(
            "asgi_consent._scanner",
            ["src/asgi_consent/_scanner.c"],
            extra_compile_args=["-O2"] if os.name != "nt" else [],
            optional=True,
        )
    ]
)
setup(ext_modules=extensions, cmdclass={"build_ext": OptionalBuildExt})
