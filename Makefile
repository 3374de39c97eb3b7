# Rolltext — the two commands a newcomer needs: `make run` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PGHOST  ?= 127.0.0.1
export TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@$(PGHOST):5432/test

# Debian packages the test suite drives for real: Chromium (browser tests), LibreOffice (documents).
SYSTEM_PACKAGES := chromium libreoffice-writer-nogui python3-uno fonts-liberation

.PHONY: run test install migrate demo lint bench postgres system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/alembic upgrade head

demo: migrate
	$(BIN)/rolltext demo

run: demo
	$(BIN)/rolltext serve --host 127.0.0.1 --port 8000

postgres:
	@pg_isready -q -h $(PGHOST) -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h $(PGHOST) -p 5432 && exit 0; sleep 1; done; \
	  echo "PostgreSQL is not reachable on $(PGHOST):5432" >&2; exit 1

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

test: install postgres system-deps
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install postgres
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) rolltext.db .pytest_cache
