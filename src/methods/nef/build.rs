//! The NEF build: tuning, evaluation points, one Gram matrix, decoders, weights.
//!
//! Cost: O(m N^2) for the Gram matrix (m = max(clip(500 D, 750, 2500), 2N) evaluation points,
//! streamed in blocks so the m x N activity matrix is never stored), O(N^3 / 3) for its
//! Cholesky factor, O(m N D) for the activities and right-hand sides. Memory: the N x N
//! Gram matrix plus one block of activities.

use crate::latent::spread;
use crate::latent::{self, DomainMap, Latent};
use crate::net::{Form, Net, Phi, Recurrent};
use crate::rng::Rng;
use crate::sema::model::TimeKind;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{cholesky_in_place, cholesky_in_place_scratch};
use faer::linalg::matmul::{matmul, triangular};
use faer::linalg::triangular_solve;
use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;

/// What the network statement asks of the NEF build, in numbers.
#[derive(Clone, Debug)]
pub struct Design {
    pub neurons: usize,
    pub phi: Phi,
    pub dt: f64,
    /// Per-neuron design time constants; `None` for a map without `tau` (leak 1).
    pub tau: Option<Vec<f64>>,
    pub reg: f64,
    pub eval_points: Option<usize>,
    pub intercepts: (f64, f64),
    pub seed: u64,
    /// The input column that modulates phi's gain (it must not enter the dynamics).
    pub gain_input: Option<usize>,
    /// Synapse-level constraints: the network gets full weights, solved per row.
    pub synapses: Option<crate::constraints::RowRules>,
    /// `energy(weight)`: added to the ridge, in units of `m max(A)^2`.
    pub energy: f64,
    /// Nengo's continuous Principle 3 (`g = z + tau f(z)`, `W_in ~ tau B`) instead of the exact
    /// discrete mapping: kept to show and test what it costs.
    pub continuous: bool,
}

/// The result: the arrays, with what the build measured.
pub struct NefNet {
    pub net: Net,
    /// rms decoder error of the identity over the evaluation points, in unit coordinates.
    pub decoder_rmse: f64,
    /// With synapse-level constraints: the relative increase of the recurrent decoding error
    /// they cost (`constraints::Solved::cost`).
    pub constraint_cost: Option<f64>,
    /// With synapse-level constraints: how much they change the network's one-step map,
    /// relative to the step (`verify::step_change` against the unconstrained weights). The
    /// decoding cost alone does not predict the dynamics: a row error that is small in
    /// function space can still change the flow's speed.
    pub constraint_step_change: Option<f64>,
    pub warnings: Vec<String>,
    /// How inputs enter: "none", "affine (exact)", "affine (dt B)", "joint".
    pub coupling: &'static str,
}

/// How the inputs enter the flow.
enum Coupling {
    None,
    /// `f(z) + B u`: the discrete input matrix `Bbar` (d x k, row-major), and whether it is
    /// exact (a linear f).
    Affine {
        bbar: Vec<f64>,
        exact: bool,
    },
    /// Represented jointly with the state.
    Joint,
}

// Not a power of two: a column stride of 2^k doubles thrashes the cache sets in the Gram product.
const BLOCK: usize = 1000;

/// Domain points at which the build measures the constrained network's one-step change.
const STEP_POINTS: usize = 256;

