//! `reservoir(mode = drive)`: an echo-state network driven by data (METHODS.md section 4).
//!
//! Systems: the reservoir is teacher-forced by exact trajectories of the system (`starts` of
//! them, the first from `init`, the others from points spread over the domain; each a
//! `washout` and `train / starts` seconds, from rest), its inputs driven by smooth noise over
//! their ranges, the fed-back latent z-scored through `W_fb`; the readout (states, then
//! outputs) is fitted on `(r[t], z[t])` after each washout and the loop closed on the state
//! rows. Tasks: the task's trials (stream `training trials`, repeated with
//! fresh draws up to `train` seconds when the task draws anything), each from `r = 0`; a
//! readout row is fitted only on the steps its `expect out = v` covers; with `feedback = true`
//! the outputs are fed back (the target on covered steps, the most recent target elsewhere)
//! and the loop closed on them.

use super::{assemble, random_sparse, uniform, Options, Ridge, SharedRidge};
use crate::latent::Latent;
use crate::net::sparse::Csr;
use crate::net::{Meta, Net};
use crate::ode::Dopri5;
use crate::rng::Rng;
use crate::sema::model::Task;
use faer::Mat;

/// What a drive build measured.
pub struct Fit {
    pub net: Net,
    /// Training samples per readout row.
    pub samples: usize,
    /// A system's drive with `auto` options: what the validation search chose.
    pub chosen: Option<Chosen>,
}

/// The numeric options of a drive: each given, or chosen (systems) or fixed (tasks) for `auto`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hyper {
    pub spectral_radius: f64,
    pub input_scale: f64,
    pub bias: f64,
    /// The readout's ridge: absolute when given; `auto` is chosen relative to the Gram
    /// matrix's mean eigenvalue (`Ridge::Relative`).
    pub ridge: RidgeChoice,
}

/// A ridge as the user gives it (absolute) or as the search chooses it (relative to the
/// centred Gram matrix's trace / N, so it carries over from the search's small reservoir to
/// the full one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RidgeChoice {
    Absolute(f64),
    Relative(f64),
}

/// What the validation search of a system's drive chose, for the manifest and the build
/// line: the values (the ridge as the absolute value the full fit used), which options were
/// `auto`, the candidates tried and the search's score of the winner.
#[derive(Clone, Debug, PartialEq)]
pub struct Chosen {
    pub spectral_radius: f64,
    pub input_scale: f64,
    pub bias: f64,
    pub ridge: f64,
    /// The options that were `auto` (declaration names).
    pub searched: Vec<&'static str>,
    /// Candidates scored (hyperparameter settings plus ridge values).
    pub candidates: usize,
    /// The winner's mean valid forecast on the held-out stretches, in steps.
    pub valid_steps: f64,
    /// The forecast horizon of the validation, in steps.
    pub horizon: usize,
}

/// The values `auto` takes in a task's drive (the earlier fixed defaults).
const TASK_HYPER: Hyper = Hyper {
    spectral_radius: 0.9,
    input_scale: 0.1,
    bias: 0.5,
    ridge: RidgeChoice::Absolute(TASK_RIDGE),
};

/// A task's ridge when `auto`.
const TASK_RIDGE: f64 = 1e-7;

fn step(a: &Csr, alpha: f64, r: &mut [f64], drive: &[f64], scratch: &mut [f64]) {
    a.matvec(r, scratch);
    for (s, d) in scratch.iter_mut().zip(drive) {
        *s += d;
    }
    // The simulator's tanh (`net::fastmath`), so training sees the network it writes.
    crate::net::fastmath::tanh_inplace(scratch);
    for (ri, s) in r.iter_mut().zip(scratch.iter()) {
        *ri = (1.0 - alpha) * *ri + alpha * s;
    }
}

/// `out = b + sum_j M[:, j] v[j]`.
fn affine(m: &Mat<f64>, v: &[f64], b: &[f64], out: &mut [f64]) {
    out.copy_from_slice(b);
    for (j, &vj) in v.iter().enumerate() {
        if vj != 0.0 {
            for (i, o) in out.iter_mut().enumerate() {
                *o += m[(i, j)] * vj;
            }
        }
    }
}

