# Liaison CRM. Two commands on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
# The first Python 3.11+ that actually runs (pyenv shims can exist for versions that are not installed).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev lint format migrate seed worker bench stress clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Liaison CRM needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo --if-empty

## run: install, migrate, seed demo data if empty, serve on http://$(HOST):$(PORT) with a Celery worker and beat.
run: seed
	HOST=$(HOST) PORT=$(PORT) BIN=$(BIN) scripts/run-dev

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## test: lint, migrations and system checks, then every test (browser tests need Chromium).
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## stress: load and fault tests against gunicorn, PostgreSQL and Redis (they stop and restart
## those services; needs DATABASE_URL and REDIS_URL). STRESS_SCALE sizes the data (default 1).
stress: install-dev
	$(BIN)/python -m pytest -m stress tests/stress -s $(PYTEST_ARGS)

## bench: load a decade of data into a separate PostgreSQL database (liaison_bench) and measure every
## page, throughput, reminder dispatch and import against the budgets: bench/results.md. SCALE=0.01 shrinks it.
SCALE ?= 1.0
bench: install
	$(BIN)/python -m bench.run --scale $(SCALE) $(BENCH_ARGS)

worker: install
	$(BIN)/celery -A liaison_crm.celery:app worker --beat --loglevel=info

clean:
	rm -rf $(VENV) .celery staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
