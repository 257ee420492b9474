# The template's own commands; `make` alone lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := build
# The folder cookiecutter makes for the default answers.
DEMO := $(BUILD)/team-migrations

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint clean bench bench-harness bench-embedded bench-live

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/pytest: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/pytest ## Create .venv with the template's test tools

demo: venv ## Bake the default project into build/, migrate sample data on SQLite, print it
	rm -rf $(DEMO)
	$(BIN)/cookiecutter --no-input --output-dir $(BUILD) .
	$(MAKE) -C $(DEMO) install
	cd $(DEMO) && .venv/bin/python ../../scripts/demo.py

test: venv ## Run the template's tests (bakes and tests generated projects)
	$(BIN)/pytest

bench-harness: venv ## Time the generated harness per revision on a synthetic chain of 100, seeded and not
	$(BIN)/python bench/harness_bench.py

bench-embedded: venv ## Time the generated harness's embedded PostgreSQL: start to first query, stop
	$(BIN)/python bench/embedded_postgres.py

.PHONY: bench-tenants
bench-tenants: venv ## Roll a revision out to 1,000 PostgreSQL tenant schemas (200 MariaDB databases) vs a shell loop
	$(BIN)/python bench/tenants_bench.py $(BENCH_ARGS)

lint: venv ## Ruff lint and format check of the template's own code
	$(BIN)/ruff check tests scripts bench .ci
	$(BIN)/ruff format --check tests scripts bench .ci

bench: venv ## Data migrations at N=1000000 players (N=... to change) vs hand-written SQL
	$(BIN)/python bench/data_migration/main.py --rows $(or $(N),1000000) $(BENCH_ARGS)

bench-live: venv ## Writers' waits during a backfill of N=2000000 players (PostgreSQL, MariaDB)
	$(BIN)/python bench/live_backfill/live_bench.py --rows $(or $(N),2000000) $(BENCH_ARGS)

clean: ## Remove .venv, build/ and caches
	rm -rf $(VENV) $(BUILD) .pytest_cache .ruff_cache
