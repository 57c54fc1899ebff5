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
    /// `|W C - O| / |O|` (Frobenius), the in-basis residual.
    pub residual: f64,
    /// Monomials and neurons.
    pub monomials: usize,
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

/// `pinv(M)` by a thin SVD, singular values below `1e-13 max` dropped.
fn pinv(m: &Mat<f64>) -> Result<Mat<f64>, String> {
    let svd = m.thin_svd().map_err(|e| format!("SVD: {e:?}"))?;
    crate::net::fastmath::clear_upper();
    let (u, s, v) = (svd.U(), svd.S(), svd.V());
    let k = s.dim();
    let smax = (0..k).map(|i| s[i]).fold(0.0f64, f64::max);
    let inv: Vec<f64> = (0..k)
        .map(|i| if s[i] > 1e-13 * smax { 1.0 / s[i] } else { 0.0 })
        .collect();
    Ok(Mat::from_fn(m.ncols(), m.nrows(), |i, j| {
        (0..k).map(|q| v[(i, q)] * inv[q] * u[(j, q)]).sum()
    }))
}

/// The most monomials one block may have: its least-squares fit holds 400 P x P numbers
/// (350: 49 M, about 400 MB).
const MAX_MONOMIALS: usize = 350;

/// Input scale `b` of `B ~ U(-b, b)` on unit coordinates: `|B x|` stays near 1e-2, where the
/// degree-3 Taylor expansion of tanh errs by about `b^4` relative.
const B_SCALE: f64 = 0.005;

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

/// A block's weights: `b` (its neurons x its variables), the bias `d`, the readout rows of
/// its states (`w`, states x neurons) and of the outputs it reads (`w_y`, in `outputs`).
struct BlockWeights {
    b: Mat<f64>,
    bias: Vec<f64>,
    w: Mat<f64>,
    w_y: Mat<f64>,
    residual: (f64, f64),
    monomials: usize,
}

