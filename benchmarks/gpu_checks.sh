#!/usr/bin/env bash
# Everything that needs a CUDA GPU, in one run: the tests that skip without one, then bench_gpu.py.
#
# Run from the repository root, with a CUDA build of torch and sklearn_pangu's test
# dependencies importable by $PYTHON (default python3):
#
#   bash benchmarks/gpu_checks.sh --quick     # a few minutes: the tests and a small benchmark
#   bash benchmarks/gpu_checks.sh --record    # the tests and the benchmark, recorded in RESULTS.md
#
# The tests are those whose module or name says gpu or cuda. Arguments go to bench_gpu.py,
# which runs even when a test fails. The exit status is the tests' or, when they pass,
# the benchmark's.
set -uo pipefail
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU'; print(torch.__version__, torch.cuda.get_device_name())" || exit
"$PYTHON" -m pytest -q -rs -p no:cacheprovider tests -k "gpu or cuda"
tests=$?
"$PYTHON" benchmarks/bench_gpu.py "$@"
bench=$?
exit $(( tests ? tests : bench ))
