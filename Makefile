# flask-maventa: the two commands of the README, and their helpers.
#   make demo   the example ERP with the extension, the sandbox Maventa, Redis, RQ worker and scheduler
#   make test   the whole suite (CI=true: a test that needs a missing service fails instead of skipping)

PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
HTMX    = example_app/static/vendor/htmx.min.js

.PHONY: install htmx demo test bench clean-demo

# A fresh machine has only Python 3.11: make the virtual environment and install into it.
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test,demo]'
	touch $@

# htmx from the npm registry, pinned and integrity checked (example_app/vendor_htmx.py holds the values).
htmx: $(HTMX)

$(HTMX):
	$(PY) -m example_app.vendor_htmx

demo: install htmx
	$(PY) -m example_app.demo

test: install htmx
	PYTHONPATH=.ci $(VENV)/bin/pytest -p skip_summary tests/ $(PYTEST_ARGS)

bench: install
	@set -e; for script in benchmarks/*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(PY) $$script; done

clean-demo:
	rm -rf instance/example.db instance/logs