pub fn build(lat: &Latent, design: &Design) -> Result<NefNet, String> {
    let (d, k, n) = (lat.d, lat.k, design.neurons);
    if n == 0 {
        return Err("a network needs at least one neuron".into());
    }
    if d == 0 {
        return Err("the system has no state to represent".into());
    }
    let mut warnings = Vec::new();
    let kind = lat.kind();
    let dt = design.dt;
    // Per-neuron leak a_i = exp(-dt / tau_i) (0 for a map without tau).
    let a: Vec<f64> = match &design.tau {
        Some(t) => t.iter().map(|&t| (-dt / t).exp()).collect(),
        None => vec![0.0; n],
    };
    let heterogeneous = a.iter().any(|&x| x != a[0]);

    let rate = lat.rate_bound();
    let substeps = latent::substeps(dt, rate);
    let coupling = coupling(lat, design, substeps)?;
    let joint = matches!(coupling, Coupling::Joint);
    let dim = if joint { d + k } else { d };

    // The domain map; a joint representation adds each input's range as another factor.
    let map = if joint {
        let mut domains = lat.inst.domains.clone();
        let mut covered = vec![false; k];
        for (comps, r) in &lat.inst.input_ranges {
            domains.push((comps.iter().map(|c| c + d).collect(), r.clone()));
            for &c in comps {
                covered[c] = true;
            }
        }
        for (c, cov) in covered.iter().enumerate() {
            if !cov {
                return Err(format!(
                    "the input `{}` enters the dynamics nonlinearly, so the network must \
                     represent it, and that needs its range: declare `input {} in [lo, hi]`",
                    lat.sys.input_names()[c],
                    lat.sys.input_names()[c]
                ));
            }
        }
        DomainMap::new(d + k, &domains)
    } else {
        lat.map.clone()
    };
    if map.has_box {
        warnings.push(
            "a box domain is mapped so the unit ball is inscribed in it: its corners are not \
             represented"
                .into(),
        );
    }

    // Tuning.
    let mut rng = Rng::new(design.seed, "encoders");
    let enc = spread::sphere(n, dim, &mut rng);
    let mut rng = Rng::new(design.seed, "tuning");
    let (lo, hi) = design.intercepts;
    let mut gain = vec![0.0; n];
    let mut bias = vec![0.0; n];
    for i in 0..n {
        let c = rng.range(lo, hi).min(0.999);
        let level = rng.uniform();
        let (g, b) = design
            .phi
            .tune(c, level)
            .ok_or_else(|| format!("intercept {c} must be below 1"))?;
        gain[i] = g;
        bias[i] = b;
    }

    // Evaluation points and targets.
    let m = design
        .eval_points
        .unwrap_or_else(|| (500 * dim).clamp(750, 2500).max(2 * n));
    let mut rng = Rng::new(design.seed, "eval_points");
    let pts = spread::ball(m, dim, &mut rng);
    let n_out = lat.n_outputs();
    // Target columns: the identity (dim), the flow map (d), the outputs.
    let nf = dim + d + n_out;
    let cont = match (&design.tau, design.continuous) {
        (Some(t), true) if kind == TimeKind::Flow => Some((a[0], t[0])),
        _ => None,
    };
    let targets = targets(lat, &map, &pts, m, dim, joint, kind, dt, substeps, nf, cont)?;

    // Gram matrix and right-hand sides, streamed over blocks of evaluation points.
    let pop = Population {
        phi: design.phi,
        enc: &enc,
        gain: &gain,
        bias: &bias,
        dim,
    };
    let par = Par::rayon(0);
    let mut gram = crate::budget::try_zeros(n, n)?;
    let mut rhs = crate::budget::try_zeros(n, nf)?;
    let mut amax = 0.0f64;
    let mut block = vec![0.0; BLOCK * n];
    for start in (0..m).step_by(BLOCK) {
        let b = BLOCK.min(m - start);
        let act = pop.activities(&pts[start * dim..(start + b) * dim], &mut block[..b * n]);
        amax = amax.max(act.1);
        let a_b = act.0;
        triangular::matmul(
            gram.as_mut(),
            triangular::BlockStructure::TriangularLower,
            Accum::Add,
            a_b.transpose(),
            triangular::BlockStructure::Rectangular,
            a_b,
            triangular::BlockStructure::Rectangular,
            1.0,
            par,
        );
        let f_b = MatRef::from_row_major_slice(&targets[start * nf..(start + b) * nf], b, nf);
        matmul(rhs.as_mut(), Accum::Add, a_b.transpose(), f_b, 1.0, par);
    }
    if amax <= 0.0 {
        return Err("no neuron is active anywhere in the domain".into());
    }
    let sigma = design.reg * amax;
    let ridge = (m as f64 * (sigma * sigma + design.energy * amax * amax))
        .max(1e-12 * amax * amax * m as f64);
    for i in 0..n {
        gram[(i, i)] += ridge;
    }
    // Synapse-level constraints solve rows against the full Gram matrix: keep it.
    let full_gram = design.synapses.as_ref().map(|_| {
        Mat::from_fn(
            n,
            n,
            |i, j| if i >= j { gram[(i, j)] } else { gram[(j, i)] },
        )
    });
    let mut mem = MemBuffer::new(cholesky_in_place_scratch::<f64>(n, par, Default::default()));
    cholesky_in_place(
        gram.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|_| {
        "the decoder Gram matrix is not positive definite (raise `reg` or the number of \
         evaluation points)"
            .to_string()
    })?;
    triangular_solve::solve_lower_triangular_in_place(gram.as_ref(), rhs.as_mut(), par);
    triangular_solve::solve_upper_triangular_in_place(gram.transpose(), rhs.as_mut(), par);
    drop(gram);
    let dec = rhs; // n x nf

    // Decoder error of the identity, streamed again.
    let mut sq = 0.0;
    for start in (0..m).step_by(BLOCK) {
        let b = BLOCK.min(m - start);
        let (a_b, _) = pop.activities(&pts[start * dim..(start + b) * dim], &mut block[..b * n]);
        let mut est = Mat::<f64>::zeros(b, dim);
        matmul(
            est.as_mut(),
            Accum::Replace,
            a_b,
            dec.subcols(0, dim),
            1.0,
            par,
        );
        for r in 0..b {
            for c in 0..dim {
                let e = est[(r, c)] - pts[(start + r) * dim + c];
                sq += e * e;
            }
        }
    }
    let decoder_rmse = (sq / (m * dim) as f64).sqrt();

    // Weights. Row i of W_rec is gain_i e_i . (D_Phi - a_i D_z)^T / (1 - a_i), per
    // component; input dimensions of a joint representation decode -a v / (1 - a).
    let e_at = |i: usize, c: usize| enc[i * dim + c];
    let scale_i = |i: usize| gain[i] / (1.0 - a[i]);
    let (left, right) = if heterogeneous {
        let mut left = Mat::<f64>::zeros(n, 2 * dim);
        let mut right = Mat::<f64>::zeros(2 * dim, n);
        for i in 0..n {
            for c in 0..dim {
                left[(i, c)] = scale_i(i) * e_at(i, c);
                left[(i, dim + c)] = -scale_i(i) * a[i] * e_at(i, c);
            }
        }
        for j in 0..n {
            for c in 0..dim {
                right[(c, j)] = if c < d { dec[(j, dim + c)] } else { 0.0 };
                right[(dim + c, j)] = dec[(j, c)];
            }
        }
        (left, right)
    } else {
        let a0 = a[0];
        let mut left = Mat::<f64>::zeros(n, dim);
        let mut right = Mat::<f64>::zeros(dim, n);
        for i in 0..n {
            for c in 0..dim {
                left[(i, c)] = gain[i] * e_at(i, c);
            }
        }
        for j in 0..n {
            for c in 0..dim {
                let phi_c = if c < d { dec[(j, dim + c)] } else { 0.0 };
                right[(c, j)] = (phi_c - a0 * dec[(j, c)]) / (1.0 - a0);
            }
        }
        (left, right)
    };

    // Inputs.
    let mut w_in = Mat::<f64>::zeros(n, k);
    let mut b_rec = bias.clone();
    let coupling_name;
    match &coupling {
        Coupling::None => coupling_name = "none",
        Coupling::Affine { bbar, exact } => {
            coupling_name = if *exact {
                "affine (exact)"
            } else {
                "affine (dt B)"
            };
            // W_in = diag(gain / (1 - a)) E S^-1 Bbar.
            for i in 0..n {
                for j in 0..k {
                    let mut acc = 0.0;
                    for c in 0..d {
                        acc += e_at(i, c) * bbar[c * k + j] / map.scale[c];
                    }
                    w_in[(i, j)] = scale_i(i) * acc;
                }
            }
        }
        Coupling::Joint => {
            coupling_name = "joint";
            // v = (u - c_u) / s_u enters as S_u^-1 u, its offset through the bias.
            for i in 0..n {
                for j in 0..k {
                    let c = d + j;
                    w_in[(i, j)] = scale_i(i) * e_at(i, c) / map.scale[c];
                    b_rec[i] -= scale_i(i) * e_at(i, c) * map.center[c] / map.scale[c];
                }
            }
        }
    }

    // Readout: latent states, then outputs.
    let mut w_out = Mat::<f64>::zeros(d + n_out, n);
    let mut b_out = vec![0.0; d + n_out];
    for c in 0..d {
        b_out[c] = map.center[c];
        for j in 0..n {
            w_out[(c, j)] = map.scale[c] * dec[(j, c)];
        }
    }
    for o in 0..n_out {
        for j in 0..n {
            w_out[(d + o, j)] = dec[(j, dim + d + o)];
        }
    }

    // Encoding of a latent state (inputs of a joint representation at zero).
    let mut w_enc = Mat::<f64>::zeros(n, d);
    let mut b_enc = bias.clone();
    for i in 0..n {
        for c in 0..d {
            w_enc[(i, c)] = gain[i] * e_at(i, c) / map.scale[c];
            b_enc[i] -= w_enc[(i, c)] * map.center[c];
        }
        for c in d..dim {
            b_enc[i] -= gain[i] * e_at(i, c) * map.center[c] / map.scale[c];
        }
    }
    let init = lat.inst.init.clone();
    let mut init_state = b_enc.clone();
    for i in 0..n {
        for c in 0..d {
            init_state[i] += w_enc[(i, c)] * init[c];
        }
    }

    let factored = Recurrent::Factored { left, right };
    let (w_rec, dale_sign, constraint_cost) = match (&design.synapses, &full_gram) {
        (Some(rules), Some(g)) => {
            let w_star = factored.dense();
            let solved = crate::constraints::solve_rows(g, &w_star, rules);
            (
                Recurrent::Dense(solved.w),
                rules.dale.clone(),
                Some(solved.cost),
            )
        }
        _ => (factored.clone(), None, None),
    };
    let net = Net {
        form: Form::Current,
        phi: design.phi,
        dt,
        w_rec,
        w_in,
        b_rec,
        w_out,
        b_out,
        enc: Some((w_enc, b_enc)),
        alpha: a.iter().map(|a| 1.0 - a).collect(),
        init_state,
        gain_input: design.gain_input,
        feedback: None,
        dale_sign,
        positions: None,
        meta: Default::default(),
        engine: None,
    };
    // What the constraints do to the dynamics: the constrained network's one-step map
    // against the unconstrained one's, from the same states.
    let constraint_step_change = match constraint_cost {
        Some(_) => {
            let mut free = net.clone();
            free.w_rec = factored;
            super::verify::step_change(&net, &free, lat, STEP_POINTS, design.seed)
        }
        None => None,
    };
    Ok(NefNet {
        net,
        constraint_cost,
        constraint_step_change,
        decoder_rmse,
        warnings,
        coupling: coupling_name,
    })
}

