//! The numeric network IR: what every method produces and what the simulator, the checker and
//! the weight-file writer consume. No spans, no source text: arrays and the names that label
//! their rows (`../shared/design/FORMAT.md`).

pub mod fastmath;
mod phi;
pub mod sparse;

pub use phi::Phi;

use faer::Mat;

/// Which update rule the arrays follow (METHODS.md section 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `x' = (1 - alpha) x + alpha (W phi(x) + W_in u + b)`, `y = W_out phi(x) + b_out`.
    Current,
    /// `r' = (1 - alpha) r + alpha phi(W r + W_in u + b)`, `y = W_out r + b_out`.
    Rate,
}

impl Form {
    pub fn name(self) -> &'static str {
        match self {
            Form::Current => "current",
            Form::Rate => "rate",
        }
    }

    pub fn from_name(s: &str) -> Option<Form> {
        match s {
            "current" => Some(Form::Current),
            "rate" => Some(Form::Rate),
            _ => None,
        }
    }
}

/// The recurrent weights, full or as a product of two thin factors.
#[derive(Clone, Debug)]
pub enum Recurrent {
    Dense(Mat<f64>),
    /// `W_rec = left @ right`, `left` (N, r), `right` (r, N).
    Factored {
        left: Mat<f64>,
        right: Mat<f64>,
    },
}

impl Recurrent {
    pub fn n(&self) -> usize {
        match self {
            Recurrent::Dense(w) => w.nrows(),
            Recurrent::Factored { left, .. } => left.nrows(),
        }
    }

    /// The rank of the factored form, `None` when dense.
    pub fn rank(&self) -> Option<usize> {
        match self {
            Recurrent::Dense(_) => None,
            Recurrent::Factored { left, .. } => Some(left.ncols()),
        }
    }

    /// The full N x N matrix (formed on demand for a factored network).
    pub fn dense(&self) -> Mat<f64> {
        match self {
            Recurrent::Dense(w) => w.clone(),
            Recurrent::Factored { left, right } => left * right,
        }
    }
}

/// Everything the manifest says that is not an array.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub network: String,
    /// The system or task the network realizes (empty for direct constructions).
    pub target: String,
    pub method: String,
    /// `method` options, defaults included, as JSON.
    pub options: serde_json::Value,
    pub seed: u64,
    /// Source file name and a hash of its text.
    pub source: Option<(String, String)>,
    /// Design time constants in seconds (one per distinct value, or per neuron).
    pub tau: Vec<f64>,
    pub inputs: Vec<String>,
    /// Output names after the latent states: the rows `d..` of `W_out`.
    pub outputs: Vec<String>,
    pub states: Vec<String>,
    pub init_latent: Vec<f64>,
    /// Domain per state line, as JSON (`{"box": [[lo, hi], ...]}` or `{"ball": ...}`).
    pub domain: serde_json::Value,
    pub units: serde_json::Value,
    /// The readout is taken after each update rather than before (PsychRNN's timing; the
    /// manifest's `"readout": "after"`, or `--readout after` for a file without one).
    pub readout_after: bool,
}

/// A network in the file's discrete-time form.
#[derive(Clone, Debug)]
pub struct Net {
    pub form: Form,
    pub phi: Phi,
    pub dt: f64,
    pub w_rec: Recurrent,
    /// (N, k); k = 0 when there are no inputs.
    pub w_in: Mat<f64>,
    pub b_rec: Vec<f64>,
    /// (d_out, N): the latent states, then the outputs.
    pub w_out: Mat<f64>,
    pub b_out: Vec<f64>,
    /// How a latent state becomes a network state (NEF, compiled reservoirs).
    pub enc: Option<(Mat<f64>, Vec<f64>)>,
    pub alpha: Vec<f64>,
    pub init_state: Vec<f64>,
    /// The input column whose value multiplies phi's argument.
    pub gain_input: Option<usize>,
    pub dale_sign: Option<Vec<i8>>,
    pub positions: Option<Mat<f64>>,
    /// A loop closed on the network's own readout (FORMAT.md `W_fb`): already part of
    /// `W_rec` and `b_rec`, kept to open the loop for teacher forcing and `sync_error`.
    pub feedback: Option<Feedback>,
    pub meta: Meta,
    /// Another implementation of the update rule that the simulator steps this network with
    /// instead of its own kernels (`None`: the simulator's). For cross-checks: the tests run
    /// every check through an implementation written from docs/format.md alone.
    pub engine: Option<Engine>,
}

/// An implementation of the file's update rule (docs/format.md), for [`Net::engine`].
pub trait Step: Send + Sync {
    /// The readout `y[t]` of state `x[t]` with input `u[t]` (before the update).
    fn read(&self, x: &[f64], u: &[f64], y: &mut [f64]);
    /// `x[t] -> x[t + 1]` with input `u[t]`.
    fn advance(&self, x: &mut [f64], u: &[f64]);
    /// The same implementation on the network's open loop ([`Net::open_loop`]: `W_fb` as
    /// input weights), for teacher forcing; `None` leaves that to the simulator.
    fn open_loop(&self) -> Option<Engine> {
        None
    }
}

