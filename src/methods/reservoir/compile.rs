//! `reservoir(mode = compile)`: a data-free compile (Kim & Bassett 2023, "neural machine
//! code"), in the file's time base (METHODS.md section 4).
//!
//! In unit coordinates `x = (z - c) / h` (the domain map), the base network `A = 0`,
//! `B ~ U(-b, b)`, operating point `r* ~ U(-0.5, 0.5)`, `d = artanh(r*)`, has
//! `h(x) = tanh(B x + d) = sum_p C[:, p] x^p` over monomials of degree <= D, with
//! `C[i, p] = tanh^(|p|)(d_i) prod_j B_ij^p_j / p_j!`. The file steps
//! `r' = (1 - alpha) r + alpha tanh(B W r + d)`, so `x = W r` obeys
//! `x' = x + alpha (W h(x) - x)`; matching coefficients with the one-step flow map,
//! `W C = O`, `O = E_x + P_dt / alpha` (`P_dt`: the least-squares monomial coefficients of
//! `Phi_dt(x) - x` over the domain), solved with minimum norm. The recurrent weights are the
//! rank-d product `B W`, stored factored. Cost: O(N P^2 + m P^2) for m sample points and P
//! monomials, independent of any data.

use super::Options;
use crate::latent::Latent;
use crate::net::{Form, Meta, Net, Phi, Recurrent};
use crate::rng::Rng;
use faer::Mat;

/// The compiled network and what the compile measured.
pub struct Compiled {
    pub net: Net,
    /// The degree compiled (the option's, or the automatic choice).
    pub degree: usize,
    /// The degree-D polynomial flow map's one-step error against the exact one, rms over
    /// held-out domain points relative to the rms displacement (the worst block).
    pub poly_error: f64,
    /// The network's one-step displacement against the polynomial's, the same way: what the
    /// readout fit leaves (all blocks).
    pub fit_error: f64,
    /// `rms(sum_i |w_ji r_i|) / rms(sum_i w_ji r_i)` over held-out points, the worst state: a
    /// relative error e in the readout weights moves a state by up to about e times this.
    pub condition: f64,
    /// The input scales chosen, one per block.
    pub scales: Vec<f64>,
    /// Monomials, all blocks.
    pub monomials: usize,
    /// What the user should know (an automatic degree that could not reach `FLOW_TARGET`).
    pub warnings: Vec<String>,
}

/// Exponent vectors of the monomials of degree <= `degree` in `d` variables, by degree.
pub fn monomials(d: usize, degree: usize) -> Vec<Vec<usize>> {
    let mut out = vec![vec![0; d]];
    let mut last = vec![vec![0; d]];
    for _ in 0..degree {
        let mut next: Vec<Vec<usize>> = Vec::new();
        for m in &last {
            // Raise only variables at or after the last one raised: each monomial once.
            let first = m.iter().rposition(|&e| e > 0).unwrap_or(0);
            for j in first..d {
                let mut p = m.clone();
                p[j] += 1;
                next.push(p);
            }
        }
        out.extend(next.iter().cloned());
        last = next;
    }
    out
}

/// `tanh^(k)(x)` for k = 0..=order, from the polynomials in `t = tanh(x)`:
/// `T_0 = t`, `T_(k+1) = T_k'(t) (1 - t^2)`.
pub fn tanh_derivatives(x: f64, order: usize) -> Vec<f64> {
    let t = x.tanh();
    let mut poly = vec![0.0, 1.0]; // coefficients of T_k in powers of t
    let mut out = Vec::with_capacity(order + 1);
    for _ in 0..=order {
        out.push(poly.iter().rev().fold(0.0, |acc, c| acc * t + c));
        // derivative in t, times (1 - t^2)
        let dp: Vec<f64> = (1..poly.len()).map(|i| i as f64 * poly[i]).collect();
        let mut next = vec![0.0; dp.len() + 2];
        for (i, c) in dp.iter().enumerate() {
            next[i] += c;
            next[i + 2] -= c;
        }
        poly = next;
    }
    out
}

fn eval_monomials(monos: &[Vec<usize>], x: &[f64], out: &mut [f64]) {
    for (o, m) in out.iter_mut().zip(monos) {
        *o = m.iter().zip(x).map(|(&e, &v)| v.powi(e as i32)).product();
    }
}

/// Least-squares coefficients (P x cols) of `targets` (m x cols, row-major) on the monomials
/// at the points `xs` (m x d, row-major).
fn fit(monos: &[Vec<usize>], xs: &[f64], targets: &[f64], cols: usize, d: usize) -> Mat<f64> {
    let p = monos.len();
    let m = xs.len() / d;
    let v = {
        let mut v = Mat::<f64>::zeros(m, p);
        let mut row = vec![0.0; p];
        for s in 0..m {
            eval_monomials(monos, &xs[s * d..(s + 1) * d], &mut row);
            for (j, r) in row.iter().enumerate() {
                v[(s, j)] = *r;
            }
        }
        v
    };
    let t = Mat::from_fn(m, cols, |s, c| targets[s * cols + c]);
    let g = v.transpose() * &v;
    let rhs = v.transpose() * &t;
    let sol = faer::linalg::solvers::Solve::solve(&g.partial_piv_lu(), &rhs);
    crate::net::fastmath::clear_upper();
    sol
}