/// A tuned population: what the activities at any point depend on.
struct Population<'a> {
    phi: Phi,
    /// Encoders, row-major (N x dim).
    enc: &'a [f64],
    gain: &'a [f64],
    bias: &'a [f64],
    dim: usize,
}

impl Population<'_> {
    /// Activities of every neuron at a block of points: a column-major (b x N) matrix
    /// written into `buf`, and its largest entry.
    fn activities<'b>(&self, pts: &[f64], buf: &'b mut [f64]) -> (MatRef<'b, f64>, f64) {
        let dim = self.dim;
        let b = pts.len() / dim.max(1);
        let n = self.gain.len();
        let max = buf[..b * n]
            .par_chunks_mut(b.max(1))
            .enumerate()
            .map(|(i, col)| {
                crate::net::fastmath::clear_upper();
                let e = &self.enc[i * dim..(i + 1) * dim];
                for (r, v) in col.iter_mut().enumerate() {
                    let p = &pts[r * dim..(r + 1) * dim];
                    let mut dot = 0.0;
                    for c in 0..dim {
                        dot += e[c] * p[c];
                    }
                    *v = self.gain[i] * dot + self.bias[i];
                }
                self.phi.eval_inplace(col);
                col.iter().fold(0.0f64, |m, &v| m.max(v))
            })
            .reduce(|| 0.0, f64::max);
        (MatRef::from_column_major_slice(&buf[..b * n], b, n), max)
    }
}

