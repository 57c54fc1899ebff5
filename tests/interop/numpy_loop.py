"""Runs the update rule of METHODS.md section 1 over a weight file in a plain numpy loop and
compares the readout with a trace written by `rnnc run` (CSV: t, inputs, states, outputs).

usage: numpy_loop.py WEIGHTS.npz TRACE.csv [STEPS [Z0 ...]]
Starts from `init_state`, or from `W_enc @ Z0 + b_enc` when a latent start is given.
Prints the largest relative difference and exits 1 when it exceeds 1e-9.
"""
import json
import sys

import numpy as np

f = np.load(sys.argv[1])  # no allow_pickle: the file must load without it
man = json.loads(f["manifest.json"].tobytes())
W = f["W_rec"] if "W_rec" in f else f["W_rec_left"] @ f["W_rec_right"]
W_in, b, W_out, b_out, alpha = f["W_in"], f["b_rec"], f["W_out"], f["b_out"], f["alpha"]
phis = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "softplus": lambda x: np.logaddexp(0.0, x),
}
p = man["phi"]
if p["name"] == "lif":
    def phi(J):
        out = np.zeros_like(J)
        on = J > 1
        out[on] = 1.0 / (p["tau_ref"] + p["tau_rc"] * np.log1p(1.0 / (J[on] - 1.0)))
        return out
else:
    phi = phis[p["name"]]

trace = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, ndmin=2)
k = W_in.shape[1]
gain = man["inputs"].index(man["gain_input"]) if man["gain_input"] else None
steps = min(int(sys.argv[3]) if len(sys.argv) > 3 else 1000, len(trace))
x = f["init_state"].copy()
if len(sys.argv) > 4:
    x = f["W_enc"] @ np.array([float(v) for v in sys.argv[4:]]) + f["b_enc"]
worst = 0.0
for t in range(steps):
    u = trace[t, 1 : 1 + k]
    g = u[gain] if gain is not None else 1.0
    if man["form"] == "current":
        r = phi(g * x)
        y = W_out @ r + b_out
        x = (1 - alpha) * x + alpha * (W @ r + W_in @ u + b)
    else:
        y = W_out @ x + b_out
        x = (1 - alpha) * x + alpha * phi(g * (W @ x + W_in @ u + b))
    got = trace[t, 1 + k : 1 + k + len(y)]
    worst = max(worst, np.max(np.abs(y - got) / np.maximum(np.abs(got), 1e-3 * np.max(np.abs(got)) + 1e-12)))
print(f"{sys.argv[1]}: {steps} steps, largest relative difference {worst:.3e}")
sys.exit(0 if worst <= 1e-9 else 1)
