# Two commands on a fresh machine (see README):  make reproduce   and   make test
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= sample
DATA ?=
export TQDM_DISABLE ?= 1

.PHONY: setup reproduce test clean-data

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

# Main job: every notebook in order on the embedded sample (or DATA=dir PROFILE=full), regenerating figures/
reproduce: setup
	$(PY) -m wikiart_utils reproduce --profile $(PROFILE) $(if $(DATA),--data $(DATA))

# Unit tests, then the committed notebooks re-executed and compared by nbval
test: setup
	$(PY) -m pytest tests -q
	$(PY) -m pytest --nbval --nbval-current-env notebooks -q

clean-data:
	rm -rf data/sample