/// A system's training data: the exact trajectories, one row per step (`z`, outputs `y`,
/// inputs `u`), cut into segments (one per start), with the fed-back latent's z-scoring.
struct Data {
    traj: Vec<f64>,
    segments: Vec<std::ops::Range<usize>>,
    /// Row width: `d + n_out + k`.
    width: usize,
    d: usize,
    /// Readout rows: `d + n_out`.
    w: usize,
    k: usize,
    mean: Vec<f64>,
    sd: Vec<f64>,
    washout: usize,
}

impl Data {
    fn row(&self, i: usize) -> &[f64] {
        &self.traj[i * self.width..(i + 1) * self.width]
    }
}

/// A drawn reservoir with its fed-back and input weights, the z-scoring folded in.
struct Drawn {
    a: Csr,
    w_fb: Mat<f64>,
    w_in: Mat<f64>,
    b: Vec<f64>,
}

/// Draws a reservoir of `n` units for `data` (stream `stream` of `seed`; the same stream
/// gives the same random numbers, scaled, for every hyperparameter setting).
fn draw(
    n: usize,
    density: f64,
    h: &Hyper,
    data: &Data,
    lat: &Latent,
    seed: u64,
    stream: &str,
) -> Drawn {
    let (d, k) = (data.d, data.k);
    let (cu, hu) = (&lat.input_map.center, &lat.input_map.scale);
    let mut rng = Rng::new(seed, stream);
    let a = random_sparse(n, density, h.spectral_radius, &mut rng);
    let raw_fb = uniform(n, d, h.input_scale, &mut rng);
    // Inputs in unit coordinates of their ranges, like the fed-back latent.
    let raw_in = uniform(n, k, h.input_scale, &mut rng);
    let w_in = Mat::from_fn(n, k, |i, j| raw_in[(i, j)] / hu[j]);
    let mut b: Vec<f64> = (0..n).map(|_| rng.range(-h.bias, h.bias)).collect();
    let w_fb = Mat::from_fn(n, d, |i, j| raw_fb[(i, j)] / data.sd[j]);
    for (i, bi) in b.iter_mut().enumerate() {
        for j in 0..d {
            *bi -= w_fb[(i, j)] * data.mean[j];
        }
        for j in 0..k {
            *bi -= w_in[(i, j)] * cu[j];
        }
    }
    Drawn { a, w_fb, w_in, b }
}

/// The drive of a reservoir at one step: `W_fb z + W_in u + b`.
fn drive_of(dr: &Drawn, z: &[f64], u: &[f64], out: &mut [f64]) {
    affine(&dr.w_fb, z, &dr.b, out);
    for (j, &uj) in u.iter().enumerate() {
        if uj != 0.0 {
            for (i, o) in out.iter_mut().enumerate() {
                *o += dr.w_in[(i, j)] * uj;
            }
        }
    }
}

/// Teacher-forces `dr` through every segment from rest, over the steps `begin..end` that
/// `span(segment)` gives with its washout; after the washout the pairs `(r[t], targets)` go
/// to `ridge` when `fit(segment, t)` says so (`targets`: the first `ridge`'s width of the
/// row). Returns the final state and the states at `record` (segment, step) points, in the
/// order given.
#[allow(clippy::too_many_arguments)]
fn teacher_force(
    dr: &Drawn,
    data: &Data,
    alpha: f64,
    ridge: &mut SharedRidge,
    targets: usize,
    fit: &dyn Fn(usize, usize) -> bool,
    record: &[(usize, usize)],
    span: &dyn Fn(usize) -> (usize, usize, usize),
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = dr.a.n();
    let (d, w) = (data.d, data.w);
    let mut r = vec![0.0; n];
    let (mut drive, mut scratch) = (vec![0.0; n], vec![0.0; n]);
    let mut recorded = vec![Vec::new(); record.len()];
    for (s, seg) in data.segments.iter().enumerate() {
        r.iter_mut().for_each(|v| *v = 0.0);
        let (begin, end, washout) = span(s);
        for t in begin..end.min(seg.len()) {
            let row = data.row(seg.start + t);
            for (slot, _) in record.iter().enumerate().filter(|(_, p)| **p == (s, t)) {
                recorded[slot] = r.clone();
            }
            if t >= begin + washout && fit(s, t) {
                ridge.add(&r, &row[..targets]);
            }
            drive_of(dr, &row[..d], &row[w..], &mut drive);
            step(&dr.a, alpha, &mut r, &drive, &mut scratch);
        }
    }
    (r, recorded)
}

