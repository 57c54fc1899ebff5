//! Running a network on a `simulate` step, beside the exact solution of its program.
//!
//! Both see the same inputs (CHECKS.md, Simulation): the sample `u((t + 1/2) dt)` held over
//! each step `[t dt, (t + 1) dt)`. The reference integrates the system with adaptive
//! Dormand-Prince 5(4) (rtol 1e-10) one step interval at a time, so the held input never
//! jumps inside an integration; a `next` system iterates its map once per step. Noise signals
//! are drawn once per step, seeded, and shared.

use crate::flat::{self, Code, Noise, Source};
use crate::latent::Latent;
use crate::net::Net;
use crate::ode::Dopri5;
use crate::rng::Rng;
use crate::sema::hir::Var;
use crate::sema::model::Simulate;
use crate::sim::{self, Diverged};

/// Samples at `t = 0, dt, ..., T`: one row per step, named columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub columns: Vec<String>,
    /// Row-major, `columns.len()` values per row.
    pub data: Vec<f64>,
}

impl Trace {
    pub fn rows(&self) -> usize {
        self.data.len() / self.columns.len().max(1)
    }

    pub fn row(&self, i: usize) -> &[f64] {
        let w = self.columns.len();
        &self.data[i * w..(i + 1) * w]
    }

    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let c = self.columns.iter().position(|n| n == name)?;
        Some((0..self.rows()).map(|r| self.row(r)[c]).collect())
    }
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    /// An input expression cannot be evaluated as a function of time.
    Input(String),
    Diverged(Diverged),
    /// The program's own solution blew up.
    Reference(String),
    /// Over the memory budget or the step limit.
    TooLarge(crate::budget::TooLarge),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Input(m) => write!(f, "input: {m}"),
            RunError::Diverged(d) => d.fmt(f),
            RunError::Reference(m) => write!(f, "the program's exact solution: {m}"),
            RunError::TooLarge(e) => e.fmt(f),
        }
    }
}

/// The inputs of a `simulate` step as functions of time.
pub struct Drive {
    /// One compiled expression per input channel (`None`: zero), and the channel's width.
    channels: Vec<(Option<Code>, usize)>,
    rng: Rng,
    /// Per channel, the current value of each noise source and its filter state.
    noise: Vec<Vec<f64>>,
    dt: f64,
}

impl Drive {
    pub fn new(lat: &Latent, sim: &Simulate, dt: f64, seed: u64) -> Result<Drive, RunError> {
        let mut channels = Vec::new();
        for (i, ch) in lat.sys.inputs.iter().enumerate() {
            match sim.with.iter().find(|(c, _)| *c == i) {
                Some((_, e)) => {
                    let env = |v: Var| match v {
                        Var::Time => Some(Source::Slots(0)),
                        _ => None,
                    };
                    let code = flat::compile(&[e], 1, &env).map_err(RunError::Input)?;
                    channels.push((Some(code), ch.len()));
                }
                None => channels.push((None, ch.len())),
            }
        }
        let noise = channels
            .iter()
            .map(|(c, _)| vec![0.0; c.as_ref().map_or(0, |c| c.noise.len())])
            .collect();
        Ok(Drive {
            channels,
            rng: Rng::new(seed, "noise"),
            noise,
            dt,
        })
    }

    /// Draws the noise for the step starting at step `t` (call once per step, in order).
    pub fn advance_noise(&mut self) {
        for ((code, _), state) in self.channels.iter().zip(&mut self.noise) {
            let Some(code) = code else { continue };
            for (s, kind) in state.iter_mut().zip(&code.noise) {
                let g = self.rng.normal();
                *s = match *kind {
                    Noise::White => g,
                    Noise::Smooth(fc) => {
                        // Unit-variance Ornstein-Uhlenbeck with corner frequency fc.
                        let a = (-2.0 * std::f64::consts::PI * fc * self.dt).exp();
                        a * *s + (1.0 - a * a).sqrt() * g
                    }
                };
            }
        }
    }

    /// The input vector at time `t` (with the current noise values).
    pub fn eval(&self, t: f64, u: &mut [f64]) {
        let mut at = 0;
        for ((code, width), noise) in self.channels.iter().zip(&self.noise) {
            match code {
                Some(code) => {
                    let mut args = vec![0.0; code.n_inputs()];
                    args[0] = t;
                    args[code.noise_base..code.noise_base + noise.len()].copy_from_slice(noise);
                    let mut regs = code.scratch();
                    code.eval(&args, &mut regs, &mut u[at..at + width]);
                }
                None => u[at..at + width].iter_mut().for_each(|v| *v = 0.0),
            }
            at += width;
        }
    }
}

