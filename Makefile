# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch; an unpinned torch would pull a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)

.PHONY: demo test lint install docs bench bench-peers clean

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_PIN)"
	$(BIN)/python -m pip install --quiet -e ".[test,docs,onnx]" "$(TORCH_PIN)"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo_census.py

lint: $(STAMP)
	$(BIN)/ruff check sklearn_pangu tests examples benchmarks
	$(BIN)/ruff format --check sklearn_pangu tests examples benchmarks

# Two pytest worker processes: most tests are single-threaded Python, so on two cores the
# suite takes about 60% of its serial time. `make test TEST_WORKERS=0` runs it serially.
TEST_WORKERS ?= 2

test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# The documentation site, offline, into docs/_build/html; Sphinx warnings are errors.
docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

# A separate environment for the peer libraries: never dependencies of the package.
# DeepCTR-Torch imports requests without declaring it.
BENCH_VENV := .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)

$(BENCH_STAMP):
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet "$(TORCH_PIN)"
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . "deepctr-torch==0.3.0" "torch-rechub==0.9.0" requests "$(TORCH_PIN)"
	rm -f $(BENCH_VENV)/.installed-*
	touch $@

bench-peers: $(BENCH_STAMP)

# The benchmark suite (benchmarks/README.md), each script in its quick run: a check that
# all of it runs, recording nothing. `make bench BENCH=--record` runs the full suite and
# records it in benchmarks/RESULTS.md: hours, on an otherwise idle machine.
BENCH ?= --quick

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench_quality.py $(BENCH)
	$(BIN)/python benchmarks/bench_sequences.py $(BENCH)
	$(BIN)/python benchmarks/bench_peers.py $(BENCH)
	$(BIN)/python benchmarks/bench_peers.py --zoo $(BENCH)
	$(BIN)/python benchmarks/bench_encoder.py $(BENCH)
	$(BIN)/python benchmarks/bench_latency.py $(BENCH)
	$(BIN)/python benchmarks/bench_gpu.py $(BENCH)

clean:
	rm -rf $(VENV) $(BENCH_VENV) docs/_build docs/auto_examples docs/api/generated