/// The exact trajectories a system's reservoir is driven with: the first from `init`, the
/// others from points spread over the domain; the inputs (if any) driven by smooth noise
/// over their ranges (METHODS.md section 4); the z-scoring of the fed-back latent.
fn trajectories(
    lat: &Latent,
    opts: &Options,
    dt: f64,
    tau: f64,
    seed: u64,
) -> Result<Data, String> {
    let (d, k) = (lat.d, lat.k);
    let n_out = lat.n_outputs();
    let washout = crate::time::steps(opts.washout, dt);
    let starts = opts.starts.max(1);
    let per_start = (crate::time::steps(opts.train, dt) / starts).max(2);
    let total = washout + per_start;
    let mut ev = lat.evaluator();
    let mut oev = lat.output_evaluator();
    let mut ode = Dopri5::new(d, 1e-10, 1e-12);
    let mut drng = Rng::new(seed, "reservoir drive");
    let others = crate::latent::spread::ball(starts - 1, d, &mut drng);
    let w = d + n_out;
    let width = w + k;
    let mut traj = Vec::with_capacity(starts * total * width);
    let mut segments = Vec::with_capacity(starts);
    let (mut y, mut u, mut noise) = (vec![0.0; n_out], vec![0.0; k], vec![0.0; k]);
    let (cu, hu) = (&lat.input_map.center, &lat.input_map.scale);
    // An Ornstein-Uhlenbeck process per input, sd 0.5 of the half-range (clipped to the
    // range), correlation time `INPUT_TIME` network time constants.
    let decay = (-dt / (INPUT_TIME * tau)).exp();
    for s in 0..starts {
        let mut z = if s == 0 {
            lat.inst.init.clone()
        } else {
            let mut z = vec![0.0; d];
            lat.map.from_unit(&others[(s - 1) * d..s * d], &mut z);
            z
        };
        noise.iter_mut().for_each(|v| *v = 0.5 * drng.normal());
        let begin = traj.len() / width;
        for t in 0..total {
            for j in 0..k {
                u[j] = cu[j] + hu[j] * noise[j].clamp(-1.0, 1.0);
                noise[j] = decay * noise[j] + (1.0 - decay * decay).sqrt() * 0.5 * drng.normal();
            }
            oev.eval(&z, &u, &mut y);
            traj.extend_from_slice(&z);
            traj.extend_from_slice(&y);
            traj.extend_from_slice(&u);
            let ok = ev
                .exact_step(lat.kind(), &mut ode, &mut z, &u, t as f64 * dt, dt)
                .is_ok()
                && z.iter().all(|v| v.is_finite());
            if !ok {
                if s == 0 {
                    return Err("the training trajectory from `init` is not finite".into());
                }
                // A start outside the basin the system stays bounded in: dropped.
                traj.truncate(begin * width);
                break;
            }
        }
        if traj.len() / width > begin {
            segments.push(begin..traj.len() / width);
        }
    }
    let rows = traj.len() / width;
    // z-scoring of the fed-back latent, folded into W_fb and the bias.
    let mut mean = vec![0.0; d];
    let mut sd = vec![0.0; d];
    for row in traj.chunks(width) {
        for j in 0..d {
            mean[j] += row[j] / rows as f64;
        }
    }
    for row in traj.chunks(width) {
        for j in 0..d {
            sd[j] += (row[j] - mean[j]).powi(2) / rows as f64;
        }
    }
    let sd = sd.iter().map(|v| v.sqrt().max(1e-9)).collect();
    Ok(Data {
        traj,
        segments,
        width,
        d,
        w,
        k,
        mean,
        sd,
        washout,
    })
}