/// A polynomial map in unit coordinates: per output component, coefficients over `monos`.
struct Poly<'m> {
    monos: &'m [Vec<usize>],
    at: &'m std::collections::HashMap<Vec<usize>, usize>,
    /// `coef[q * comps + i]`: component i's coefficient of monomial q.
    coef: Vec<f64>,
    comps: usize,
}

impl<'m> Poly<'m> {
    fn index(&self, e: &[usize]) -> Option<usize> {
        self.at.get(e).copied()
    }

    /// The Lie derivative `(Dg) f` of this polynomial map `g` along `f` (both over the same
    /// monomials), dropping terms above the monomial list's degree.
    fn lie(&self, f: &Poly) -> Poly<'m> {
        let d = f.comps;
        let mut out = vec![0.0; self.coef.len()];
        for (q, m) in self.monos.iter().enumerate() {
            for j in 0..d {
                if m[j] == 0 {
                    continue;
                }
                // d/dx_j of x^m = m_j x^(m - e_j)
                let mut dm = m.clone();
                dm[j] -= 1;
                for (r, fm) in f.monos.iter().enumerate() {
                    let fj = f.coef[r * d + j];
                    if fj == 0.0 {
                        continue;
                    }
                    let prod: Vec<usize> = dm.iter().zip(fm).map(|(a, b)| a + b).collect();
                    let Some(t) = self.index(&prod) else { continue };
                    for i in 0..self.comps {
                        out[t * self.comps + i] += self.coef[q * self.comps + i] * m[j] as f64 * fj;
                    }
                }
            }
        }
        Poly {
            monos: self.monos,
            at: self.at,
            coef: out,
            comps: self.comps,
        }
    }
}

/// The monomial coefficients (over `monos`, degree <= `degree`) of `Phi_dt(x) - x` for the
/// polynomial flow `f`: the Lie series `sum_k dt^k / k! L^(k-1) f`, computed over monomials of
/// degree <= `degree + 6` so the truncation drops nothing that feeds back into low degrees,
/// to 8 terms.
fn lie_series(
    f_coef: &Mat<f64>,
    f_monos: &[Vec<usize>],
    d: usize,
    degree: usize,
    dt: f64,
) -> Vec<f64> {
    let wide = monomials(d, degree + 6);
    let at: std::collections::HashMap<Vec<usize>, usize> = wide
        .iter()
        .enumerate()
        .map(|(i, m)| (m.clone(), i))
        .collect();
    let mut g = vec![0.0; wide.len() * d];
    for (q, m) in f_monos.iter().enumerate() {
        let t = at[m];
        for i in 0..d {
            g[t * d + i] = f_coef[(q, i)];
        }
    }
    let f = Poly {
        monos: &wide,
        at: &at,
        coef: g.clone(),
        comps: d,
    };
    let mut term = Poly {
        monos: &wide,
        at: &at,
        coef: g,
        comps: d,
    };
    let mut sum = vec![0.0; wide.len() * d];
    let mut factor = dt;
    for k in 1..=8 {
        for (s, t) in sum.iter_mut().zip(&term.coef) {
            *s += factor * t;
        }
        term = term.lie(&f);
        factor *= dt / (k + 1) as f64;
    }
    // Keep degree <= `degree`, in the order of `monomials(d, degree)`.
    let keep = monomials(d, degree);
    let mut out = vec![0.0; keep.len() * d];
    for (q, m) in keep.iter().enumerate() {
        let t = at[m];
        out[q * d..(q + 1) * d].copy_from_slice(&sum[t * d..(t + 1) * d]);
    }
    out
}

/// The most monomials one block may have: its polynomial fit holds 400 samples per monomial
/// (350: 49 M numbers, about 400 MB).
const MAX_MONOMIALS: usize = 350;

/// The input scales `b` of `B ~ U(-b, b)` on unit coordinates the compile tries. A small `b`
/// keeps `tanh` near its Taylor polynomial (little truncation) but needs readout weights of
/// order `b^-degree`; a large one keeps the weights small but leaves more of the flow map to
/// the neurons' higher-order terms. Each is fitted and the one whose one-step map errs least
/// on held-out points is kept (the largest among those within a factor 1.5 of the best).
pub const B_SCALES: [f64; 6] = [0.01, 0.03, 0.1, 0.2, 0.4, 0.8];

/// Ridge of the readout solve, relative to the largest singular value of the sampled
/// activities: directions weaker than this are damped, which bounds the weights near
/// `|target| / (RIDGE s_max)`.
pub const RIDGE: f64 = 1e-7;

/// The ridge of the outputs' readout (an output need not be smooth: `atan2` is not), relative
/// the same way.
pub const RIDGE_OUTPUTS: f64 = 1e-4;

/// The flow-map accuracy an automatic degree aims for: the degree-D polynomial's one-step
/// error, rms over the domain, relative to the rms one-step displacement.
pub const FLOW_TARGET: f64 = 1e-5;

/// The highest degree an automatic choice tries.
pub const MAX_AUTO_DEGREE: usize = 8;