/// The latent start of a `simulate` step: the program's `init`, overridden by `from`.
pub fn start(lat: &Latent, sim: &Simulate) -> Vec<f64> {
    let mut z = lat.inst.init.clone();
    let mut offsets = Vec::new();
    let mut at = 0;
    for s in &lat.sys.states {
        offsets.push(at);
        at += s.size.unwrap_or(1);
    }
    for (var, value) in &sim.from {
        if let (Some(&base), Some(v)) = (offsets.get(*var), value.as_slice()) {
            for (j, x) in v.iter().enumerate() {
                if let Some(slot) = z.get_mut(base + j) {
                    *slot = *x;
                }
            }
        }
    }
    z
}

/// The teacher-forced start of a network without `W_enc` (CHECKS.md, Simulation): the system
/// runs from `z0` with zero input for `20 tau_max`, its open loop (FORMAT.md `W_fb`) is driven
/// by the exact values of the fed-back rows from `init_state`, and both end states are the new
/// time 0.
pub fn teacher_force(
    net: &Net,
    lat: &Latent,
    z0: &[f64],
) -> Result<(Vec<f64>, Vec<f64>), RunError> {
    teacher_force_for(net, lat, z0, net.steps_at_least(20.0 * net.tau_max()))
}

/// [`teacher_force`] for a given number of steps.
pub fn teacher_force_for(
    net: &Net,
    lat: &Latent,
    z0: &[f64],
    steps: usize,
) -> Result<(Vec<f64>, Vec<f64>), RunError> {
    let open = net.open_loop().expect("teacher forcing needs W_fb");
    let fb = net.feedback.as_ref().expect("checked");
    let (d, k) = (lat.d, lat.k);
    let u = vec![0.0; k];
    let mut ev = lat.evaluator();
    let mut oev = lat.output_evaluator();
    let mut y = vec![0.0; lat.n_outputs()];
    let mut ode = Dopri5::new(d, 1e-10, 1e-12);
    let mut z = z0.to_vec();
    let what = || format!("teacher forcing over {steps} steps");
    crate::budget::steps(steps as f64, what).map_err(RunError::TooLarge)?;
    crate::budget::claim(crate::budget::f64s((steps * fb.rows.len()) as f64), what)
        .map_err(RunError::TooLarge)?;
    let mut fed = Vec::with_capacity(steps * fb.rows.len());
    for t in 0..steps {
        oev.eval(&z, &u, &mut y);
        for &r in &fb.rows {
            fed.push(if r < d {
                z[r]
            } else {
                y.get(r - d).copied().unwrap_or(0.0)
            });
        }
        ev.exact_step(lat.kind(), &mut ode, &mut z, &u, t as f64 * net.dt, net.dt)
            .map_err(RunError::Reference)?;
    }
    let (kn, m) = (net.n_inputs(), fb.rows.len());
    let x = sim::run(
        &open,
        &net.init_state,
        steps,
        &mut |t, v| {
            v.iter_mut().for_each(|a| *a = 0.0);
            if t < steps {
                v[kn..].copy_from_slice(&fed[t * m..(t + 1) * m]);
            }
        },
        &mut |_| {},
    )
    .map_err(RunError::Diverged)?;
    Ok((x, z))
}

/// The columns of a `simulate` step's traces: `t`, the inputs, the latent state, the outputs.
pub fn columns(net: &Net, lat: &Latent) -> Vec<String> {
    let mut columns = vec!["t".to_string()];
    columns.extend(lat.sys.input_names());
    columns.extend(net.meta.states.iter().cloned());
    columns.extend(net.meta.outputs.iter().cloned());
    columns
}

