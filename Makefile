# Two commands start everything: `make run` and `make test` (see README.md).
VENV := .venv/bin

.PHONY: setup services run test check lint types unit integration bench

setup:
	bash scripts/setup.sh

run: setup
	$(VENV)/tether serve

# PostgreSQL and Debian's Chromium for the integration tests (installed once, if missing).
services:
	bash scripts/test_services.sh

test: setup services check

check: lint types
	$(VENV)/pytest -m "not integration" -q -n auto
	$(VENV)/pytest -m integration -q

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/lint-imports

types:
	$(VENV)/mypy

unit:
	$(VENV)/pytest -m "not integration" -q -n auto

integration:
	$(VENV)/pytest -m integration -q

bench:
	$(VENV)/tether eval latency