/// Neurons per monomial an automatic degree asks for (the readout fit has some room beyond
/// the polynomial's coefficients).
pub const NEURONS_PER_MONOMIAL: usize = 2;

/// One compiled block: the states it integrates and the variables its neurons see, as indices
/// into the joint vector `(states, inputs)`; its own states come first in `vars`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub states: Vec<usize>,
    pub vars: Vec<usize>,
}

/// What `f(joint)` depends on, per component (`comps` of them from `eval`), over `nv` joint
/// variables: probed at 8 random unit points by moving one variable at a time (exact for
/// the polynomials this is for; a term that vanishes at every probe would be missed).
fn dependencies(
    nv: usize,
    comps: usize,
    eval: &mut dyn FnMut(&[f64], &mut [f64]),
    rng: &mut Rng,
) -> Vec<Vec<bool>> {
    let mut dep = vec![vec![false; nv]; comps];
    let (mut f0, mut f1) = (vec![0.0; comps], vec![0.0; comps]);
    for _ in 0..8 {
        let mut x: Vec<f64> = (0..nv).map(|_| rng.range(-0.9, 0.9)).collect();
        eval(&x, &mut f0);
        for v in 0..nv {
            let keep = x[v];
            x[v] = keep + 0.1;
            eval(&x, &mut f1);
            x[v] = keep;
            for c in 0..comps {
                let scale = f0[c].abs().max(f1[c].abs()).max(1e-300);
                if (f1[c] - f0[c]).abs() > 1e-12 * scale {
                    dep[c][v] = true;
                }
            }
        }
    }
    dep
}

/// The blocks of `reservoir(mode = compile, blocks = true)`: one per state, seeing its own
/// state and whatever else its equation reads (METHODS.md: gates wire by blocks `b_i W_j`).
pub fn blocks(lat: &Latent, seed: u64) -> Vec<Block> {
    let (d, k) = (lat.d, lat.k);
    let mut ev = lat.evaluator();
    let (mut z, mut u) = (vec![0.0; d], vec![0.0; k]);
    let mut rng = Rng::new(seed, "reservoir compile dependencies");
    let dep = dependencies(
        d + k,
        d,
        &mut |x: &[f64], f: &mut [f64]| {
            lat.map.from_unit(&x[..d], &mut z);
            lat.input_map.from_unit(&x[d..], &mut u);
            ev.eval(&z, &u, f);
        },
        &mut rng,
    );
    (0..d)
        .map(|s| Block {
            states: vec![s],
            vars: std::iter::once(s)
                .chain((0..d + k).filter(|&v| v != s && dep[s][v]))
                .collect(),
        })
        .collect()
}

/// The one-step map of the states in `states` with every other state held (as the Lie series
/// holds a block's other variables): RK4 in `substeps` steps for a flow, one application
/// for a map.
fn held_flow_map(
    ev: &mut crate::latent::Evaluator,
    kind: crate::sema::model::TimeKind,
    z: &mut [f64],
    u: &[f64],
    dt: f64,
    substeps: usize,
    states: &[usize],
) {
    let d = z.len();
    let mut f = vec![0.0; d];
    if kind == crate::sema::model::TimeKind::Map {
        ev.eval(z, u, &mut f);
        for &st in states {
            z[st] = f[st];
        }
        return;
    }
    let h = dt / substeps as f64;
    let (mut zt, mut acc) = (z.to_vec(), vec![0.0; d]);
    for _ in 0..substeps {
        let z0 = z.to_vec();
        acc.iter_mut().for_each(|a| *a = 0.0);
        zt.copy_from_slice(&z0);
        for (weight, next) in [(1.0, 0.5), (2.0, 0.5), (2.0, 1.0), (1.0, 0.0)] {
            ev.eval(&zt, u, &mut f);
            for &st in states {
                acc[st] += weight * f[st];
                zt[st] = z0[st] + next * h * f[st];
            }
        }
        for &st in states {
            z[st] = z0[st] + h / 6.0 * acc[st];
        }
    }
}

/// Sample points of a block: its states in their unit ball, every other variable in [-1, 1].
fn block_points(block: &Block, m: usize, rng: &mut Rng) -> Vec<f64> {
    block_points_out_to(block, 0, m, 1.0, rng)
}

/// The readout is fitted a little beyond the domain (its states out to this radius, in unit
/// coordinates), so that a trajectory that grazes the edge meets weights fitted there
/// rather than the fit's extrapolation.
pub const MARGIN: f64 = 1.2;

/// `block_points` with the states (own and held) scaled by `radius`; inputs stay in [-1, 1].
/// (`d`: the system's states, which come before the inputs among the variables).
fn block_points_out_to(block: &Block, d: usize, m: usize, radius: f64, rng: &mut Rng) -> Vec<f64> {
    let (ds, nv) = (block.states.len(), block.vars.len());
    let ball = crate::latent::spread::ball(m, ds, rng);
    let mut pts = vec![0.0; m * nv];
    for s in 0..m {
        for a in 0..ds {
            pts[s * nv + a] = radius * ball[s * ds + a];
        }
        for (j, &v) in block.vars.iter().enumerate().skip(ds) {
            let r = if v < d { radius } else { 1.0 };
            pts[s * nv + j] = rng.range(-r, r);
        }
    }
    pts
}

