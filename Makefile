# The two commands a new user needs are `make run` and `make test`; everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PYTEST := $(VENV)/bin/pytest
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: help install run test test-unit test-integration test-e2e lint migrate seed chromium bench mutation clean

help:
	@echo "make run    install, migrate, seed the demo and start every process (web, workers, PSP sandbox, Redis if needed)"
	@echo "make test   unit, integration (PostgreSQL + SQLite, Redis) and end-to-end (Chromium) tests"
	@echo "make lint   ruff and mypy"
	@echo "make mutation  mutation testing of the money rules (webapp/domain/, minutes; see docs/testing.md)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) demo seed

run: seed
	$(FLASK) serve

chromium:
	@bash tests/support/ensure-chromium.sh

test: install chromium
	$(PYTEST) tests -n 3 --dist loadfile $(PYTEST_ARGS)

test-unit: install
	$(PYTEST) tests/unit $(PYTEST_ARGS)

test-integration: install
	$(PYTEST) tests/integration $(PYTEST_ARGS)

test-e2e: install chromium
	$(PYTEST) tests/e2e $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: install
	@ls bench/*.py

# Mutation testing of the money rules (webapp/domain/, every module) with the fast unit tests; not part of
# `make test` (minutes on 2 cores). mutmut's progress goes to mutants/run.log; the scores, the surviving mutants
# and the hand-written mutants of tables and properties (which mutmut 3 does not mutate) are printed.
mutation: install
	rm -rf mutants && mkdir mutants
	@echo "mutmut run (progress in mutants/run.log)..."
	@start=$$(date +%s); $(VENV)/bin/mutmut run > mutants/run.log 2>&1 || { tail -40 mutants/run.log; exit 1; }; \
	  echo "mutmut took $$(( $$(date +%s) - start )) s"
	@status=0; \
	  $(PY) tools/mutation/report.py --diffs --min-score 90 || status=1; echo; \
	  $(PY) tools/mutation/table_mutants.py || status=1; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info mutants
