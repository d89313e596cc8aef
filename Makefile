# Two entry points for a fresh machine (see README): `make reproduce` and `make test`.
# Both create .venv on first use; requirements.txt pins torch==2.13.0 (the CPU wheel).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: reproduce test test-slow lint bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

reproduce: $(VENV)/.installed          ## install, run every quick check, write report/index.html
	$(BIN)/theorylab reproduce --quick -j 2 --out report

test: $(VENV)/.test-installed          ## install, lint, run the test suite (slow ones excluded)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest

test-slow: $(VENV)/.test-installed     ## the long reproductions (full sizes)
	$(BIN)/pytest -m slow

bench: $(VENV)/.installed              ## one table: theory per point, simulation per seed, vs dense linear algebra
	cd benchmarks && ../$(BIN)/python bench_all.py

clean:
	rm -rf $(VENV) report theorylab-results theorylab-jobs