/// Puts a block's unit point `pt` into latent coordinates (every variable it does not see at
/// the centre of its range).
fn to_latent(lat: &Latent, block: &Block, pt: &[f64], z: &mut [f64], u: &mut [f64]) {
    let d = lat.d;
    let mut xs = vec![0.0; d];
    let mut us = vec![0.0; lat.k];
    for (a, &v) in block.vars.iter().enumerate() {
        if v < d {
            xs[v] = pt[a];
        } else {
            us[v - d] = pt[a];
        }
    }
    lat.map.from_unit(&xs, z);
    lat.input_map.from_unit(&us, u);
}

/// The exact one-step displacement `Phi_dt(x) - x` of a block's states at unit points, in
/// unit coordinates (`pts.len() / nv` rows of `ds`).
fn exact_steps(lat: &Latent, block: &Block, pts: &[f64], dt: f64) -> Vec<f64> {
    let (d, k) = (lat.d, lat.k);
    let (ds, nv) = (block.states.len(), block.vars.len());
    let substeps = crate::latent::substeps(dt, lat.rate_bound());
    let mut ev = lat.evaluator();
    let (mut z, mut u, mut x1) = (vec![0.0; d], vec![0.0; k], vec![0.0; d]);
    let mut step = vec![0.0; pts.len() / nv * ds];
    for (s, pt) in pts.chunks(nv).enumerate() {
        to_latent(lat, block, pt, &mut z, &mut u);
        if ds == d {
            ev.flow_map(lat.kind(), &mut z, &u, dt, substeps);
        } else {
            held_flow_map(&mut ev, lat.kind(), &mut z, &u, dt, substeps, &block.states);
        }
        lat.map.to_unit(&z, &mut x1);
        for (a, &st) in block.states.iter().enumerate() {
            step[s * ds + a] = x1[st] - pt[a];
        }
    }
    step
}

/// A block's polynomial flow map of one degree: the monomial coefficients of its states'
/// one-step displacement, and how well they match the exact one.
pub struct PolyMap {
    pub monos: Vec<Vec<usize>>,
    /// P x states.
    pub coef: Mat<f64>,
    /// rms `|P_D(x) - (Phi_dt(x) - x)|` over held-out points, relative to the rms
    /// displacement.
    pub error: f64,
}

/// Evaluates a polynomial map (`coef`, P x cols) at unit point `x`.
fn eval_poly(monos: &[Vec<usize>], coef: &Mat<f64>, x: &[f64], row: &mut [f64], out: &mut [f64]) {
    eval_monomials(monos, x, row);
    for (c, o) in out.iter_mut().enumerate() {
        *o = (0..monos.len()).map(|q| row[q] * coef[(q, c)]).sum();
    }
}

/// The degree-`degree` polynomial one-step map of `block`: a polynomial flow (its
/// least-squares fit on the monomials is exact) gets the Taylor coefficients of its flow map
/// from the Lie series (the held variables with zero flow); a map, or a flow with other terms,
/// the least-squares projection of `Phi_dt(x) - x` over the domain. `check` holds held-out
/// points and their exact steps, on which the error is measured.
fn poly_map(
    lat: &Latent,
    block: &Block,
    degree: usize,
    dt: f64,
    check: (&[f64], &[f64]),
    rng: &mut Rng,
) -> PolyMap {
    let (d, k) = (lat.d, lat.k);
    let ds = block.states.len();
    let nv = block.vars.len();
    let monos = monomials(nv, degree);
    let p = monos.len();
    let samples = (400 * p).max(2000);
    let pts = block_points(block, samples, rng);
    let mut ev = lat.evaluator();
    let (mut z, mut u) = (vec![0.0; d], vec![0.0; k]);
    let mut f = vec![0.0; d];
    let mut fs = vec![0.0; samples * nv];
    for (s, pt) in pts.chunks(nv).enumerate() {
        to_latent(lat, block, pt, &mut z, &mut u);
        ev.eval(&z, &u, &mut f);
        for (a, &st) in block.states.iter().enumerate() {
            fs[s * nv + a] = f[st] / lat.map.scale[st];
        }
    }
    let f_coef = fit(&monos, &pts, &fs, nv, nv);
    let mut worst = 0.0f64;
    let mut scale_f = 0.0f64;
    let mut row = vec![0.0; p];
    for (s, pt) in pts.chunks(nv).enumerate() {
        eval_monomials(&monos, pt, &mut row);
        for j in 0..ds {
            let v: f64 = (0..p).map(|q| row[q] * f_coef[(q, j)]).sum();
            worst = worst.max((v - fs[s * nv + j]).abs());
            scale_f = scale_f.max(fs[s * nv + j].abs());
        }
    }
    let polynomial =
        lat.kind() == crate::sema::model::TimeKind::Flow && worst <= 1e-9 * scale_f.max(1e-300);
    let coef = if polynomial {
        let c = lie_series(&f_coef, &monos, nv, degree, dt);
        Mat::from_fn(p, ds, |q, j| c[q * nv + j])
    } else {
        let step = exact_steps(lat, block, &pts, dt);
        fit(&monos, &pts, &step, ds, nv)
    };
    let (pts_c, step_c) = check;
    let (mut num, mut den) = (0.0, 0.0);
    let mut out = vec![0.0; ds];
    for (s, pt) in pts_c.chunks(nv).enumerate() {
        eval_poly(&monos, &coef, pt, &mut row, &mut out);
        for j in 0..ds {
            let e = step_c[s * ds + j];
            num += (out[j] - e).powi(2);
            den += e * e;
        }
    }
    let error = if den > 0.0 {
        (num / den).sqrt()
    } else {
        num.sqrt()
    };
    PolyMap { monos, coef, error }
}

