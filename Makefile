# Two commands matter: `make dev` and `make test`. Everything else is a step they share.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed-stamp
TYPED_PATHS := $(wildcard layers/shared/python/saascore contracts/saascontracts functions/edge/edge functions/api/api \
	functions/webhooks/webhooks functions/jobs/jobs local saas_cli infra tests bench)

.PHONY: install dev test lint lint-imports typecheck pytest bench synth migrate clean openapi

$(STAMP): requirements-dev.lock layers/deps/requirements.txt pyproject.toml package.json package-lock.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(UV) pip install --quiet --python $(BIN)/python -r requirements-dev.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP)

dev: install
	$(BIN)/saas dev

test: install lint typecheck pytest

lint: install lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The layering contracts in .importlinter; a broken one prints the import chain and fails the build.
lint-imports: install
	$(BIN)/lint-imports --no-logo --no-cache

typecheck: install
	$(BIN)/mypy $(TYPED_PATHS)

pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

# Regenerate the committed v1 API contract after a deliberate, compatible change (docs/api.md, Versioning).
openapi: install
	$(BIN)/python -m api.openapi_contract write

synth: install
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet

migrate: install
	$(BIN)/saas migrate

clean:
	rm -rf $(VENV) node_modules cdk.out build .mypy_cache .ruff_cache .pytest_cache