/// Row-major (m x nf) targets: the point itself, `S^-1 (Phi_dt(z, u) - c)` for the state,
/// and the outputs `y(z, u)`.
#[allow(clippy::too_many_arguments)]
fn targets(
    lat: &Latent,
    map: &DomainMap,
    pts: &[f64],
    m: usize,
    dim: usize,
    joint: bool,
    kind: TimeKind,
    dt: f64,
    substeps: usize,
    nf: usize,
    continuous: Option<(f64, f64)>,
) -> Result<Vec<f64>, String> {
    let (d, k) = (lat.d, lat.k);
    let n_out = lat.n_outputs();
    let mut out = vec![0.0; m * nf];
    out.par_chunks_mut(nf * 256)
        .enumerate()
        .try_for_each(|(chunk, rows)| {
            let mut ev = lat.evaluator();
            let mut oev = lat.output_evaluator();
            let mut full = vec![0.0; dim];
            let mut z = vec![0.0; d];
            let u = &mut vec![0.0; k];
            let mut y = vec![0.0; n_out];
            for (r, row) in rows.chunks_mut(nf).enumerate() {
                let idx = chunk * 256 + r;
                let p = &pts[idx * dim..(idx + 1) * dim];
                map.from_unit(p, &mut full);
                z.copy_from_slice(&full[..d]);
                if joint {
                    u.copy_from_slice(&full[d..]);
                }
                oev.eval(&z, u, &mut y);
                match continuous {
                    // Phi = a z + (1 - a)(z + tau f(z)), so that g = z + tau f(z).
                    Some((a, tau)) => {
                        let z0 = z.clone();
                        let mut f = vec![0.0; d];
                        ev.eval(&z0, u, &mut f);
                        for c in 0..d {
                            z[c] = z0[c] + (1.0 - a) * tau * f[c];
                        }
                    }
                    None => ev.flow_map(kind, &mut z, u, dt, substeps),
                }
                if z.iter().any(|v| !v.is_finite()) {
                    return Err(format!(
                        "the flow is not finite one step from {:?}: the system blows up inside \
                         its domain",
                        &full[..d]
                    ));
                }
                row[..dim].copy_from_slice(p);
                for c in 0..d {
                    row[dim + c] = (z[c] - map.center[c]) / map.scale[c];
                }
                row[dim + d..].copy_from_slice(&y);
            }
            Ok(())
        })?;
    Ok(out)
}