/// A block's weights: `b` (its neurons x its variables), the bias `d`, the readout rows of
/// its states (`w`, states x neurons) and of the outputs it reads (`w_y`, in `outputs`).
struct BlockWeights {
    b: Mat<f64>,
    bias: Vec<f64>,
    w: Mat<f64>,
    w_y: Mat<f64>,
    /// The chosen input scale.
    scale: f64,
    /// Held-out rms error of the network's one-step displacement against the polynomial's
    /// (squared sum, squared norm).
    fit: (f64, f64),
    /// `rms(sum_i |w_ji r_i|) / rms(sum_i w_ji r_i)`, the worst state.
    condition: f64,
}

/// The readout of `h` (m x nb) onto `t` (m x cols) by ridge through a thin SVD:
/// `W = t^T U diag(s / (s^2 + l^2)) V^T`, `l = RIDGE s_max`. Returns (cols x nb).
fn ridge_readout(h: &Mat<f64>, targets: &[(&Mat<f64>, f64)]) -> Result<Vec<Mat<f64>>, String> {
    let svd = h.thin_svd().map_err(|e| format!("SVD: {e:?}"))?;
    crate::net::fastmath::clear_upper();
    let (u, s, v) = (svd.U(), svd.S(), svd.V());
    let r = s.dim();
    let smax = (0..r).map(|i| s[i]).fold(0.0f64, f64::max);
    Ok(targets
        .iter()
        .map(|&(t, ridge)| {
            let l2 = (ridge * smax).powi(2);
            let gain: Vec<f64> = (0..r).map(|i| s[i] / (s[i] * s[i] + l2)).collect();
            // (cols x r) = t^T U, scaled, then times V^T.
            let tu = t.transpose() * u;
            let scaled = Mat::from_fn(tu.nrows(), r, |c, q| tu[(c, q)] * gain[q]);
            scaled * v.transpose()
        })
        .collect())
}

/// The activities `tanh(B x + d)` at unit points (rows).
fn activities(b: &Mat<f64>, bias: &[f64], pts: &[f64]) -> Mat<f64> {
    let nv = b.ncols();
    let m = pts.len() / nv.max(1);
    Mat::from_fn(m, b.nrows(), |s, i| {
        let x = &pts[s * nv..(s + 1) * nv];
        let a: f64 = (0..nv).map(|j| b[(i, j)] * x[j]).sum();
        (a + bias[i]).tanh()
    })
}

