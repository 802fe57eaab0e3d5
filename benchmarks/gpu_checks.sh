#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one run: the tests that skip without one, then bench_gpu.py.
#
# Run from the repository root with a CUDA build of torch and sklearn_pangu's dependencies
# importable by $PYTHON (default python3). bench_gpu.py runs even when a test fails, and
# records its tables in benchmarks/RESULTS.md; extra arguments go to it. The exit status
# is the tests' or, when they pass, the benchmark's.
set -uo pipefail
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU'; print(torch.__version__, torch.cuda.get_device_name())" || exit
"$PYTHON" -m pytest -q -rs tests/test_gpu.py \
    tests/test_estimators.py::test_trains_on_gpu_and_predicts_on_cpu \
    tests/test_io.py::test_gpu_trained_model_loads_on_cpu \
    tests/test_io.py::test_model_saved_for_a_missing_gpu_loads_on_cpu
tests=$?
"$PYTHON" benchmarks/bench_gpu.py "$@"
bench=$?
exit $(( tests ? tests : bench ))
