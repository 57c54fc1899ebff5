#!/usr/bin/env python
"""Nengo 4.1's side of the rnnc benchmark (bench/README.md): the same problems, timed here,
written as JSON for `cargo bench --bench nef` to print ratios against.

Problems (dt = 1 ms, tau = 100 ms, LIFRate neurons so both sides simulate rate networks):
  integrator N = 100, 1000; oscillator 1 Hz N = 200, 2000; Lorenz rho = 28 N = 2000
  (build seconds, simulated neuron-steps per second over 2 s);
  scaling: a 1-D integrator at N = 1000, 3000, 6000, each built in a fresh subprocess
  (build seconds, peak RSS);
  dense: numpy's single-threaded matrix-vector product at N = 2000, and Nengo with
  LstsqL2(weights=True) on the oscillator (seconds per step).
usage: nengo_side.py OUT.json
"""
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

DT, TAU, T = 0.001, 0.1, 2.0


def build_and_run(kind, n, run=True):
    import nengo

    # Every build solves its decoders (the cache would turn repeated builds into lookups).
    nengo.rc["decoder_cache"]["enabled"] = "False"

    with nengo.Network(seed=1) as net:
        if kind == "integrator":
            u = nengo.Node(lambda t: 1.0 if 0.2 <= t < 0.3 else 0.0)
            ens = nengo.Ensemble(n, 1, neuron_type=nengo.LIFRate())
            nengo.Connection(ens, ens, synapse=TAU)
            nengo.Connection(u, ens, transform=TAU, synapse=TAU)
        elif kind == "oscillator":
            w = 2 * np.pi
            ens = nengo.Ensemble(n, 2, neuron_type=nengo.LIFRate())
            kick = nengo.Node(lambda t: [0.8, 0] if t < 0.1 else [0, 0])
            nengo.Connection(kick, ens)
            nengo.Connection(ens, ens, transform=[[1, -w * TAU], [w * TAU, 1]], synapse=TAU)
        elif kind == "lorenz":
            ens = nengo.Ensemble(n, 3, radius=60, neuron_type=nengo.LIFRate())

            def feedback(x):
                dx = 10 * (x[1] - x[0])
                dy = x[0] * (28 - x[2]) - x[1]
                dz = x[0] * x[1] - 8 / 3 * x[2]
                return [dx * TAU + x[0], dy * TAU + x[1], dz * TAU + x[2]]

            nengo.Connection(ens, ens, function=feedback, synapse=TAU)
        elif kind == "oscillator_weights":
            w = 2 * np.pi
            ens = nengo.Ensemble(n, 2, neuron_type=nengo.LIFRate())
            nengo.Connection(
                ens, ens, transform=[[1, -w * TAU], [w * TAU, 1]], synapse=TAU,
                solver=nengo.solvers.LstsqL2(weights=True),
            )
        nengo.Probe(ens, synapse=0.01)
    t0 = time.perf_counter()
    sim = nengo.Simulator(net, dt=DT, progress_bar=False)
    build = time.perf_counter() - t0
    out = {"build_s": build}
    if run:
        t0 = time.perf_counter()
        sim.run(T, progress_bar=False)
        secs = time.perf_counter() - t0
        out["run_s"] = secs
        out["neuron_steps_per_s"] = n * (T / DT) / secs
        out["step_s"] = secs / (T / DT)
    return out


def child(kind, n, run):
    r = build_and_run(kind, n, run == "1")
    r["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(r))


def in_subprocess(kind, n, run=True):
    p = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(n), "1" if run else "0"],
        capture_output=True, text=True, check=True,
    )
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(out):
    import nengo

    res = {"nengo": nengo.__version__, "numpy": np.__version__, "problems": {}, "scaling": {}}
    for kind, n in [("integrator", 100), ("integrator", 1000), ("oscillator", 200),
                    ("oscillator", 2000), ("lorenz", 2000)]:
        r = in_subprocess(kind, n)
        res["problems"][f"{kind}/{n}"] = r
        print(f"nengo {kind} N={n}: build {r['build_s']:.3f} s, "
              f"{r['neuron_steps_per_s'] / 1e6:.1f} M neuron-steps/s", file=sys.stderr)
    for n in [1000, 3000, 6000]:
        r = in_subprocess("integrator", n, run=False)
        res["scaling"][str(n)] = r
        print(f"nengo scaling N={n}: build {r['build_s']:.3f} s, peak {r['peak_rss_mb']:.0f} MB",
              file=sys.stderr)
    r = in_subprocess("oscillator_weights", 2000)
    res["nengo_weights_step_s"] = r["step_s"]
    # numpy's matrix-vector product, single-threaded BLAS (set by bench/run.sh).
    W = np.random.default_rng(0).normal(size=(2000, 2000))
    x = np.random.default_rng(1).normal(size=2000)
    reps = 2000
    t0 = time.perf_counter()
    for _ in range(reps):
        x = np.tanh(W @ x)
    res["numpy_matvec_step_s"] = (time.perf_counter() - t0) / reps
    print(f"numpy dense step N=2000: {res['numpy_matvec_step_s'] * 1e3:.3f} ms; "
          f"nengo weights=True step: {res['nengo_weights_step_s'] * 1e3:.3f} ms", file=sys.stderr)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main(sys.argv[1])