/// Compiles one block on `nb` neurons: its states' polynomial one-step map `poly`, with the
/// variables it does not integrate held over the step, fitted by ridge over sampled points
/// for each input scale of `B_SCALES`.
#[allow(clippy::too_many_arguments)]
fn compile_block(
    lat: &Latent,
    block: &Block,
    outputs: &[usize],
    nb: usize,
    poly: &PolyMap,
    alpha: f64,
    rng: &mut Rng,
) -> Result<BlockWeights, String> {
    let (d, k) = (lat.d, lat.k);
    let ds = block.states.len();
    let nv = block.vars.len();
    let p = poly.monos.len();
    let shape = Mat::from_fn(nb, nv, |_, _| rng.range(-1.0, 1.0));
    let bias: Vec<f64> = (0..nb).map(|_| rng.range(-0.5, 0.5).atanh()).collect();
    let m = (4 * nb).max(20 * p).max(1000);
    let pts = block_points_out_to(block, d, m, MARGIN, rng);
    let held = block_points_out_to(block, d, m.min(2000), MARGIN, rng);
    // The target of `W r`: `x + P_D(x) / alpha`, so that `x' = x + alpha (W r - x)` steps
    // by `P_D(x)`.
    let targets = |pts: &[f64]| -> Mat<f64> {
        let mut row = vec![0.0; p];
        let mut out = vec![0.0; ds];
        let rows = pts.len() / nv;
        let mut t = Mat::<f64>::zeros(rows, ds);
        for s in 0..rows {
            let pt = &pts[s * nv..(s + 1) * nv];
            eval_poly(&poly.monos, &poly.coef, pt, &mut row, &mut out);
            for j in 0..ds {
                t[(s, j)] = pt[j] + out[j] / alpha;
            }
        }
        t
    };
    let (t_fit, t_held) = (targets(&pts), targets(&held));
    // Outputs, fitted directly on the same activities.
    let outputs_at = |pts: &[f64]| -> Mat<f64> {
        let rows = pts.len() / nv;
        let mut t = Mat::<f64>::zeros(rows, outputs.len());
        if outputs.is_empty() {
            return t;
        }
        let mut oev = lat.output_evaluator();
        let (mut z, mut u) = (vec![0.0; d], vec![0.0; k]);
        let mut y = vec![0.0; lat.n_outputs()];
        for s in 0..rows {
            to_latent(lat, block, &pts[s * nv..(s + 1) * nv], &mut z, &mut u);
            oev.eval(&z, &u, &mut y);
            for (a, &r) in outputs.iter().enumerate() {
                t[(s, a)] = y[r];
            }
        }
        t
    };
    let y_fit = outputs_at(&pts);

    let mut best: Option<BlockWeights> = None;
    let mut tried: Vec<BlockWeights> = Vec::new();
    for &bs in &B_SCALES {
        let b = Mat::from_fn(nb, nv, |i, j| bs * shape[(i, j)]);
        let h = activities(&b, &bias, &pts);
        let mut sol = ridge_readout(&h, &[(&t_fit, RIDGE), (&y_fit, RIDGE_OUTPUTS)])?;
        let w_y = sol.pop().unwrap_or_else(|| Mat::zeros(0, nb));
        let w = sol.pop().unwrap_or_else(|| Mat::zeros(ds, nb));
        if !w.norm_l2().is_finite() || !w_y.norm_l2().is_finite() {
            continue;
        }
        // Held-out: the one-step displacement alpha (W r - x) against the polynomial's.
        let hh = activities(&b, &bias, &held);
        let (mut num, mut den) = (0.0, 0.0);
        let mut cond = 0.0f64;
        for j in 0..ds {
            let (mut abs2, mut sum2) = (0.0, 0.0);
            for s in 0..hh.nrows() {
                let (mut v, mut a) = (0.0, 0.0);
                for i in 0..nb {
                    let t = w[(j, i)] * hh[(s, i)];
                    v += t;
                    a += t.abs();
                }
                let x = held[s * nv + j];
                num += (alpha * (v - t_held[(s, j)])).powi(2);
                den += (alpha * (t_held[(s, j)] - x)).powi(2);
                abs2 += a * a;
                sum2 += v * v;
            }
            cond = cond.max((abs2 / sum2.max(1e-300)).sqrt());
        }
        tried.push(BlockWeights {
            b,
            bias: bias.clone(),
            w,
            w_y,
            scale: bs,
            fit: (num, den),
            condition: cond,
        });
    }
    let rel = |bw: &BlockWeights| {
        if bw.fit.1 > 0.0 {
            (bw.fit.0 / bw.fit.1).sqrt()
        } else {
            bw.fit.0.sqrt()
        }
    };
    let least = tried.iter().map(rel).fold(f64::INFINITY, f64::min);
    for bw in tried {
        // The largest scale within a factor 1.5 of the best: the same accuracy with smaller
        // weights.
        if rel(&bw) <= 1.5 * least {
            best = Some(bw);
        }
    }
    best.ok_or_else(|| "the readout solve gave no finite weights at any input scale".into())
}

