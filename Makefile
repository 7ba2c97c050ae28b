# The two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOGS := $(patsubst %.po,%.mo,$(wildcard i18n/locales/*/LC_MESSAGES/messages.po))

.PHONY: run test install catalogs migrate seed lint typecheck extract-messages bench clean

run: install catalogs
	$(BIN)/python devstack.py

# Two pytest workers (pytest-xdist), each with its own databases and Temporal test server: the
# suite waits on servers and timers more than it computes; tests sharing one outside resource
# (the PostgreSQL database) are an xdist_group. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
test: install catalogs
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

catalogs: $(CATALOGS)

i18n/locales/%/LC_MESSAGES/messages.mo: i18n/locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d i18n/locales -D messages -l $* >/dev/null

migrate: install
	$(BIN)/alembic upgrade head

seed: migrate
	$(BIN)/python -m models.seed

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# mypy over the package (strict on workflows/, models/ and activities/; see pyproject.toml).
typecheck: install
	$(BIN)/mypy

# Re-extract translatable strings after changing templates or messages; then translate
# i18n/locales/zh_CN/LC_MESSAGES/messages.po and `make catalogs`.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -o i18n/messages.pot .
	$(BIN)/pybabel update -i i18n/messages.pot -d i18n/locales -D messages --no-fuzzy-matching

bench: install
	$(BIN)/python bench/order_flow.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
