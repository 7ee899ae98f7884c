# Two entry points (see README): `make lab` and `make test`. Everything installs into ./.venv.
# torch==2.13.0 is installed FIRST: an open `torch` requirement would otherwise pull a
# multi-GB CUDA build; with the pin already satisfied pip keeps the CPU wheel.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Lives inside the venv so deleting .venv also forces a reinstall.
STAMP  := $(VENV)/.install-stamp
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
BENCHMARKS := $(wildcard benchmarks/*.py)
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test test-full lint bench install clean train train-latent

lab: $(STAMP)
	mkdir -p notebooks
	$(VENV)/bin/jupyter lab $(LAB_ARGS) notebooks/

# ruff first (seconds: a style or import error fails before the long run), then pytest runs tests/
# plus, through nbmake, every notebook (nbmake only collects .ipynb files), at small sizes:
# SORAKIT_FAST=1 makes each notebook take the same code paths with fewer steps and clips.
# About 12.5 minutes of tests in 2 workers on 2 idle cores (15.5 with the install); the slowest are listed at the end.
# The run is CPU-bound on one core, so pytest-xdist runs it in TEST_WORKERS processes, a test file (or
# notebook) per worker at a time so module fixtures are built once; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: $(STAMP) lint
	SORAKIT_FAST=1 $(PY) -m pytest -q --durations=10 -n $(TEST_WORKERS) --dist loadscope tests $(if $(NOTEBOOKS),--nbmake --nbmake-timeout=600 $(NOTEBOOKS))

# The notebooks at full size, the settings the docs' numbers come from (15+ minutes on 2 idle cores).
# A cell may take 40 minutes, so a machine busy with other work slows the run down instead of failing it.
test-full: $(STAMP)
	SORAKIT_FAST=0 $(PY) -m pytest -q --durations=10 --nbmake --nbmake-timeout=2400 $(NOTEBOOKS)

# Style and import checks ([tool.ruff] in pyproject.toml), notebooks included.
lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Each benchmark prints one JSON document to stdout.
bench: $(STAMP)
	@for f in $(BENCHMARKS); do echo "# $$f" >&2; $(PY) $$f || exit 1; done

install: $(STAMP)

# Continue training the shipped model from the committed resume checkpoint (hours on a CPU; runs in
# the background, logs to runs/shipped.log). Copy runs/shipped/pipeline/* to sorakit/weights/ to ship it.
RESUME := checkpoints/shipped-resume.safetensors
train: $(STAMP)
	mkdir -p runs/shipped
	test -f runs/shipped/checkpoint.safetensors || cp $(RESUME) runs/shipped/checkpoint.safetensors
	nohup $(PY) -m sorakit.cli train --out runs/shipped --steps 12000 --decay-steps 1000 --sample-every 250 --threads 2 >> runs/shipped.log 2>&1 &
	@echo "training in the background: tail -f runs/shipped.log"

# The latent model (64x64, 24 frames, 16x16-pixel tokens) on the committed autoencoder's latents, continued from the
# committed slim resume checkpoint (bf16 weights, AdamW restarts; hours on a CPU; logs to runs/latent.log).
LATENT_RESUME := checkpoints/latent-resume.safetensors
# LATENT_THREADS=1 leaves a core for other work beside the run
LATENT_THREADS ?= 2
train-latent: $(STAMP)
	mkdir -p runs/latent
	test -f runs/latent/checkpoint.safetensors || cp $(LATENT_RESUME) runs/latent/checkpoint.safetensors
	nohup $(PY) -m sorakit.cli train --vae checkpoints/autoencoder --out runs/latent --height 64 --width 64 \
		--num-frames 24 --batch-size 8 --heads 3 --layers 6 --patch 4 --frame-noise 0.5 --sample-every 400 \
		--checkpoint-every 50 --steps 20000 --threads $(LATENT_THREADS) >> runs/latent.log 2>&1 &
	@echo "training in the background: tail -f runs/latent.log"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the package's dependencies (pyproject.toml) or its package layout (setup.py) change.
$(STAMP): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[dev,demo]"
	$(PY) -m pip install --no-deps invisible-watermark PyWavelets  # the invisible mark, without GUI OpenCV
	touch $(STAMP)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