/// The ridge's absolute value for a fit: `Relative(rho)` is `rho` times the centred Gram
/// matrix's trace / N.
fn lambda(ridge: RidgeChoice, acc: &mut SharedRidge) -> f64 {
    match ridge {
        RidgeChoice::Absolute(l) => l,
        RidgeChoice::Relative(rho) => rho * acc.mean_eigenvalue(),
    }
}

/// Drives a reservoir with the system's trajectory and closes the loop on the state rows.
/// Options left `auto` are chosen first by [`search`].
pub fn system(
    lat: &Latent,
    opts: &Options,
    setup: crate::methods::Setup,
    mut meta: Meta,
) -> Result<Fit, String> {
    let crate::methods::Setup { n, dt, tau, seed } = setup;
    let data = trajectories(lat, opts, dt, tau, seed)?;
    let alpha = (dt / tau).min(1.0);
    let (h, chosen) = search(&data, lat, opts, alpha, n, seed)?;
    let dr = draw(n, opts.density, &h, &data, lat, seed, "reservoir");
    let mut ridge = SharedRidge::new(n, data.w);
    let whole = |s: usize| (0, data.segments[s].len(), data.washout);
    let (r, _) = teacher_force(
        &dr,
        &data,
        alpha,
        &mut ridge,
        data.w,
        &|_, _| true,
        &[],
        &whole,
    );
    let samples = ridge.count();
    let lambda = lambda(h.ridge, &mut ridge);
    let (w_out, b_out) = ridge.solve(lambda)?;
    let chosen = chosen.map(|c| Chosen { ridge: lambda, ..c });
    if let (Some(c), serde_json::Value::Object(o)) = (&chosen, &mut meta.options) {
        o.insert("chosen".into(), c.json());
    }
    let Drawn { a, w_fb, w_in, b } = dr;
    let mut net = assemble(
        &a,
        w_in,
        b,
        w_out,
        b_out,
        Some((w_fb, (0..data.d).collect())),
        dt,
        tau,
        meta,
    );
    // A state on the reservoir's driven manifold (teacher forcing starts every run from it).
    net.init_state = r;
    Ok(Fit {
        net,
        samples,
        chosen,
    })
}

impl Chosen {
    /// The manifest's record (`options.chosen`).
    pub fn json(&self) -> serde_json::Value {
        let mut o = serde_json::Map::new();
        for (name, v) in [
            ("spectral_radius", self.spectral_radius),
            ("input_scale", self.input_scale),
            ("bias", self.bias),
            ("ridge", self.ridge),
        ] {
            if self.searched.contains(&name) {
                o.insert(name.into(), serde_json::json!(v));
            }
        }
        o.insert("candidates".into(), serde_json::json!(self.candidates));
        o.insert("valid_steps".into(), serde_json::json!(self.valid_steps));
        o.insert("horizon_steps".into(), serde_json::json!(self.horizon));
        serde_json::Value::Object(o)
    }

    /// One line for the build's report: `spectral_radius = 0.8, ... (validation search, 10
    /// candidates)`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (name, v) in [
            ("spectral_radius", self.spectral_radius),
            ("input_scale", self.input_scale),
            ("bias", self.bias),
            ("ridge", self.ridge),
        ] {
            if self.searched.contains(&name) {
                parts.push(format!("{name} = {v:.3e}"));
            }
        }
        format!(
            "chose {} (validation search over {} candidates: held-out forecasts valid for {:.0} of {} steps)",
            parts.join(", "),
            self.candidates,
            self.valid_steps,
            self.horizon
        )
    }
}

/// One hyperparameter of a [`Hyper`], for the coordinate search.
type Field = fn(&mut Hyper) -> &mut f64;

/// Units of the search's small reservoir (at most `n`).
const SEARCH_UNITS: usize = 100;

/// Fitted steps of the search's small reservoir (spread over the segments, the last ones
/// before each held-out stretch), and its washout at most (steps).
const SEARCH_FIT: usize = 2000;
const SEARCH_WASHOUT: usize = 100;

/// The fraction of each segment's fitted steps held out for the search's forecasts.
const HOLD_OUT: f64 = 0.25;

/// The z-scored rms error a forecast may reach (`check::forecast`'s threshold).
const THRESHOLD: f64 = 0.4;

