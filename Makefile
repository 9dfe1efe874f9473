# hwr: `make demo` sets up and runs the main job offline; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := out/demo
# torch 2.13.0 is the CPU build this project is developed and tested with.
TORCH ?= torch==2.13.0

.PHONY: setup fonts demo test test-web quality style bench bench-iam clean

$(BIN)/hwr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev,serve,pages,scale,web,lm]"
	touch $(BIN)/hwr

setup: $(BIN)/hwr

# The handwriting fonts behind synthetic lines (npm and Debian registries; pinned and verified).
fonts: setup
	$(BIN)/hwr fonts fetch

# The main job on the bundled model, no IAM and no network beyond the package registries (the
# handwriting fonts behind synthetic lines come from the npm and Debian registries, pinned and
# verified): train a tiny model for a minute on synthetic lines, export the bundled model to
# every format, transcribe synthetic sample lines with each runtime, and print the benchmark
# table with the parity gate (int8 within 0.5 CER points). One thread: this small LSTM model
# gains little from two, and two OpenMP threads stall each other when another job holds a core.
demo: fonts
	rm -rf $(DEMO)
	$(BIN)/hwr models
	$(BIN)/hwr train --data synthetic:256 --preset tiny --epochs 2 --lr 3e-3 --warmup-steps 10 --val-limit 32 --threads 1 --out $(DEMO)/tiny-run
	$(BIN)/hwr synth --count 6 --seed 7 --out $(DEMO)/lines
	$(BIN)/hwr export --format all --int8 --fp16 --out $(DEMO)/export
	$(BIN)/hwr transcribe $(DEMO)/export/hwr-wide-iam.onnx $(DEMO)/lines
	$(BIN)/hwr transcribe $(DEMO)/export/hwr-wide-iam.int8.onnx $(DEMO)/lines
	$(BIN)/hwr bench --data synthetic:64 --limit 48 --seed-lines 5 --threads 1 --check --markdown $(DEMO)/bench.md

test: setup
	$(BIN)/python -m pytest -q

# The recognizer in a real browser (needs npm and Debian's chromium; .ci/run installs both):
# ONNX Runtime Web from the lockfile, then tests/web/browser_parity.py (parity with Python on
# int8 and fp32, bad input, offline canvas, screenshot, browser vs native timings).
CHROMIUM ?= $(shell command -v chromium || echo /usr/bin/chromium)
test-web: setup
	cd runtimes/web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python tests/web/browser_parity.py --chromium $(CHROMIUM) --out out/web-test

quality: setup
	$(BIN)/ruff check hwr_export runtimes tests
	$(BIN)/ruff format --check hwr_export runtimes tests
	$(BIN)/mypy  # pyproject.toml [tool.mypy]: hwr_export and runtimes, runtimes/ strictly

style: setup
	$(BIN)/ruff format hwr_export runtimes tests
	$(BIN)/ruff check --fix hwr_export runtimes tests

# Re-record the benchmark on this machine (needs ../shared/data/iam-lines-64).
bench: setup
	$(BIN)/hwr bench --data ../shared/data/iam-lines-64 --limit 60 --check

clean:
	rm -rf out build *.egg-info
