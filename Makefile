# auditlens — every target does its own set-up, idempotently.
#   make run    set up, start a local Kafka, train a model, serve, stream a test period
#   make test   set up, then lint (ruff), type-check (mypy) and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.8
VENV := .venv
PY := $(VENV)/bin/python
UV := python3 -m uv
STAMP := $(VENV)/.synced
# Helm for the chart checks, built from the Go module proxy into a cache outside git.
HELM_VERSION := v3.22.0
HELM := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/auditlens/helm-$(HELM_VERSION)/helm

.PHONY: help setup python-deps postgres chromium kafka helm lint test run bench sbom clean

help:
	@echo "make run    set up everything and run auditlens on a local Kafka (Ctrl-C stops)"
	@echo "make test   set up everything, lint, type-check and run the test suite"

setup: python-deps postgres chromium kafka helm

# Python packages exactly as locked in uv.lock.
python-deps: $(STAMP)
$(STAMP): uv.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --frozen --all-extras
	@touch $@

# PostgreSQL server binaries for the store tests (Debian/Ubuntu package `postgresql`).
postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "PostgreSQL: found"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "PostgreSQL: installing Debian package postgresql"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
	  echo "PostgreSQL server binaries are missing: install the postgresql package (apt-get install postgresql) or set AUDITLENS_TEST_POSTGRES_URL" >&2; exit 2; \
	fi

# Chromium for the console's browser tests, driven by Playwright (Debian package `chromium`;
# Playwright's own browser download is never used). AUDITLENS_TEST_CHROMIUM names another binary.
CHROMIUM ?= $(or $(AUDITLENS_TEST_CHROMIUM),/usr/bin/chromium)
chromium:
	@if [ -x "$(CHROMIUM)" ]; then \
	  echo "Chromium: found $(CHROMIUM)"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Chromium: installing Debian package chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "Chromium is missing: install the chromium package (apt-get install chromium) or set AUDITLENS_TEST_CHROMIUM" >&2; exit 2; \
	fi

# Apache Kafka broker jars, resolved by Maven into ~/.cache/auditlens (skipped for an external cluster).
kafka: python-deps
	@if [ -n "$$AUDITLENS_KAFKA_BOOTSTRAP_SERVERS" ]; then \
	  echo "Kafka: using $$AUDITLENS_KAFKA_BOOTSTRAP_SERVERS"; \
	else \
	  $(PY) -m service.localstack.kafka fetch >/dev/null && echo "Kafka: broker jars ready"; \
	fi

helm: $(HELM)
$(HELM):
	@command -v go >/dev/null 2>&1 || { echo "Go is needed to build Helm (go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION))" >&2; exit 2; }
	@echo "Helm: building $(HELM_VERSION) from the Go module proxy"
	GOBIN=$(dir $(HELM)) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

lint: python-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Two pytest-xdist workers, each with its own broker and PostgreSQL; a file's tests stay on
# one worker (they share its module fixtures). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: setup lint sbom
	HELM=$(HELM) AUDITLENS_TEST_CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile

run: setup
	bash deploy/run.sh

# Throughput, latency and memory, written to benchmarks/results/ (BENCH_ARGS=--quick for a smoke run);
# the bench dependency group adds the peers it compares with (River).
bench: setup
	$(UV) sync --frozen --all-extras --group bench
	$(PY) -m benchmarks.run $(BENCH_ARGS)

# Release artifacts with their bill of materials and provenance, in dist/: the wheel and
# sdist (reproducible: SOURCE_DATE_EPOCH is the commit's time), a CycloneDX SBOM of the
# locked runtime environment (what the image installs) and an in-toto provenance statement.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 315532800)
sbom: python-deps
	rm -rf dist && mkdir -p dist
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(UV) build --no-build-isolation --python $(PY) --out-dir dist
	$(UV) export --frozen --no-dev --extra postgres --extra s3 --no-emit-project --no-header \
	  --format requirements-txt --output-file dist/requirements.lock.txt
	$(VENV)/bin/cyclonedx-py requirements dist/requirements.lock.txt --pyproject pyproject.toml \
	  --mc-type application --sv 1.6 --of JSON --output-reproducible --validate \
	  -o dist/auditlens.cdx.json
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(PY) deploy/provenance.py --sbom dist/auditlens.cdx.json \
	  --out dist/provenance.intoto.json dist/*.whl dist/*.tar.gz

clean:
	rm -rf .auditlens .pytest_cache .mypy_cache .ruff_cache