/// Compiles one block on `nb` neurons: its states' one-step flow map over the monomials of
/// its variables, the variables it does not integrate held over the step.
#[allow(clippy::too_many_arguments)]
fn compile_block(
    lat: &Latent,
    block: &Block,
    outputs: &[usize],
    nb: usize,
    degree: usize,
    dt: f64,
    alpha: f64,
    rng: &mut Rng,
) -> Result<BlockWeights, String> {
    let (d, k) = (lat.d, lat.k);
    let ds = block.states.len();
    let nv = block.vars.len();
    let monos = monomials(nv, degree);
    let p = monos.len();
    let b = Mat::from_fn(nb, nv, |_, _| rng.range(-B_SCALE, B_SCALE));
    let bias: Vec<f64> = (0..nb).map(|_| rng.range(-0.5, 0.5).atanh()).collect();

    // C, with column p scaled by b^-|p| so every column is O(1).
    let scale: Vec<f64> = monos
        .iter()
        .map(|m| B_SCALE.powi(m.iter().sum::<usize>() as i32))
        .collect();
    let mut c = Mat::<f64>::zeros(nb, p);
    for i in 0..nb {
        let der = tanh_derivatives(bias[i], degree);
        for (q, m) in monos.iter().enumerate() {
            let mut v = der[m.iter().sum::<usize>()];
            for (j, &e) in m.iter().enumerate() {
                v *= b[(i, j)].powi(e as i32) / (1..=e).product::<usize>() as f64;
            }
            c[(i, q)] = v / scale[q];
        }
    }

    // Sample points: the block's states in their unit ball, every other variable in [-1, 1].
    let samples = (400 * p).max(2000);
    let ball = crate::latent::spread::ball(samples, ds, rng);
    let mut pts = vec![0.0; samples * nv];
    for s in 0..samples {
        pts[s * nv..s * nv + ds].copy_from_slice(&ball[s * ds..(s + 1) * ds]);
        for j in ds..nv {
            pts[s * nv + j] = rng.range(-1.0, 1.0);
        }
    }
    let mut ev = lat.evaluator();
    let (mut z, mut u) = (vec![0.0; d], vec![0.0; k]);
    let (mut xs, mut us) = (vec![0.0; d], vec![0.0; k]);
    let mut at_point = |pt: &[f64], z: &mut [f64], u: &mut [f64]| {
        xs.iter_mut().for_each(|v| *v = 0.0);
        us.iter_mut().for_each(|v| *v = 0.0);
        for (a, &v) in block.vars.iter().enumerate() {
            if v < d {
                xs[v] = pt[a];
            } else {
                us[v - d] = pt[a];
            }
        }
        lat.map.from_unit(&xs, z);
        lat.input_map.from_unit(&us, u);
    };
    // A polynomial flow (its least-squares fit on the monomials is exact) gets the Taylor
    // coefficients of its flow map from the Lie series (the held variables with zero flow); a
    // map, or a flow with non-polynomial terms, the least-squares projection of
    // `Phi_dt(x) - x`.
    let mut f = vec![0.0; d];
    let mut fs = vec![0.0; samples * nv];
    for (s, pt) in pts.chunks(nv).enumerate() {
        at_point(pt, &mut z, &mut u);
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
    let p_dt = if polynomial {
        let coef = lie_series(&f_coef, &monos, nv, degree, dt);
        Mat::from_fn(p, ds, |q, j| coef[q * nv + j])
    } else {
        let substeps = crate::latent::substeps(dt, lat.rate_bound());
        let mut step = vec![0.0; samples * ds];
        let mut x1 = vec![0.0; d];
        for (s, pt) in pts.chunks(nv).enumerate() {
            at_point(pt, &mut z, &mut u);
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
        fit(&monos, &pts, &step, ds, nv) // P x ds
    };
    // O = E_x + P_dt / alpha, then the column scaling.
    let mut o = Mat::<f64>::zeros(ds, p);
    for q in 0..p {
        for j in 0..ds {
            let linear = monos[q].iter().sum::<usize>() == 1 && monos[q][j] == 1;
            o[(j, q)] = (f64::from(u8::from(linear)) + p_dt[(q, j)] / alpha) / scale[q];
        }
    }
    let c_pinv = pinv(&c)?; // P x nb
    let w = &o * &c_pinv; // ds x nb
    let residual = ((&w * &c - &o).norm_l2().powi(2), o.norm_l2().powi(2));

    // Outputs: their least-squares monomial coefficients, read out the same way.
    let w_y = if outputs.is_empty() {
        Mat::zeros(0, nb)
    } else {
        let n_out = lat.n_outputs();
        let mut oev = lat.output_evaluator();
        let mut y = vec![0.0; n_out];
        let mut ys = vec![0.0; samples * outputs.len()];
        for (s, pt) in pts.chunks(nv).enumerate() {
            at_point(pt, &mut z, &mut u);
            oev.eval(&z, &u, &mut y);
            for (a, &r) in outputs.iter().enumerate() {
                ys[s * outputs.len() + a] = y[r];
            }
        }
        let yc = fit(&monos, &pts, &ys, outputs.len(), nv); // P x outputs
        let oy = Mat::from_fn(outputs.len(), p, |r, q| yc[(q, r)] / scale[q]);
        &oy * &c_pinv
    };
    Ok(BlockWeights {
        b,
        bias,
        w,
        w_y,
        residual,
        monomials: p,
    })
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
    let degree = opts.degree.max(1);
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
    let count =
        |v: usize| -> usize { (1..=degree).fold(1usize, |c, i| c.saturating_mul(v + i) / i) };
    let sizes: Vec<usize> = blocks.iter().map(|b| count(b.vars.len())).collect();
    if let Some(&p) = sizes.iter().find(|&&p| p > MAX_MONOMIALS) {
        return Err(format!(
            "`reservoir(mode = compile, degree = {degree})` gives {p} monomials{}; the compile \
             fits 400 samples per monomial and stops at {MAX_MONOMIALS}: lower `degree`{}",
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
    let total: usize = sizes.iter().sum();
    if n < total {
        let vars = blocks.iter().map(|b| b.vars.len()).max().unwrap_or(0);
        return Err(format!(
            "`reservoir(mode = compile)` needs at least one neuron per monomial: {total} \
             monomials of degree <= {degree} in {} (states and inputs; about {} neurons \
             work well)",
            if blocks.len() == 1 {
                format!("{vars} variables")
            } else {
                format!("{} blocks of up to {vars} variables", blocks.len())
            },
            10 * total
        ));
    }
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

    let alpha = (dt / tau).min(1.0);
    let mut rng = Rng::new(seed, "reservoir compile");
    let mut b_x = Mat::<f64>::zeros(n, d);
    let mut b_v = Mat::<f64>::zeros(n, k);
    let mut bias = vec![0.0; n];
    let mut w = Mat::<f64>::zeros(d, n);
    let mut w_y = Mat::<f64>::zeros(n_out, n);
    let (mut res_num, mut res_den, mut monos) = (0.0, 0.0, 0);
    let mut at = 0;
    for (bi, block) in blocks.iter().enumerate() {
        let nb = counts[bi];
        let bw = compile_block(lat, block, &outputs[bi], nb, degree, dt, alpha, &mut rng)?;
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
        res_num += bw.residual.0;
        res_den += bw.residual.1;
        monos += bw.monomials;
        at += nb;
    }
    let residual = (res_num / res_den.max(1e-300)).sqrt();

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
        residual,
        monomials: monos,
    })
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
