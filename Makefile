# flask-maventa: the two commands of the README, and their helpers.
#   make demo   the example ERP with the extension, the sandbox Maventa, Redis, RQ worker and scheduler
#   make test   the whole suite (CI=true: a test that needs a missing service fails instead of skipping)
#   make lint   ruff (whole repository), mypy --strict and import-linter (package); make test runs it first

PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
HTMX    = example_app/static/vendor/htmx.min.js
NPM_CLIENT = tests/thirdparty/maventa-api-client
AXE     = tests/thirdparty/axe-core
# One line per setup phase; with STEP_LOG set the phase's own output goes to that file (make demo).
STEP    = sh scripts/step
SETUP_LOG ?= .demo/setup.log

.PHONY: install htmx npm-client axe demo test lint bench clean-demo

# A fresh machine has only Python 3.11: make the virtual environment and install into it.
install: $(VENV)/.installed

$(PY):
	@$(STEP) "creating the virtual environment $(VENV) with $(PYTHON)" $(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	@$(STEP) "upgrading pip" $(PY) -m pip install --upgrade pip
	@$(STEP) "installing flask-maventa and its dependencies from PyPI (a few minutes the first time)" \
		$(PY) -m pip install -e '.[test,demo]'
	@touch $@

# htmx from the npm registry, pinned and integrity checked (example_app/vendor_htmx.py holds the values).
htmx: $(HTMX)

$(HTMX):
	@$(STEP) "fetching htmx from the npm registry" $(PY) -m example_app.vendor_htmx

# A third-party Maventa client from the npm registry, pinned by its lock file, for the sandbox test
# (tests/sandbox/test_third_party_client.py). Without npm it is skipped locally (CI installs npm).
npm-client: $(NPM_CLIENT)/node_modules/.installed

$(NPM_CLIENT)/node_modules/.installed: $(NPM_CLIENT)/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd $(NPM_CLIENT) && npm ci --no-audit --no-fund --ignore-scripts && touch node_modules/.installed; \
	else echo "npm not found: the third-party client test will be skipped (CI=true: it fails)"; fi

# axe-core from the npm registry, pinned by its lock file (version + sha512 integrity, checked by npm ci), for
# the accessibility checks the page tests inject into every page (tests/pages/). Without npm they are
# skipped locally (CI=true: they fail).
axe: $(AXE)/node_modules/.installed

$(AXE)/node_modules/.installed: $(AXE)/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd $(AXE) && npm ci --no-audit --no-fund --ignore-scripts && touch node_modules/.installed; \
	else echo "npm not found: the accessibility checks will be skipped (CI=true: they fail)"; fi

# The setup's output goes to $(SETUP_LOG); the demo itself prints one line per process it starts.
# DEMO_PORT, DEMO_SANDBOX_PORT and DEMO_KEEP_DATA=1 (make demo DEMO_PORT=5001) go to example_app.demo.
demo:
	@mkdir -p $(dir $(SETUP_LOG)) && : >$(SETUP_LOG)
	@STEP_LOG="$(abspath $(SETUP_LOG))" $(MAKE) --no-print-directory -s install htmx
	@$(PY) -m example_app.demo

# Lint first; then the suite (pytest-xdist: each worker starts its own Redis, PostgreSQL, SMTP server and
# browser), and how long it took. One worker more than the machine has cores: a third of the time a worker
# waits on its processes (a worker starting, a browser loading, a lease running out), and the extra one fills
# it (on 2 cores the same tests took ~380 s instead of ~435 s, the CPU spent the same).
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)' 2>/dev/null || echo auto)
# Bytecode is written during the run even where the environment says not to (PYTHONDONTWRITEBYTECODE=1 on
# some CI images): otherwise every `flask maventa ...` process the tests start compiles the package again
# (~0.3 s of CPU each, ~150 of them) and every xdist worker rewrites every test module's asserts (~6 s each).
test: install htmx npm-client axe lint
	@start=$$(date +%s); env -u PYTHONDONTWRITEBYTECODE PYTHONPATH=.ci $(VENV)/bin/pytest -p skip_summary -n $(TEST_WORKERS) --dist loadgroup tests/ $(PYTEST_ARGS); \
	  status=$$?; echo "make test: the suite took $$(( $$(date +%s) - start )) s"; exit $$status

# ruff over the whole repository (tests, benchmarks, example app too), mypy --strict over the whole package,
# then import-linter's contracts (pyproject.toml): 0 findings.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy flask_maventa
	$(VENV)/bin/lint-imports

bench: install
	@set -e; for script in benchmarks/[!_]*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(PY) $$script; done

# The demo's database, secret key and logs (never while a demo runs from that folder: its lock says so).
INSTANCE = $(or $(EXAMPLE_INSTANCE_PATH),instance)
clean-demo:
	@if [ -e $(INSTANCE)/demo.lock ] && command -v flock >/dev/null && ! flock -n $(INSTANCE)/demo.lock true; then \
	  echo "a demo is running from $(INSTANCE)/: stop it first (Ctrl-C in its terminal)"; exit 1; fi
	rm -rf $(INSTANCE)/example.db $(INSTANCE)/maventa_secret.key $(INSTANCE)/logs $(SETUP_LOG)