/// The search's starting point (the bench's tuned options on Lorenz, bench/README.md) and the
/// factor each coordinate step multiplies or divides by.
const START: (f64, f64, f64) = (0.8, 0.3, 2.0);
const FACTOR: f64 = 2.0;

/// The relative ridges tried for the winner (the hyperparameters are scored at the middle
/// one).
const RIDGES: [f64; 3] = [1e-12, 1e-10, 1e-8];

/// Chooses the `auto` options of a system's drive: a small reservoir (`SEARCH_UNITS`, same
/// density, its own random stream) is fitted on the first `1 - HOLD_OUT` of each segment's
/// fitted steps and scored by closed-loop forecasts from the held-out rest (teacher-forced up
/// to each forecast's start): the mean number of steps the z-scored rms error stays under
/// `THRESHOLD`, capped at the horizon, ties broken by the mean error. Coordinate search from
/// `START`: bias, then input scale, then spectral radius, each tried at `FACTOR` times and
/// 1 / `FACTOR` times the current value and kept when better; then the ridge among `RIDGES`.
/// Given options are never changed.
fn search(
    data: &Data,
    lat: &Latent,
    opts: &Options,
    alpha: f64,
    n: usize,
    seed: u64,
) -> Result<(Hyper, Option<Chosen>), String> {
    let mut h = Hyper {
        spectral_radius: opts.spectral_radius.unwrap_or(START.0),
        input_scale: opts.input_scale.unwrap_or(START.1),
        bias: opts.bias.unwrap_or(START.2),
        ridge: opts
            .ridge
            .map_or(RidgeChoice::Relative(RIDGES[1]), RidgeChoice::Absolute),
    };
    let mut searched = Vec::new();
    for (name, auto) in [
        ("spectral_radius", opts.spectral_radius.is_none()),
        ("input_scale", opts.input_scale.is_none()),
        ("bias", opts.bias.is_none()),
        ("ridge", opts.ridge.is_none()),
    ] {
        if auto {
            searched.push(name);
        }
    }
    if searched.is_empty() {
        return Ok((h, None));
    }
    let v = Validation::new(data);
    let Some(v) = v else {
        // Too little data to hold any out: the starting point.
        return Ok((
            h,
            Some(Chosen {
                spectral_radius: h.spectral_radius,
                input_scale: h.input_scale,
                bias: h.bias,
                ridge: 0.0,
                searched,
                candidates: 0,
                valid_steps: 0.0,
                horizon: 0,
            }),
        ));
    };
    let units = SEARCH_UNITS.min(n);
    let mut candidates = 0;
    let mut score = |h: &Hyper, ridges: &[RidgeChoice]| -> Result<Vec<(f64, f64)>, String> {
        candidates += ridges.len();
        v.score(data, lat, opts.density, h, ridges, alpha, units, seed)
    };
    let better = |a: (f64, f64), b: (f64, f64)| a.0 > b.0 || (a.0 == b.0 && a.1 < b.1);
    let mut best = score(&h, &[h.ridge])?[0];
    let steps: [(bool, Field); 3] = [
        (opts.bias.is_none(), |h| &mut h.bias),
        (opts.input_scale.is_none(), |h| &mut h.input_scale),
        (opts.spectral_radius.is_none(), |h| &mut h.spectral_radius),
    ];
    for (auto, field) in steps {
        if !auto {
            continue;
        }
        let here = *field(&mut h);
        for f in [FACTOR, 1.0 / FACTOR] {
            let mut c = h;
            *field(&mut c) = here * f;
            let s = score(&c, &[c.ridge])?[0];
            if better(s, best) {
                best = s;
                h = c;
            }
        }
    }
    if opts.ridge.is_none() {
        let others: Vec<RidgeChoice> = RIDGES
            .iter()
            .map(|&r| RidgeChoice::Relative(r))
            .filter(|r| *r != h.ridge)
            .collect();
        for (s, r) in score(&h, &others)?.into_iter().zip(others) {
            if better(s, best) {
                best = s;
                h.ridge = r;
            }
        }
    }
    Ok((
        h,
        Some(Chosen {
            spectral_radius: h.spectral_radius,
            input_scale: h.input_scale,
            bias: h.bias,
            ridge: 0.0,
            searched,
            candidates,
            valid_steps: best.0 * v.horizon as f64,
            horizon: v.horizon,
        }),
    ))
}