/// Runs the network and the exact solution on one `simulate` step. Columns: [`columns`]
/// (the network's decoded state and outputs; the reference's exact ones). Both traces are
/// held: the budget is claimed first.
pub fn simulate(
    net: &Net,
    lat: &Latent,
    sim: &Simulate,
    seed: u64,
) -> Result<(Trace, Trace), RunError> {
    let steps = run_steps(sim, net.dt)?;
    let columns = columns(net, lat);
    let width = columns.len();
    crate::budget::claim(
        crate::budget::f64s((steps as f64 + 1.0) * (2 * width) as f64),
        || describe(sim, net.dt),
    )
    .map_err(RunError::TooLarge)?;
    let (mut a, mut b) = (
        Vec::with_capacity((steps + 1) * width),
        Vec::with_capacity((steps + 1) * width),
    );
    simulate_stream(net, lat, sim, seed, &mut |x, y| {
        a.extend_from_slice(x);
        b.extend_from_slice(y);
    })?;
    Ok((
        Trace {
            columns: columns.clone(),
            data: a,
        },
        Trace { columns, data: b },
    ))
}

/// "a `simulate` of 2 s at dt = 0.001 s", for budget messages.
fn describe(sim: &Simulate, dt: f64) -> String {
    use crate::budget::num;
    format!(
        "a `simulate` of {} s at dt = {} s",
        num(sim.duration),
        num(dt)
    )
}

/// The steps of a `simulate` (at least one), within the step limit.
fn run_steps(sim: &Simulate, dt: f64) -> Result<usize, RunError> {
    let steps = crate::time::steps(sim.duration, dt).max(1);
    crate::budget::steps(steps as f64, || describe(sim, dt)).map_err(RunError::TooLarge)?;
    Ok(steps)
}

/// [`simulate`] in O(N + d) memory: `row(network, reference)` sees each step's two rows
/// (columns as [`columns`]) in order, the network and the exact solution advancing in
/// lockstep. On an error the rows seen so far are a prefix of the run.
pub fn simulate_stream(
    net: &Net,
    lat: &Latent,
    sim: &Simulate,
    seed: u64,
    row: &mut dyn FnMut(&[f64], &[f64]),
) -> Result<(), RunError> {
    let dt = net.dt;
    let steps = run_steps(sim, dt)?;
    let mut z = start(lat, sim);
    let (k, d) = (lat.k, lat.d);
    let n_out = lat.n_outputs();
    // The rows are [`columns`]: a file bound without the program's output rows
    // (`bind::adopt_names`) has no output columns, and neither has its reference.
    let n_cols = if net.meta.outputs.is_empty() {
        0
    } else {
        n_out
    };

    // The network: a driven reservoir (no W_enc, a loop closed through W_fb) is teacher-forced
    // onto the trajectory from the start; otherwise the file's init_state for the program's
    // init, else the encoded start.
    let x0 = if net.enc.is_none() && net.feedback.is_some() {
        let (x, z1) = teacher_force(net, lat, &z)?;
        z = z1;
        x
    } else if sim.from.is_empty() {
        net.init_state.clone()
    } else {
        net.encode(&z).ok_or_else(|| {
            RunError::Input(
                "the network has neither `W_enc` nor `W_fb`, so it cannot be started at a \
                 `from` state; simulate from the program's `init` (the file's init_state)"
                    .into(),
            )
        })?
    };

    // The inputs, sampled at each step's midpoint with their noise, shared by both sides; the
    // exact solution advances one step each time the network's row is recorded.
    let mut drive = Drive::new(lat, sim, dt, seed)?;
    let sample = std::cell::RefCell::new(vec![0.0; k]);
    let net_k = net.n_inputs().min(k);
    let mut ode = Dopri5::new(d, 1e-10, 1e-12);
    let mut ev = lat.evaluator();
    let mut oev = lat.output_evaluator();
    let mut y = vec![0.0; n_out];
    let width = 1 + k + d + n_cols;
    let (mut net_row, mut ref_row) = (vec![0.0; width], vec![0.0; width]);
    let mut failed: Option<RunError> = None;
    sim::run(
        net,
        &x0,
        steps,
        &mut |t, u| {
            let mut sample = sample.borrow_mut();
            drive.advance_noise();
            drive.eval((t as f64 + 0.5) * dt, &mut sample);
            u[..net_k].copy_from_slice(&sample[..net_k]);
        },
        &mut |s| {
            if failed.is_some() {
                return;
            }
            let sample = sample.borrow();
            let t0 = s.step as f64 * dt;
            net_row[0] = t0;
            net_row[1..1 + k].copy_from_slice(&sample);
            let m = (d + n_cols).min(s.y.len());
            net_row[1 + k..1 + k + m].copy_from_slice(&s.y[..m]);
            oev.eval(&z, &sample, &mut y);
            ref_row[0] = t0;
            ref_row[1..1 + k].copy_from_slice(&sample);
            ref_row[1 + k..1 + k + d].copy_from_slice(&z);
            ref_row[1 + k + d..].copy_from_slice(&y[..n_cols]);
            row(&net_row, &ref_row);
            if s.step == steps {
                return;
            }
            if let Err(e) = ev.exact_step(lat.kind(), &mut ode, &mut z, &sample, t0, dt) {
                failed = Some(RunError::Reference(e));
            } else if z.iter().any(|v| !v.is_finite()) {
                failed = Some(RunError::Reference(format!(
                    "the state is not finite at t = {:.4} s",
                    t0 + dt
                )));
            }
        },
    )
    .map_err(RunError::Diverged)?;
    failed.map_or(Ok(()), Err)
}

