#!/usr/bin/env bash
# Runs Nengo 4.1 and rnnc on the same problems and prints the ratios (bench/README.md).
# Nengo comes from PyPI into bench/.venv on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x bench/.venv/bin/python ]; then
    python3 -m venv bench/.venv
fi
bench/.venv/bin/python -c "import nengo" 2>/dev/null || bench/.venv/bin/pip install --quiet "nengo==4.1.0" numpy
bench/.venv/bin/python -c "import reservoirpy" 2>/dev/null || bench/.venv/bin/pip install --quiet "reservoirpy==0.4.2" scipy
mkdir -p bench/results
# Single-threaded BLAS, as the anchors measure (../shared/anchors/nengo_extras_anchor.py).
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    bench/.venv/bin/python bench/nengo_side.py bench/results/nengo.json
cargo bench --bench nef
# ReservoirPy's Lorenz ESN with the best of the anchor's own --tune grid at N = 500
# (sr 0.9, lr 1.0, input scaling 0.1, ridge 1e-8, bias 0.5: 9.75 Lyapunov times at seed 0).
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    bench/.venv/bin/python ../shared/anchors/rc_lorenz_esn.py --units 500 2000 --seeds 0 1 2 \
    --sr 0.9 --lr 1.0 --iss 0.1 --ridge 1e-8 --bias 0.5 --json bench/results/reservoirpy.json
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    bench/.venv/bin/python ../shared/anchors/rc_throughput.py --units 100 500 2000 --steps 5000 \
    --repeats 3 | tee bench/results/rc_throughput.txt
cargo bench --bench reservoir