/// The search's held-out forecasts: per segment, the fitted steps from `split` on are held
/// out; forecasts start at `starts` (segment, step) points there, each `horizon` steps long.
struct Validation {
    split: Vec<usize>,
    /// Per segment, the steps the search drives (`begin..end`) and its washout: at most
    /// `SEARCH_FIT / segments` fitted steps before the split, and on to the last forecast's
    /// start.
    span: Vec<(usize, usize, usize)>,
    starts: Vec<(usize, usize)>,
    horizon: usize,
}

impl Validation {
    fn new(data: &Data) -> Option<Validation> {
        let mut split = Vec::new();
        let mut starts = Vec::new();
        let held: Vec<usize> = data
            .segments
            .iter()
            .map(|s| {
                let fitted = s.len().saturating_sub(data.washout);
                (fitted as f64 * HOLD_OUT) as usize
            })
            .collect();
        // Two forecasts per segment, half a horizon apart, inside its held-out stretch.
        let horizon = held.iter().copied().max()? * 2 / 3;
        if horizon < 10 {
            return None;
        }
        let per = SEARCH_FIT / data.segments.len();
        let washout = data.washout.min(SEARCH_WASHOUT);
        let mut span = Vec::new();
        for (s, seg) in data.segments.iter().enumerate() {
            let at = seg.len() - held[s];
            split.push(at);
            let mut last = at;
            for o in [0, horizon / 2] {
                if at + o + horizon <= seg.len() {
                    starts.push((s, at + o));
                    last = at + o + 1;
                }
            }
            let begin = at.saturating_sub(per).max(data.washout) - washout;
            span.push((begin, last, washout));
        }
        (!starts.is_empty()).then_some(Validation {
            split,
            span,
            starts,
            horizon,
        })
    }

    /// `(fraction of the horizon valid, mean error)` for each ridge, with the hyperparameters
    /// `h` (their ridge unused).
    #[allow(clippy::too_many_arguments)]
    fn score(
        &self,
        data: &Data,
        lat: &Latent,
        density: f64,
        h: &Hyper,
        ridges: &[RidgeChoice],
        alpha: f64,
        units: usize,
        seed: u64,
    ) -> Result<Vec<(f64, f64)>, String> {
        let dr = draw(units, density, h, data, lat, seed, "reservoir search");
        let d = data.d;
        let mut acc = SharedRidge::new(units, d);
        let fit = |s: usize, t: usize| t < self.split[s];
        let (_, states) = teacher_force(&dr, data, alpha, &mut acc, d, &fit, &self.starts, &|s| {
            self.span[s]
        });
        let mut out = Vec::with_capacity(ridges.len());
        for &ridge in ridges {
            let mut acc = acc.clone();
            let l = lambda(ridge, &mut acc);
            let Ok((w_out, b_out)) = acc.solve(l) else {
                out.push((0.0, f64::INFINITY));
                continue;
            };
            let (mut valid, mut err) = (0.0, 0.0);
            for (&(s, t0), r0) in self.starts.iter().zip(&states) {
                let (v, e) = self.forecast(data, &dr, &w_out, &b_out, alpha, s, t0, r0);
                valid += v;
                err += e;
            }
            let m = self.starts.len() as f64;
            out.push((valid / m / self.horizon as f64, err / m));
        }
        Ok(out)
    }