/// Decides how the inputs enter: affine (`f(z, u) = f(z, 0) + B u` with a constant B) or not.
fn coupling(lat: &Latent, design: &Design, substeps: usize) -> Result<Coupling, String> {
    let (d, k) = (lat.d, lat.k);
    let active: Vec<usize> = (0..k).filter(|&j| Some(j) != design.gain_input).collect();
    if active.is_empty() {
        return Ok(Coupling::None);
    }
    let mut ev = lat.evaluator();
    let c = lat.map.center.clone();
    let zero = vec![0.0; k];
    let (mut f0, mut f1) = (vec![0.0; d], vec![0.0; d]);
    // B from unit inputs at the centre.
    ev.eval(&c, &zero, &mut f0);
    let mut b = vec![0.0; d * k];
    let mut e = vec![0.0; k];
    for &j in &active {
        e[j] = 1.0;
        ev.eval(&c, &e, &mut f1);
        e[j] = 0.0;
        for i in 0..d {
            b[i * k + j] = f1[i] - f0[i];
        }
    }
    // Check f(z, u) - f(z, 0) = B u at seeded points; and whether f is linear in z.
    let mut rng = Rng::new(0, "coupling");
    let pts = spread::ball(24, d, &mut rng);
    let mut affine = true;
    let mut linear = true;
    let mut z = vec![0.0; d];
    let mut u = vec![0.0; k];
    let mut jac = vec![0.0; d * d];
    for j in 0..d {
        let mut zj = c.clone();
        zj[j] += lat.map.scale[j];
        ev.eval(&zj, &zero, &mut f1);
        for i in 0..d {
            jac[i * d + j] = (f1[i] - f0[i]) / lat.map.scale[j];
        }
    }
    let mut fz = vec![0.0; d];
    for p in pts.chunks(d) {
        lat.map.from_unit(p, &mut z);
        for &j in &active {
            u[j] = lat.input_map.center[j] + lat.input_map.scale[j] * rng.range(-1.0, 1.0);
        }
        ev.eval(&z, &zero, &mut fz);
        ev.eval(&z, &u, &mut f1);
        let scale = 1.0 + fz.iter().chain(&f1).fold(0.0f64, |a, v| a.max(v.abs()));
        for i in 0..d {
            let bu: f64 = (0..k).map(|j| b[i * k + j] * u[j]).sum();
            if ((f1[i] - fz[i]) - bu).abs() > 1e-9 * scale {
                affine = false;
            }
            let lin: f64 = f0[i] + (0..d).map(|j| jac[i * d + j] * (z[j] - c[j])).sum::<f64>();
            if (fz[i] - lin).abs() > 1e-9 * scale {
                linear = false;
            }
        }
    }
    if !affine {
        return Ok(Coupling::Joint);
    }
    let exact = (linear || lat.kind() == TimeKind::Map) && !design.continuous;
    let bbar = match lat.kind() {
        TimeKind::Flow if design.continuous => {
            let (a, tau) = match &design.tau {
                Some(t) => ((-design.dt / t[0]).exp(), t[0]),
                None => (0.0, design.dt),
            };
            b.iter().map(|v| v * (1.0 - a) * tau).collect()
        }
        TimeKind::Map => b,
        TimeKind::Flow if linear => {
            // Bbar = Phi_dt(c, e_j) - Phi_dt(c, 0), exact for a linear flow.
            let mut base = c.clone();
            ev.flow_map(TimeKind::Flow, &mut base, &zero, design.dt, substeps);
            let mut bbar = vec![0.0; d * k];
            for &j in &active {
                let mut zj = c.clone();
                e[j] = 1.0;
                ev.flow_map(TimeKind::Flow, &mut zj, &e, design.dt, substeps);
                e[j] = 0.0;
                for i in 0..d {
                    bbar[i * k + j] = zj[i] - base[i];
                }
            }
            bbar
        }
        TimeKind::Flow => b.iter().map(|v| v * design.dt).collect(),
    };
    Ok(Coupling::Affine { bbar, exact })
}

/// Grid positions, row-major (n x 3 at most): neuron i at `x = i mod nx`,
/// `y = (i / nx) mod ny`, `z = i / (nx ny)`.
pub fn grid_positions(grid: &[i64], n: usize) -> Vec<Vec<f64>> {
    let dims: Vec<usize> = grid.iter().map(|&g| g.max(1) as usize).collect();
    (0..n)
        .map(|i| {
            let mut rest = i;
            dims.iter()
                .map(|&g| {
                    let v = rest % g;
                    rest /= g;
                    v as f64
                })
                .collect()
        })
        .collect()
}