/// Compiles the system of `lat` into `n` units: one block over all states and inputs, or with
/// `blocks = true` one block per state wired by `b_i W_j` (the neurons split in proportion to
/// the blocks' monomial counts). Either way the network is `W_rec = L R` with `L` (N x d) the
/// neurons' input weights on the states (zero where a block does not see a state) and `R`
/// (d x N) each state's readout from its own block.
pub fn system(
    lat: &Latent,
    opts: &Options,
    setup: crate::methods::Setup,
    meta: Meta,
) -> Result<Compiled, String> {
    let crate::methods::Setup { n, dt, tau, seed } = setup;
    let (d, k) = (lat.d, lat.k);
    let blocks = if opts.blocks {
        blocks(lat, seed)
    } else {
        vec![Block {
            states: (0..d).collect(),
            vars: (0..d + k).collect(),
        }]
    };
    // Each output is read from the first block that sees everything it depends on.
    let n_out = lat.n_outputs();
    let mut outputs: Vec<Vec<usize>> = vec![Vec::new(); blocks.len()];
    if n_out > 0 {
        let mut oev = lat.output_evaluator();
        let (mut z, mut u) = (vec![0.0; d], vec![0.0; k]);
        let mut rng = Rng::new(seed, "reservoir compile output dependencies");
        let dep = dependencies(
            d + k,
            n_out,
            &mut |x: &[f64], y: &mut [f64]| {
                lat.map.from_unit(&x[..d], &mut z);
                lat.input_map.from_unit(&x[d..], &mut u);
                oev.eval(&z, &u, y);
            },
            &mut rng,
        );
        let names = &meta.outputs;
        for r in 0..n_out {
            let b = blocks
                .iter()
                .position(|b| (0..d + k).all(|v| !dep[r][v] || b.vars.contains(&v)))
                .ok_or_else(|| {
                    format!(
                        "output `{}` reads variables that no single block sees: compile it \
                         with `blocks = false`",
                        names.get(r).map_or("?", String::as_str)
                    )
                })?;
            outputs[b].push(r);
        }
    }
    // Count before listing: C(v + D, D) grows fast, and the fit holds 400 P samples x P.
    let count = |v: usize, degree: usize| -> usize {
        (1..=degree).fold(1usize, |c, i| c.saturating_mul(v + i) / i)
    };
    let total_at = |degree: usize| -> (usize, usize) {
        let sizes: Vec<usize> = blocks.iter().map(|b| count(b.vars.len(), degree)).collect();
        (sizes.iter().sum(), sizes.iter().copied().max().unwrap_or(0))
    };
    let alpha = (dt / tau).min(1.0);
    let mut rng = Rng::new(seed, "reservoir compile");
    // Held-out points and their exact steps, per block, for the polynomial's error.
    let checks: Vec<(Vec<f64>, Vec<f64>)> = blocks
        .iter()
        .map(|b| {
            let pts = block_points(b, 1000, &mut rng);
            let steps = exact_steps(lat, b, &pts, dt);
            (pts, steps)
        })
        .collect();
    let poly_maps = |degree: usize, rng: &mut Rng| -> Vec<PolyMap> {
        blocks
            .iter()
            .zip(&checks)
            .map(|(b, (pts, steps))| poly_map(lat, b, degree, dt, (pts, steps), rng))
            .collect()
    };
    let worst = |maps: &[PolyMap]| maps.iter().map(|m| m.error).fold(0.0f64, f64::max);
    let mut warnings = Vec::new();
    let (degree, maps) = match opts.degree {
        Some(degree) => {
            let degree = degree.max(1);
            let (total, largest) = total_at(degree);
            if largest > MAX_MONOMIALS {
                return Err(format!(
                    "`reservoir(mode = compile, degree = {degree})` gives {largest} monomials{}; \
                     the compile fits 400 samples per monomial and stops at {MAX_MONOMIALS}: \
                     lower `degree`{}",
                    if blocks.len() == 1 {
                        ""
                    } else {
                        " in one block"
                    },
                    if blocks.len() == 1 && d > 1 {
                        " or compile one block per state (`blocks = true`)"
                    } else {
                        ""
                    }
                ));
            }
            if n < total {
                let vars = blocks.iter().map(|b| b.vars.len()).max().unwrap_or(0);
                return Err(format!(
                    "`reservoir(mode = compile)` needs at least one neuron per monomial: \
                     {total} monomials of degree <= {degree} in {} (states and inputs; about \
                     {} neurons work well)",
                    if blocks.len() == 1 {
                        format!("{vars} variables")
                    } else {
                        format!("{} blocks of up to {vars} variables", blocks.len())
                    },
                    NEURONS_PER_MONOMIAL * total
                ));
            }
            (degree, poly_maps(degree, &mut rng))
        }
        None => {
            // The smallest degree whose polynomial meets FLOW_TARGET with
            // NEURONS_PER_MONOMIAL neurons per monomial.
            let mut chosen: Option<(usize, Vec<PolyMap>)> = None;
            for degree in 1..=MAX_AUTO_DEGREE {
                let (total, largest) = total_at(degree);
                if largest > MAX_MONOMIALS {
                    break;
                }
                let maps = poly_maps(degree, &mut rng);
                let err = worst(&maps);
                if NEURONS_PER_MONOMIAL * total > n {
                    // Out of neurons: say what the next degree would need when it helps.
                    let Some((kept, kept_maps)) = chosen.take() else {
                        return Err(format!(
                            "`reservoir(mode = compile)` needs at least {} neurons for degree \
                             1 ({total} monomials, {NEURONS_PER_MONOMIAL} neurons each)",
                            NEURONS_PER_MONOMIAL * total
                        ));
                    };
                    let have = worst(&kept_maps);
                    if have > FLOW_TARGET {
                        warnings.push(format!(
                            "the automatic degree is {kept}: its polynomial flow map errs by \
                             {} of a step (the target is {}); degree {degree} ({}) needs {} \
                             neurons",
                            percent(have),
                            percent(FLOW_TARGET),
                            percent(err),
                            NEURONS_PER_MONOMIAL * total
                        ));
                    }
                    chosen = Some((kept, kept_maps));
                    break;
                }
                let done = err <= FLOW_TARGET;
                chosen = Some((degree, maps));
                if done {
                    break;
                }
            }
            let (degree, maps) = chosen.ok_or_else(|| {
                format!(
                    "`reservoir(mode = compile)`: even degree 1 has more than \
                     {MAX_MONOMIALS} monomials in one block"
                )
            })?;
            if warnings.is_empty() && worst(&maps) > FLOW_TARGET {
                warnings.push(format!(
                    "the automatic degree stops at {degree}: its polynomial flow map errs by {} \
                     of a step (the target is {})",
                    percent(worst(&maps)),
                    percent(FLOW_TARGET)
                ));
            }
            (degree, maps)
        }
    };
    let sizes: Vec<usize> = maps.iter().map(|m| m.monos.len()).collect();
    let total: usize = sizes.iter().sum();
    // Neurons in proportion to the monomials, the remainder to the first blocks.
    let mut counts: Vec<usize> = sizes.iter().map(|&p| n * p / total).collect();
    let mut left_over = n - counts.iter().sum::<usize>();
    for c in counts.iter_mut() {
        if left_over == 0 {
            break;
        }
        *c += 1;
        left_over -= 1;
    }

    let mut b_x = Mat::<f64>::zeros(n, d);
    let mut b_v = Mat::<f64>::zeros(n, k);
    let mut bias = vec![0.0; n];
    let mut w = Mat::<f64>::zeros(d, n);
    let mut w_y = Mat::<f64>::zeros(n_out, n);
    let (mut fit_num, mut fit_den, mut condition) = (0.0, 0.0, 0.0f64);
    let mut scales = Vec::new();
    let mut at = 0;
    for (bi, block) in blocks.iter().enumerate() {
        let nb = counts[bi];
        let bw = compile_block(lat, block, &outputs[bi], nb, &maps[bi], alpha, &mut rng)?;
        for i in 0..nb {
            for (a, &v) in block.vars.iter().enumerate() {
                if v < d {
                    b_x[(at + i, v)] = bw.b[(i, a)];
                } else {
                    b_v[(at + i, v - d)] = bw.b[(i, a)];
                }
            }
            bias[at + i] = bw.bias[i];
            for (a, &st) in block.states.iter().enumerate() {
                w[(st, at + i)] = bw.w[(a, i)];
            }
            for (a, &r) in outputs[bi].iter().enumerate() {
                w_y[(r, at + i)] = bw.w_y[(a, i)];
            }
        }
        fit_num += bw.fit.0;
        fit_den += bw.fit.1;
        condition = condition.max(bw.condition);
        scales.push(bw.scale);
        at += nb;
    }
    let fit_error = if fit_den > 0.0 {
        (fit_num / fit_den).sqrt()
    } else {
        fit_num.sqrt()
    };
    let poly_error = worst(&maps);

    // Inputs: v = (u - c_u) / h_u enters as B_v v.
    let (cu, hu) = (&lat.input_map.center, &lat.input_map.scale);
    let w_in = Mat::from_fn(n, k, |i, j| b_v[(i, j)] / hu[j]);
    let b_rec: Vec<f64> = (0..n)
        .map(|i| bias[i] - (0..k).map(|j| w_in[(i, j)] * cu[j]).sum::<f64>())
        .collect();

    // Readout of the states: z = c + h (W r).
    let mut w_out = Mat::<f64>::zeros(d + n_out, n);
    let mut b_out = vec![0.0; d + n_out];
    for j in 0..d {
        for i in 0..n {
            w_out[(j, i)] = lat.map.scale[j] * w[(j, i)];
        }
        b_out[j] = lat.map.center[j];
    }
    for r in 0..n_out {
        for i in 0..n {
            w_out[(d + r, i)] = w_y[(r, i)];
        }
    }
    // The encoder: x = S^-1 (z - c) enters as B_x x (with zero input).
    let w_enc = Mat::from_fn(n, d, |i, j| b_x[(i, j)] / lat.map.scale[j]);
    let b_enc: Vec<f64> = (0..n)
        .map(|i| {
            b_rec[i]
                - (0..d)
                    .map(|j| w_enc[(i, j)] * lat.map.center[j])
                    .sum::<f64>()
        })
        .collect();
    let mut net = Net {
        form: Form::Rate,
        phi: Phi::Tanh,
        dt,
        w_rec: Recurrent::Factored {
            left: b_x,
            right: w,
        },
        w_in,
        b_rec,
        w_out,
        b_out,
        enc: Some((w_enc, b_enc)),
        alpha: vec![alpha; n],
        init_state: vec![0.0; n],
        gain_input: None,
        dale_sign: None,
        positions: None,
        feedback: None,
        meta,
        engine: None,
    };
    net.init_state = net
        .encode(&lat.inst.init)
        .ok_or("the compiled network has no encoder")?;
    Ok(Compiled {
        net,
        degree,
        poly_error,
        fit_error,
        condition,
        scales,
        monomials: total,
        warnings,
    })
}