/// A shared [`Step`] implementation.
#[derive(Clone)]
pub struct Engine(pub std::sync::Arc<dyn Step>);

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine(..)")
    }
}

/// `W_rec = A + W_fb W_out[rows]`, `b_rec = b_A + W_fb b_out[rows]`.
#[derive(Clone, Debug)]
pub struct Feedback {
    /// (N, d_fb).
    pub w_fb: Mat<f64>,
    /// The readout rows fed back, `d_fb` of them.
    pub rows: Vec<usize>,
}

impl Feedback {
    /// The loop's share of the closed-loop `W_rec`: `W_fb W_out[rows]`, summed over the fed-back
    /// rows in order with plain loops, so every caller (the reservoir's assembly, the open
    /// loop, the simulator's split) gets the same bits and `W_rec - loop_term` has exact zeros
    /// where the open loop does.
    pub fn loop_term(&self, w_out: &Mat<f64>) -> Mat<f64> {
        let n = self.w_fb.nrows();
        let cols = w_out.ncols();
        let mut m = Mat::zeros(n, cols);
        for (c, &r) in self.rows.iter().enumerate() {
            for j in 0..cols {
                let o = w_out[(r, j)];
                for i in 0..n {
                    m[(i, j)] += self.w_fb[(i, c)] * o;
                }
            }
        }
        m
    }
}

impl Net {
    pub fn n(&self) -> usize {
        self.b_rec.len()
    }

    /// The slowest unit's time constant, `dt / min(alpha)`: the one `tau_max` every analysis
    /// window is measured in (settling, drift windows, washouts). It reads the update rule,
    /// not the manifest, so a foreign file is measured by what it does. For the exact leak
    /// `alpha = 1 - exp(-dt / tau)` it is a little above the design `tau` (0.1005 s for
    /// 100 ms at 1 ms), an upper bound under both conventions of FORMAT.md.
    pub fn tau_max(&self) -> f64 {
        let a = self.alpha.iter().copied().fold(f64::INFINITY, f64::min);
        self.dt / a.clamp(1e-300, 1.0)
    }

    /// Steps of this network's `dt` in a stated duration ([`crate::time::steps`]).
    pub fn steps(&self, duration: f64) -> usize {
        crate::time::steps(duration, self.dt)
    }

    /// Steps of this network's `dt` covering at least `duration`
    /// ([`crate::time::steps_at_least`]).
    pub fn steps_at_least(&self, duration: f64) -> usize {
        crate::time::steps_at_least(duration, self.dt)
    }

    pub fn n_inputs(&self) -> usize {
        self.w_in.ncols()
    }

    /// Number of readout rows (latent states and outputs).
    pub fn n_out(&self) -> usize {
        self.w_out.nrows()
    }

    /// The latent dimension `d`: readout rows that are states.
    pub fn n_states(&self) -> usize {
        self.meta.states.len()
    }

    /// The network state for latent `z` (current form: `W_enc z + b_enc`; rate form as
    /// FORMAT.md says). `None` when the network has no encoder.
    pub fn encode(&self, z: &[f64]) -> Option<Vec<f64>> {
        let (w, b) = self.enc.as_ref()?;
        let mut x = b.clone();
        for (j, zj) in z.iter().enumerate().take(w.ncols()) {
            for (i, xi) in x.iter_mut().enumerate() {
                *xi += w[(i, j)] * zj;
            }
        }
        match self.form {
            Form::Current => Some(x),
            // FORMAT.md: r1 = phi(W_enc z + b_enc), then the correction
            // pinv(W_out[:d]) (z - W_out[:d] r1 - b_out[:d]) so that r reads out exactly z.
            Form::Rate => {
                let mut r: Vec<f64> = x.iter().map(|&v| self.phi.eval(v)).collect();
                let d = self.n_states().min(z.len());
                if d == 0 {
                    return Some(r);
                }
                let n = self.n();
                let e: Vec<f64> = (0..d)
                    .map(|j| {
                        z[j] - self.b_out[j]
                            - (0..n).map(|i| self.w_out[(j, i)] * r[i]).sum::<f64>()
                    })
                    .collect();
                let g = Mat::from_fn(d, d, |a, b| {
                    (0..n)
                        .map(|i| self.w_out[(a, i)] * self.w_out[(b, i)])
                        .sum::<f64>()
                });
                let rhs = Mat::from_fn(d, 1, |j, _| e[j]);
                let y = faer::linalg::solvers::Solve::solve(&g.partial_piv_lu(), &rhs);
                crate::net::fastmath::clear_upper();
                for (i, ri) in r.iter_mut().enumerate() {
                    *ri += (0..d).map(|j| self.w_out[(j, i)] * y[(j, 0)]).sum::<f64>();
                }
                r.iter().all(|v| v.is_finite()).then_some(r)
            }
        }
    }