/// NRMSE of [`nrmse`], accumulated one row at a time (Welford's update for the reference's
/// mean), so that a streamed run needs no trace.
#[derive(Clone, Debug, Default)]
pub struct OnlineNrmse {
    rows: f64,
    /// Per column: the reference's running mean and sum of squared deviations.
    mean: Vec<f64>,
    m2: Vec<f64>,
    err: f64,
}

impl OnlineNrmse {
    /// Adds one row: the network's and the reference's values of the compared columns.
    pub fn push(&mut self, net: &[f64], reference: &[f64]) {
        if self.mean.is_empty() {
            self.mean = vec![0.0; reference.len()];
            self.m2 = vec![0.0; reference.len()];
        }
        self.rows += 1.0;
        for (j, (x, y)) in net.iter().zip(reference).enumerate() {
            self.err += (x - y) * (x - y);
            let delta = y - self.mean[j];
            self.mean[j] += delta / self.rows;
            self.m2[j] += delta * (y - self.mean[j]);
        }
    }

    /// `None` when the reference has no variance.
    pub fn value(&self) -> Option<f64> {
        let den: f64 = self.m2.iter().sum();
        (den > 0.0).then(|| (self.err / den).sqrt())
    }
}

/// NRMSE of CHECKS.md over the named columns: `rms(zhat - z) / rms(z - zbar)`, pooled over
/// components, from row `skip`. `None` when a name is not a column or the reference has no
/// variance.
pub fn nrmse(net: &Trace, reference: &Trace, names: &[String], skip: usize) -> Option<f64> {
    let cols = names
        .iter()
        .map(|n| reference.columns.iter().position(|c| c == n))
        .collect::<Option<Vec<usize>>>()?;
    nrmse_at(net, reference, &cols, skip)
}

/// [`nrmse`] over columns by position (the checker binds them by the program's declarations:
/// column `1 + k + i` is readout component `i`). `None` when a column is out of range or the
/// reference has no variance.
pub fn nrmse_at(net: &Trace, reference: &Trace, cols: &[usize], skip: usize) -> Option<f64> {
    let (w, rows) = (reference.columns.len(), reference.rows().min(net.rows()));
    if cols.iter().any(|&c| c >= w || c >= net.columns.len()) {
        return None;
    }
    let (mut num, mut den) = (0.0, 0.0);
    let from = skip.min(rows);
    for &c in cols {
        let n = (rows - from) as f64;
        let mean = (from..rows).map(|r| reference.row(r)[c]).sum::<f64>() / n.max(1.0);
        for r in from..rows {
            let (x, y) = (net.row(r)[c], reference.row(r)[c]);
            num += (x - y) * (x - y);
            den += (y - mean) * (y - mean);
        }
    }
    (den > 0.0).then(|| (num / den).sqrt())
}

/// [`simulate`] for network `index` of `program` (a network realizing a system).
pub fn simulate_network(
    program: &crate::sema::model::Program,
    index: usize,
    net: &Net,
    sim: &Simulate,
) -> Result<(Trace, Trace), RunError> {
    let network = &program.networks[index];
    let crate::sema::model::Target::System(inst) = &network.target else {
        return Err(RunError::Input(format!(
            "network `{}` realizes a task: run its trials with the task engine",
            network.name
        )));
    };
    let lat = Latent::new(&program.systems[inst.system], inst).map_err(RunError::Input)?;
    simulate(net, &lat, sim, network.seed)
}