    /// One closed-loop forecast from state `r0` at step `t0` of segment `s`: the steps valid
    /// and the mean z-scored rms error (each step's error capped at 1) over the horizon.
    #[allow(clippy::too_many_arguments)]
    fn forecast(
        &self,
        data: &Data,
        dr: &Drawn,
        w_out: &Mat<f64>,
        b_out: &[f64],
        alpha: f64,
        s: usize,
        t0: usize,
        r0: &[f64],
    ) -> (f64, f64) {
        let (d, w) = (data.d, data.w);
        let n = r0.len();
        let mut r = r0.to_vec();
        let (mut drive, mut scratch, mut z) = (vec![0.0; n], vec![0.0; n], vec![0.0; d]);
        let mut valid = None;
        let mut err = 0.0;
        let base = data.segments[s].start + t0;
        for t in 0..self.horizon {
            let row = data.row(base + t);
            affine_rows(w_out, &r, b_out, &mut z);
            let e = ((0..d)
                .map(|j| ((z[j] - row[j]) / data.sd[j]).powi(2))
                .sum::<f64>()
                / d as f64)
                .sqrt();
            if (e.is_nan() || e > THRESHOLD) && valid.is_none() {
                valid = Some(t);
            }
            err += if e.is_finite() { e.min(1.0) } else { 1.0 };
            drive_of(dr, &z, &row[w..], &mut drive);
            step(&dr.a, alpha, &mut r, &drive, &mut scratch);
        }
        (
            valid.unwrap_or(self.horizon) as f64,
            err / self.horizon as f64,
        )
    }
}

/// `out = W r + b` (W: out.len() x N).
fn affine_rows(w: &Mat<f64>, r: &[f64], b: &[f64], out: &mut [f64]) {
    for (o, out) in out.iter_mut().enumerate() {
        *out = b[o] + (0..r.len()).map(|i| w[(o, i)] * r[i]).sum::<f64>();
    }
}

/// The fed-back teacher of one trial for `feedback = true` (steps x m, row-major): the target
/// on covered steps; between covered segments the previous target (0 before the first)
/// until the inputs first change, then a straight line to the next segment's first target,
/// reached on its first step; after the last segment the last target. The closed loop has
/// to produce its own fed-back values on uncovered steps too, so they are fitted as well, and
/// a ramp that starts at the input event that causes it is a path the network can follow
/// (a jump at a time no input marks is not).
pub fn teacher(target: &[f64], mask: &[f64], inputs: &[f64], steps: usize, m: usize) -> Vec<f64> {
    let k = inputs.len() / steps.max(1);
    let changed = |s: usize| {
        let now = &inputs[s * k..(s + 1) * k];
        if s == 0 {
            now.iter().any(|v| *v != 0.0)
        } else {
            now != &inputs[(s - 1) * k..s * k]
        }
    };
    let mut out = vec![0.0; steps * m];
    for o in 0..m {
        let covered = |s: usize| mask[s * m + o] == 1.0;
        let mut prev = 0.0;
        let mut s = 0;
        while s < steps {
            if covered(s) {
                prev = target[s * m + o];
                out[s * m + o] = prev;
                s += 1;
                continue;
            }
            let start = s;
            let end = (start..steps).find(|&t| covered(t)).unwrap_or(steps);
            let onset = if end < steps {
                (start..end).find(|&t| changed(t)).unwrap_or(end)
            } else {
                end
            };
            let next = if end < steps {
                target[end * m + o]
            } else {
                prev
            };
            for t in start..end {
                out[t * m + o] = if t < onset {
                    prev
                } else {
                    prev + (next - prev) * (t + 1 - onset) as f64 / (end + 1 - onset) as f64
                };
            }
            s = end;
        }
    }
    out
}

/// The correlation time of a system's training inputs, in network time constants.
const INPUT_TIME: f64 = 10.0;

/// The standard deviation of the noise added to a fed-back teacher in training (Jaeger 2002's
/// stabilizing teacher noise).
const FEEDBACK_NOISE: f64 = 0.02;

