#!/usr/bin/env bash
# Runs Nengo 4.1 and rnnc on the same problems and prints the ratios (bench/README.md).
# Nengo comes from PyPI into bench/.venv on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x bench/.venv/bin/python ]; then
    python3 -m venv bench/.venv
fi
bench/.venv/bin/python -c "import nengo" 2>/dev/null || bench/.venv/bin/pip install --quiet "nengo==4.1.0" numpy
mkdir -p bench/results
# Single-threaded BLAS, as the anchors measure (../shared/anchors/nengo_extras_anchor.py).
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    bench/.venv/bin/python bench/nengo_side.py bench/results/nengo.json
cargo bench --bench nef