    /// The network with its feedback loop opened: `W_rec = A`, `b_rec = b_A`, and the fed-back
    /// values as extra input columns after the network's own (`W_in = [W_in, W_fb]`).
    /// A factored `W_rec` stays factored (`A = [L, -W_fb] [R; W_out[rows]]`). `None` without
    /// `W_fb`.
    pub fn open_loop(&self) -> Option<Net> {
        let fb = self.feedback.as_ref()?;
        let (n, d_fb, k) = (self.n(), fb.rows.len(), self.n_inputs());
        let rows = Mat::from_fn(d_fb, n, |r, j| self.w_out[(fb.rows[r], j)]);
        let w_rec = match &self.w_rec {
            Recurrent::Dense(w) => Recurrent::Dense(w - fb.loop_term(&self.w_out)),
            Recurrent::Factored { left, right } => {
                let r = left.ncols();
                Recurrent::Factored {
                    left: Mat::from_fn(n, r + d_fb, |i, j| {
                        if j < r {
                            left[(i, j)]
                        } else {
                            -fb.w_fb[(i, j - r)]
                        }
                    }),
                    right: Mat::from_fn(r + d_fb, n, |i, j| {
                        if i < r {
                            right[(i, j)]
                        } else {
                            rows[(i - r, j)]
                        }
                    }),
                }
            }
        };
        let mut b_rec = self.b_rec.clone();
        for (i, b) in b_rec.iter_mut().enumerate() {
            for (r, &row) in fb.rows.iter().enumerate() {
                *b -= fb.w_fb[(i, r)] * self.b_out[row];
            }
        }
        let w_in = Mat::from_fn(n, k + d_fb, |i, j| {
            if j < k {
                self.w_in[(i, j)]
            } else {
                fb.w_fb[(i, j - k)]
            }
        });
        let mut meta = self.meta.clone();
        let readout: Vec<&String> = meta.states.iter().chain(&meta.outputs).collect();
        let fed: Vec<String> = fb
            .rows
            .iter()
            .map(|&r| {
                readout
                    .get(r)
                    .map_or(format!("fb[{r}]"), |s| format!("fb:{s}"))
            })
            .collect();
        meta.inputs.extend(fed);
        Some(Net {
            w_rec,
            b_rec,
            w_in,
            feedback: None,
            meta,
            engine: self.engine.as_ref().and_then(|e| e.0.open_loop()),
            ..self.clone()
        })
    }

    /// Checks that every array agrees with N, k and d_out; the reader and every builder
    /// call it, so the simulator can index without checks.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.n();
        let shape = |name: &str, got: (usize, usize), want: (usize, usize)| {
            if got == want {
                Ok(())
            } else {
                Err(format!(
                    "`{name}` has shape ({}, {}), expected ({}, {})",
                    got.0, got.1, want.0, want.1
                ))
            }
        };
        match &self.w_rec {
            Recurrent::Dense(w) => shape("W_rec", (w.nrows(), w.ncols()), (n, n))?,
            Recurrent::Factored { left, right } => {
                shape(
                    "W_rec_left",
                    (left.nrows(), left.ncols()),
                    (n, left.ncols()),
                )?;
                shape(
                    "W_rec_right",
                    (right.nrows(), right.ncols()),
                    (left.ncols(), n),
                )?
            }
        }
        shape(
            "W_in",
            (self.w_in.nrows(), self.w_in.ncols()),
            (n, self.w_in.ncols()),
        )?;
        shape(
            "W_out",
            (self.w_out.nrows(), self.w_out.ncols()),
            (self.w_out.nrows(), n),
        )?;
        shape("b_out", (self.b_out.len(), 1), (self.w_out.nrows(), 1))?;
        shape("alpha", (self.alpha.len(), 1), (n, 1))?;
        shape("init_state", (self.init_state.len(), 1), (n, 1))?;
        if let Some((w, b)) = &self.enc {
            shape("W_enc", (w.nrows(), w.ncols()), (n, w.ncols()))?;
            shape("b_enc", (b.len(), 1), (n, 1))?;
        }
        if let Some(fb) = &self.feedback {
            shape(
                "W_fb",
                (fb.w_fb.nrows(), fb.w_fb.ncols()),
                (n, fb.rows.len()),
            )?;
            if let Some(r) = fb.rows.iter().find(|&&r| r >= self.n_out()) {
                return Err(format!(
                    "`fb_rows` names row {r} but `W_out` has {} rows",
                    self.n_out()
                ));
            }
        }
        if let Some(g) = self.gain_input {
            if g >= self.n_inputs() {
                return Err(format!(
                    "the gain input is column {g} but `W_in` has {} columns",
                    self.n_inputs()
                ));
            }
        }
        if self.n_states() > self.n_out() {
            return Err(format!(
                "the manifest names {} states but `W_out` has {} rows",
                self.n_states(),
                self.n_out()
            ));
        }
        Ok(())
    }
}
