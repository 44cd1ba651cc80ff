# BodegaPOS — the two commands: `make run` and `make test`.
#
# With DATABASE_URL unset, both use the embedded PostgreSQL (pgserver, data in .pgdata/).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000

.PHONY: run test venv migrate seed db-stop clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --password demo1234 --history-days 30

# Start web, SUNAT worker and fake SUNAT with demo data on http://127.0.0.1:$(PORT).
run: seed
	$(PY) -m bodegapos.devserver --port $(PORT)

# The whole suite (unit, concurrency, browser). Browser tests skip with a reason when
# Debian's chromium is absent; PgBouncer tests likewise without pgbouncer.
test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

db-stop: venv
	$(PY) -m bodegapos.embedded_db stop

clean: db-stop
	rm -rf .pgdata staticfiles .pytest_cache
