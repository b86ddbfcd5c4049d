# Two commands on a fresh machine (see README):  make reproduce   and   make test
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= sample
DATA ?=
CAPS ?=
BENCH_OUT ?= benchmarks/out
export TQDM_DISABLE ?= 1

.PHONY: setup setup-dev reproduce test lab sync bench bench-gpu clean-data

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# the course: the package, its notebooks' tools and JupyterLab
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

# dev: the test tools; hub: `datasets` for the download command (its tests run in `make test`)
$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev,hub]"
	touch $@

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

# Main job: every notebook in order on the embedded sample, regenerating figures/ (or DATA=dir PROFILE=full
# [CAPS=epochs=2], into runs/full/)
# (synced first, so an edited notebooks/NN_name.py is what runs)
reproduce: setup
	$(PY) -m jupytext --sync --quiet notebooks/*.ipynb
	$(PY) -m wikiart_utils reproduce --profile $(PROFILE) $(if $(DATA),--data $(DATA)) $(if $(CAPS),--caps $(CAPS))

# Unit tests (including the notebook/.py pair check), then the committed notebooks re-executed and compared by
# nbval, each with its exercises' solutions run as cells after them (written into build/: one run per notebook)
test: setup-dev
	$(PY) -m pytest tests -q --durations=15
	rm -f build/[0-9][0-9]_*.ipynb
	$(PY) tools/hide_solutions.py --unfold-into build
	$(PY) -m pytest --nbval --nbval-current-env build -q --durations=15

# The course in JupyterLab (jupytext keeps each .ipynb and its .py pair in step on save)
lab: setup
	$(PY) -m jupyter lab notebooks/

# Each notebooks/NN_name.ipynb and its jupytext pair NN_name.py: inputs from the newer, outputs kept
sync: setup
	$(PY) -m jupytext --sync notebooks/*.ipynb

# Benchmarks (benchmarks/README.md): the three CPU ones with their defaults (minutes), JSON kept in BENCH_OUT
bench: setup
	$(PY) benchmarks/bench_loader.py --save $(BENCH_OUT)/loader.json
	$(PY) benchmarks/bench_features.py --save $(BENCH_OUT)/features.json
	$(PY) benchmarks/bench_train.py --save $(BENCH_OUT)/train.json

# The GPU one (needs CUDA: without, one line and exit status 2)
bench-gpu: setup
	$(PY) benchmarks/bench_gpu.py --compile --save $(BENCH_OUT)/gpu.json

clean-data:
	rm -rf data/sample