/// A fraction as a percentage with two significant digits.
pub fn percent(x: f64) -> String {
    let p = 100.0 * x;
    if p >= 10.0 {
        format!("{p:.0} %")
    } else if p >= 0.01 {
        format!("{p:.2} %")
    } else {
        format!("{p:.1e} %")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monomials_are_counted_once() {
        // C(d + D, D): 20 for 3 variables up to degree 3, 10 for 2 up to 3.
        assert_eq!(monomials(3, 3).len(), 20);
        assert_eq!(monomials(2, 3).len(), 10);
        let mut m = monomials(3, 3);
        m.sort();
        m.dedup();
        assert_eq!(m.len(), 20);
    }

    #[test]
    fn tanh_derivatives_match_closed_forms() {
        for &x in &[-0.7, 0.0, 0.3, 1.2] {
            let t: f64 = f64::tanh(x);
            let s = 1.0 - t * t;
            let want = [
                t,
                s,
                -2.0 * t * s,
                s * (6.0 * t * t - 2.0),
                s * (16.0 * t - 24.0 * t.powi(3)),
            ];
            let got = tanh_derivatives(x, 4);
            for (a, b) in got.iter().zip(want) {
                assert!((a - b).abs() < 1e-14, "{x}: {got:?}");
            }
        }
    }
}