/// Drives a reservoir with a task's trials; the readout rows are the task's outputs.
pub fn task(
    task: &Task,
    opts: &Options,
    setup: crate::methods::Setup,
    meta: Meta,
) -> Result<Fit, String> {
    let crate::methods::Setup { n, dt, tau, seed } = setup;
    // Trials: one set, or fresh sets (new draws and noise) up to `train` seconds.
    let first = crate::task::generate(task, dt, seed, "training trials")?;
    let m = first.outputs.len();
    let k = first.inputs.len();
    let mut sets = vec![first];
    let per_set: usize = sets[0].trials.iter().map(|t| t.steps).sum();
    let wanted = crate::time::steps(opts.train, dt);
    let mut rep = 1;
    while rep * per_set < wanted && rep < 64 {
        let next = crate::task::generate(task, dt, seed, &format!("training trials {rep}"))?;
        if next.trials == sets[0].trials {
            break; // nothing random in the task: one set says it all
        }
        sets.push(next);
        rep += 1;
    }

    let h = Hyper {
        spectral_radius: opts.spectral_radius.unwrap_or(TASK_HYPER.spectral_radius),
        input_scale: opts.input_scale.unwrap_or(TASK_HYPER.input_scale),
        bias: opts.bias.unwrap_or(TASK_HYPER.bias),
        ridge: RidgeChoice::Absolute(opts.ridge.unwrap_or(TASK_RIDGE)),
    };
    let mut rng = Rng::new(seed, "reservoir");
    let a = random_sparse(n, opts.density, h.spectral_radius, &mut rng);
    let w_in = uniform(n, k, h.input_scale, &mut rng);
    let b: Vec<f64> = (0..n).map(|_| rng.range(-h.bias, h.bias)).collect();
    let w_fb = opts.feedback.then(|| uniform(n, m, 1.0, &mut rng));

    let alpha = (dt / tau).min(1.0);
    let mut ridge = Ridge::new(n, m);
    let (mut drive, mut scratch) = (vec![0.0; n], vec![0.0; n]);
    let mut fed = vec![0.0; m];
    // With feedback, a deterministic task's one set is run several times, each with fresh
    // noise on the fed-back teacher, so the readout learns to pull a perturbed loop back.
    let passes = if w_fb.is_some() && sets.len() == 1 {
        (wanted / per_set.max(1)).clamp(1, 64)
    } else {
        1
    };
    let mut fb_rng = Rng::new(seed, "reservoir feedback noise");
    for set in std::iter::repeat_n(&sets, passes).flatten() {
        for (i, tr) in set.trials.iter().enumerate() {
            let (target, mask) = set.targets(i);
            let taught = w_fb
                .as_ref()
                .map(|_| teacher(&target, &mask, &tr.inputs, tr.steps, m));
            let mut r = vec![0.0; n];
            fed.iter_mut().for_each(|v| *v = 0.0);
            for s in 0..tr.steps {
                for o in 0..m {
                    if let Some(t) = &taught {
                        ridge.add(o, &r, t[s * m + o]);
                        fed[o] = t[s * m + o] + FEEDBACK_NOISE * fb_rng.normal();
                    } else if mask[s * m + o] == 1.0 {
                        ridge.add(o, &r, target[s * m + o]);
                    }
                }
                affine(&w_in, &tr.inputs[s * k..(s + 1) * k], &b, &mut drive);
                if let Some(w_fb) = &w_fb {
                    for (o, &v) in fed.iter().enumerate() {
                        for (i, dr) in drive.iter_mut().enumerate() {
                            *dr += w_fb[(i, o)] * v;
                        }
                    }
                }
                step(&a, alpha, &mut r, &drive, &mut scratch);
            }
        }
    }
    let samples = (0..m).map(|o| ridge.count(o)).min().unwrap_or(0);
    let (w_out, b_out) = ridge.solve(opts.ridge.unwrap_or(TASK_RIDGE))?;
    let net = assemble(
        &a,
        w_in,
        b,
        w_out,
        b_out,
        w_fb.map(|w| (w, (0..m).collect())),
        dt,
        tau,
        meta,
    );
    Ok(Fit {
        net,
        samples,
        chosen: None,
    })
}

#[cfg(test)]
mod tests {
    use super::teacher;

    #[test]
    fn the_teacher_ramps_from_the_input_event_to_the_next_target() {
        // One output, one input: a pulse at step 2, the target 1 covered on steps 4-5, then
        // an uncovered tail.
        let inputs = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let mask = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0];
        let target = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0];
        let t = teacher(&target, &mask, &inputs, 7, 1);
        let want = [0.0, 0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0, 1.0, 1.0];
        for (a, b) in t.iter().zip(want) {
            assert!((a - b).abs() < 1e-15, "{t:?}");
        }
        // No input event before the segment: the teacher jumps on its first step.
        let t = teacher(&target, &mask, &[0.0; 7], 7, 1);
        assert_eq!(t, vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    }
}
