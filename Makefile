# Two commands on a fresh machine with Python 3.11 and make:
#   make serve   start the mock on http://127.0.0.1:8765 with the seeded default world
#   make test    install what the tests need into .venv and run them all
#                (make test-fast: the in-process tier only, without lint)
#   make docs    build the documentation site into site/ (mkdocs build --strict)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: serve test test-fast lint bench docs clean

$(BIN)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.test: pyproject.toml $(BIN)/.runtime
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(BIN)/.docs: pyproject.toml $(BIN)/.runtime
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

serve: $(BIN)/.runtime
	$(BIN)/prosper-mock serve $(ARGS)

# mypy checks the packages under their import names; the source folders are named for the
# layout (mock/, contracts/), so a view of links gives them those names.
TYPECHECK := $(VENV)/typecheck

lint: $(BIN)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	mkdir -p $(TYPECHECK)
	ln -sfn $(CURDIR)/mock $(TYPECHECK)/prosper_mock
	ln -sfn $(CURDIR)/contracts $(TYPECHECK)/prosper_contracts
	MYPYPATH=$(TYPECHECK) $(BIN)/mypy -p prosper_mock -p prosper_contracts
	$(BIN)/lint-imports --no-cache
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/hadolint Dockerfile

# The suite starts a hundred Python processes (servers, commands, inner pytest runs): with
# bytecode caches allowed (an empty PYTHONDONTWRITEBYTECODE) each loads the kit compiled and
# pytest rewrites a test module's asserts once, not again in every process.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 2 --dist loadgroup

test: lint
	$(PYTEST) $(ARGS)

# The in-process tier alone: no subprocesses, venvs or inner pytest runs (tests/tiers.py).
test-fast: $(BIN)/.test
	$(PYTEST) -m "not slow" $(ARGS)

# The site of docs/ (mkdocs.yml); its reference tables are generated from the code at build
# time. A warning fails the build, as in tests/test_site.py. Preview: $(BIN)/mkdocs serve
docs: $(BIN)/.docs
	$(BIN)/mkdocs build --strict -d site

bench: $(BIN)/.test
	$(BIN)/python -m benchmarks $(ARGS)

# The stubs users would otherwise write, measured against the mock (benchmarks/peers.py).
# Prism and WireMock come from npm into .peers/; a JRE from apt when java is missing and
# this runs as root. A peer that cannot be installed is listed as such, not measured.
PEERS := .peers

.PHONY: bench-peers
bench-peers: $(BIN)/.test
	@command -v npm >/dev/null || echo "npm not found: Prism and WireMock are skipped"
	-command -v npm >/dev/null && npm install --prefix $(PEERS) --no-audit --no-fund '@stoplight/prism-cli@^5.16'
	-command -v npm >/dev/null && npm install --prefix $(PEERS) --no-audit --no-fund 'wiremock@^3.13'
	-command -v java >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jre-headless; }
	$(BIN)/python -m benchmarks.peers $(ARGS)

# A world shared on Redis against the in-memory store (benchmarks/shared.py): redis-server
# from apt when missing and this runs as root; writes benchmarks/SHARED.json.
.PHONY: bench-shared
bench-shared: $(BIN)/.test
	$(BIN)/python -m benchmarks.shared --out benchmarks/SHARED.json $(ARGS)

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .ruff_cache .peers
