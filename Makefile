# Developer tasks. `make test` is the test command; `.ci/run` runs lint, test and notebook.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV  := .venv
BIN   := $(VENV)/bin
# re-install when the declared dependencies change
STAMP := $(VENV)/.installed-from-pyproject
NOTEBOOKS := notebooks
NB_OUT := build/notebooks

.PHONY: help venv demo test lint bench bench-scale bench-war stress validation notebook clean distclean

help:
	@echo "make venv      create $(VENV) (python3.11, else python3) and install -e '.[dev]'"
	@echo "make demo      estimate the seed claims into out/seed"
	@echo "make test      run the tests (pytest -q)"
	@echo "make lint      ruff check, ruff format --check, mypy"
	@echo "make bench     time imports, fits and the CLI; writes docs/benchmarks.md"
	@echo "make bench-scale / bench-war   synthetic scale table / full war fit (docs/scale.md, docs/full_war.md)"
	@echo "make stress    real-shaped cases at defaults and bad-claim scenarios (docs/robustness.md)"
	@echo "make validation  SBC and misspecification studies (hours); writes docs/validation/, docs/trust.md"
	@echo "make notebook  execute notebooks/ with CASUALTY_MODELS_FAST=1 into $(NB_OUT)/"
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
	@touch $@

demo: venv
	$(BIN)/casualty-models estimate seeds/ukraine_2022-03.csv --out out/seed

test: venv
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: venv
	$(BIN)/python benchmarks/bench_seed.py
bench-scale: venv ; $(BIN)/python benchmarks/bench_scale.py $(ARGS)
bench-war: venv ; $(BIN)/python benchmarks/bench_full_war.py $(ARGS)
# real-shaped cases at default settings, and the one-bad-claim scenarios (docs/robustness.md)
stress: venv
	$(BIN)/python benchmarks/stress.py $(ARGS)
	$(BIN)/python -m validation.robustness

# the calibration studies of docs/trust.md (hours on 2 cores; each resumes where it stopped)
validation: venv
	$(BIN)/python -m validation.sbc --n-sims 500 --out docs/validation
	$(BIN)/python -m validation.sbc --running --n-sims 300 --out docs/validation
	$(BIN)/python -m validation.misspecification --n-sims 50 --out docs/validation

# Executes every notebook in $(NOTEBOOKS)/ (a jupytext .py, or an .ipynb without a .py
# twin) with nbclient, in the notebook's own folder so its relative paths work, and saves
# the executed copy to $(NB_OUT)/ so the sources stay clean. Fails if any cell fails.
define RUN_NOTEBOOK
import os, sys, jupytext, nbclient
src, dst = sys.argv[1:]
nb = jupytext.read(src)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
client = nbclient.NotebookClient(nb, timeout=1800, kernel_name="python3",
                                 resources={"metadata": {"path": os.path.dirname(src) or "."}})
client.execute()
jupytext.write(nb, dst)
endef
export RUN_NOTEBOOK

notebook: venv
	@shopt -s nullglob; \
	nbs=(); \
	for f in $(NOTEBOOKS)/*.py $(NOTEBOOKS)/*.ipynb; do \
	  if [[ "$$f" == *.ipynb && -e "$${f%.ipynb}.py" ]]; then continue; fi; \
	  nbs+=("$$f"); \
	done; \
	if [ $${#nbs[@]} -eq 0 ]; then echo "notebook: no notebook in $(NOTEBOOKS)/; nothing to run"; exit 0; fi; \
	mkdir -p $(NB_OUT); \
	for f in "$${nbs[@]}"; do \
	  out="$(NB_OUT)/$$(basename "$${f%.*}").ipynb"; \
	  echo "executing $$f -> $$out (CASUALTY_MODELS_FAST=1)"; \
	  CASUALTY_MODELS_FAST=1 MPLBACKEND=Agg $(BIN)/python -c "$$RUN_NOTEBOOK" "$$f" "$$out"; \
	done

clean:
	rm -rf out build dist .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
