# socialbiz — `make run` serves the demo, `make test` runs the whole suite. Both set up .venv themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Embedded mode needs no secrets; production mode (DATABASE_URL, REDIS_URL, SECRET_KEY) is set by the environment.
export DEBUG ?= true

.PHONY: run test check lint format typecheck migrate demo worker beat bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("socialbiz needs Python >= 3.11; set PYTHON=python3.11 or newer") if sys.version_info < (3, 11) else None'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The browser tests' JavaScript tools (axe-core), from package-lock.json. Without npm the accessibility tests are
# skipped and say why, as the browser tests are without chromium.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else \
		echo "npm is not installed: the accessibility tests will be skipped (apt-get install npm)"; \
	fi

migrate: $(STAMP)
	@mkdir -p var
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --if-empty --url http://$(HOST):$(PORT)

run: demo
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	DEBUG=true $(VENV)/bin/mypy */services.py */services/*.py */selectors.py purchases/calendar.py purchases/money.py reviews/limits.py products/access.py core/*.py core/gs1/*.py

check: lint typecheck $(NODE_STAMP)
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

worker: $(STAMP)
	$(VENV)/bin/celery -A socialbiz worker --loglevel=info

beat: $(STAMP)
	@mkdir -p var
	$(VENV)/bin/celery -A socialbiz beat --loglevel=info --schedule var/celerybeat-schedule

bench: $(STAMP)
	@set -e; shopt -s nullglob; for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

# Refresh constraints.txt (the lock) from the ranges in pyproject.toml in a throw-away venv.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) node_modules var/socialbiz.sqlite3* var/static .pytest_cache .ruff_cache .mypy_cache
