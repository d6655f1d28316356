# Developer tasks. `make test` is the test command; `.ci/run` runs lint, test, notebook, docs
# and browser-check.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV  := .venv
BIN   := $(VENV)/bin
# re-install when the declared dependencies change
STAMP := $(VENV)/.installed-from-pyproject
NOTEBOOKS := notebooks
NB_OUT := build/notebooks
# the notebooks tools/run_notebooks.py runs: each .py, and each .ipynb without a .py twin
NB_SOURCES := $(wildcard $(NOTEBOOKS)/*.py) \
  $(filter-out $(patsubst %.py,%.ipynb,$(wildcard $(NOTEBOOKS)/*.py)),$(wildcard $(NOTEBOOKS)/*.ipynb))
NB_EXECUTED := $(patsubst $(NOTEBOOKS)/%,$(NB_OUT)/%.ipynb,$(basename $(NB_SOURCES)))
# mkdocs.yml's docs_dir: docs/ and the executed notebooks, staged together
DOCS_STAGE := build/docs
SITE := build/site

.PHONY: report-screenshot surface-screenshots help venv demo test lint bench bench-scale bench-war bench-speed bench-compile bench-update bench-peer bench-jax stress validation notebook docs \
  browser-check clean distclean

help:
	@echo "make venv      create $(VENV) (python3.11, else python3), install -e '.[dev]', compile the model"
	@echo "make demo      estimate the seed claims into out/seed"
	@echo "make test      run the tests (pytest, one worker per core), except the browser check"
	@echo "make lint      ruff check, ruff format --check, mypy"
	@echo "make bench     time imports, fits and the CLI; writes docs/benchmarks_seed.md"
	@echo "make bench-scale / bench-war   synthetic scale table / full war fit (docs/scale.md, docs/full_war.md)"
	@echo "make bench-speed  issue 13's goal cases in fresh processes, waiting for a quiet machine"
	@echo "make bench-compile  issue 26's goals (compile once) as ratios to references timed in the same run"
	@echo "make bench-update   issue 26's update goal: update of the whole war with a month more claims / a fresh estimate"
	@echo "make bench-jax    the same cases through JAX (numpyro, nutpie's JAX backend), in .venv-jax"
	@echo "make bench-peer   the peer's Stan model (PyStan, .venv-peer) against ours on its data"
	@echo "make stress    real-shaped cases at defaults and bad-claim scenarios (docs/robustness.md)"
	@echo "make validation  SBC and misspecification studies (hours); writes docs/validation/, docs/trust.md"
	@echo "make notebook  execute notebooks/ with CASUALTY_MODELS_FAST=1 into $(NB_OUT)/"
	@echo "make docs      build the site (mkdocs --strict) into $(SITE)/, notebooks included"
	@echo "               (executes a notebook first if its $(NB_OUT)/ copy is missing or older)"
	@echo "make browser-check  open a seed report.html in headless Chromium (pytest -m browser;"
	@echo "               needs apt packages chromium and chromium-driver)"
	@echo "make report-screenshot  fit the whole war, screenshot its report at 1280x800 (docs/report_screenshot.png)"
	@echo "make surface-screenshots  notebook displays, report tooltip, API page, examples command (docs/screenshots/)"
	@echo "make clean     remove outputs and caches (distclean also removes $(VENV))"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  py=$$(command -v python3.11 || command -v python3 || true); \
	  if [ -z "$$py" ]; then echo "error: need python3.11 (or python3 >= 3.11) on PATH" >&2; exit 1; fi; \
	  echo "creating $(VENV) with $$py"; \
	  "$$py" -m venv $(VENV); \
	fi
	$(BIN)/pip install --quiet -e '.[dev]'
	@# the model is compiled once per machine and version (minutes): here, not in a first fit
	$(BIN)/python -c "from casualty_models._compiled import warm_up; print(warm_up())"
	@touch $@

demo: venv
	$(BIN)/casualty-models estimate seeds/ukraine_2022-03.csv --out out/seed

test: venv
	@# one worker per core; a file's tests stay on one worker, so its fixtures fit once
	$(BIN)/pytest -q -n auto --dist loadfile -m "not browser"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: venv
	$(BIN)/python benchmarks/bench_seed.py
bench-scale: venv ; $(BIN)/python benchmarks/bench_scale.py $(ARGS)
bench-war: venv ; $(BIN)/python benchmarks/bench_full_war.py $(ARGS)
bench-speed: venv ; $(BIN)/python benchmarks/bench_speed.py $(ARGS)
bench-compile: venv ; $(BIN)/python benchmarks/bench_compile_once.py $(ARGS)
bench-update: venv ; $(BIN)/python benchmarks/bench_update.py $(ARGS)
# the peer's Stan model on its own data against ours (docs/benchmarks.md); PyStan in its own venv
bench-peer: venv
	@if [ ! -x .venv-peer/bin/python ]; then \
	  "$$(command -v python3.11 || command -v python3)" -m venv .venv-peer; fi
	.venv-peer/bin/pip install --quiet 'pystan>=3.10,<4' pandas
	$(BIN)/python benchmarks/bench_peer.py $(ARGS)
# the JAX routes, tried and not taken (docs/benchmarks.md): numpyro's NUTS through PyMC, and
# nutpie's JAX backend; jax and numpyro are no dependency of the library, so their own venv
bench-jax: venv
	@if [ ! -x .venv-jax/bin/python ]; then \
	  "$$(command -v python3.11 || command -v python3)" -m venv .venv-jax; fi
	.venv-jax/bin/pip install --quiet -e . 'jax>=0.10,<0.11' 'numpyro>=0.22,<0.23'
	.venv-jax/bin/python benchmarks/bench_speed.py --way numpyro --cases seed-cold,pnas $(ARGS)
	.venv-jax/bin/python benchmarks/bench_speed.py --way nutpie-jax --cases pnas,full-war $(ARGS)
# real-shaped cases at default settings, and the one-bad-claim scenarios (docs/robustness.md)
stress: venv
	$(BIN)/python benchmarks/stress.py $(ARGS)
	$(BIN)/python -m validation.robustness

# the calibration studies of docs/trust.md (hours on 2 cores; each resumes where it stopped)
validation: venv
	$(BIN)/python -m validation.sbc --n-sims 500 --out docs/validation
	$(BIN)/python -m validation.sbc --running --n-sims 300 --out docs/validation
	$(BIN)/python -m validation.sbc --fit-defaults --n-sims 300
	$(BIN)/python -m validation.sbc --fit-defaults --running --n-sims 300
	$(BIN)/python -m validation.sbc --fit-defaults --late --n-sims 200
	$(BIN)/python -m validation.misspecification --n-sims 50 --out docs/validation

# Executes every notebook (tools/run_notebooks.py: CASUALTY_MODELS_FAST=1, in the
# notebook's folder) into $(NB_OUT)/; the sources stay clean. Fails if any cell fails.
notebook: venv
	$(BIN)/python tools/run_notebooks.py --out $(NB_OUT)

$(NB_OUT)/%.ipynb: $(NOTEBOOKS)/%.py | venv
	$(BIN)/python tools/run_notebooks.py --out $(NB_OUT) $<
$(NB_OUT)/%.ipynb: $(NOTEBOOKS)/%.ipynb | venv
	$(BIN)/python tools/run_notebooks.py --out $(NB_OUT) $<

# The site: docs/ plus the executed notebooks, staged in $(DOCS_STAGE)/ (mkdocs.yml's
# docs_dir), built strict: a broken link or anchor, or a page missing from the nav, fails.
docs: venv $(NB_EXECUTED)
	rm -rf $(DOCS_STAGE)
	mkdir -p $(DOCS_STAGE)/notebooks
	cp -R docs/. $(DOCS_STAGE)/
	$(if $(NB_EXECUTED),cp $(NB_EXECUTED) $(DOCS_STAGE)/notebooks/)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --clean --site-dir $(SITE)
	@echo "docs: open $(SITE)/index.html"

# report.html in headless Chromium (tests/test_report_browser.py; one short MCMC fit).
# Skips without chromium/chromedriver unless CASUALTY_MODELS_REQUIRE_BROWSER=1 (.ci/run).
browser-check: venv
	$(BIN)/pytest -q -m browser

# docs/report_screenshot.png: the whole-war report at 1280x800 (fits both war files first)
report-screenshot: venv
	$(BIN)/python tools/report_screenshot.py $(ARGS)

# docs/screenshots/: where users meet the library (two short seed fits; needs chromium)
surface-screenshots: venv
	$(BIN)/python tools/surface_screenshots.py $(ARGS)

clean:
	rm -rf out build dist .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
