//! Biological constraints that act on single synapses (METHODS.md section 6): the build side
//! (per-row solves against the shared Gram matrix) and the verify side (properties of any
//! weight matrix). The two are tested against each other.
//!
//! A row of `W_rec` is the decoder of one neuron's input current: with `G = A^T A + lambda I`
//! (the regularized Gram matrix of the activities) and the unconstrained row `w*`, the row's
//! least-squares objective is `(w - w*)^T G (w - w*)` (function-space error over the
//! evaluation points). Each constrained row minimizes it over its allowed partners (the
//! support) and signs: an exact Cholesky solve on the support, coordinates of the wrong sign
//! dropped and solved again (twice at most), then projected coordinate descent; rows are
//! independent and run in parallel. Cost: O(N s^3) for supports of size s, plus O(N^3) for
//! `G W*^T`.

pub mod verify;

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use rayon::prelude::*;

/// What the rows must obey.
#[derive(Clone, Debug, Default)]
pub struct RowRules {
    /// Presynaptic sign per neuron (+1 excitatory, -1 inhibitory); `None`: free signs.
    pub dale: Option<Vec<i8>>,
    /// Keep at most this many presynaptic partners per row (largest `|w*|` first).
    pub max_partners: Option<usize>,
    /// `prune(fraction = p)`: drop the smallest fraction p of `|w*_ij| / |w*_i|` (magnitude
    /// relative to the row's norm) over the whole matrix; with `refit` the rest is solved
    /// again, without it the rest keeps its values.
    pub prune: Option<(f64, bool)>,
    /// Wiring: `(distances row-major N x N, lambda)`. Partners are ranked by
    /// `|w*_ij| exp(-lambda D_ij)` (D in grid units), so long connections must carry much more
    /// weight to be kept; the row is then refit exactly on the partners it keeps.
    pub wiring: Option<(Vec<f64>, f64)>,
    /// Coordinate-descent sweeps per row.
    pub sweeps: usize,
}

/// The constrained weights, and what they cost: the relative increase of the summed
/// function-space error, `sum_i (w_i - w*_i)^T G (w_i - w*_i) / sum_i w*_i^T G w*_i`.
pub struct Solved {
    pub w: Mat<f64>,
    pub cost: f64,
}

/// Solves every row of `w_star` (N x N, the unconstrained weights) under `rules`, against the
/// full symmetric regularized Gram matrix `gram`.
pub fn solve_rows(gram: &Mat<f64>, w_star: &Mat<f64>, rules: &RowRules) -> Solved {
    let n = w_star.nrows();
    // Magnitudes relative to their row's norm: a neuron whose inputs are all weak (a low
    // gain) must not lose all of them.
    let row_norm: Vec<f64> = (0..n)
        .map(|i| {
            let s: f64 = (0..n).map(|j| w_star[(i, j)] * w_star[(i, j)]).sum();
            s.sqrt().max(1e-300)
        })
        .collect();
    let rel = |i: usize, j: usize| w_star[(i, j)].abs() / row_norm[i];
    let prune_below = rules.prune.map(|(p, _)| {
        let mut mags: Vec<f64> = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| rel(i, j))
            .collect();
        let k = ((p * mags.len() as f64).round() as usize).min(mags.len());
        if k == 0 {
            return 0.0;
        }
        mags.select_nth_unstable_by(k - 1, f64::total_cmp);
        // Strictly above the k-th smallest: exactly the largest N^2 - k survive (no ties).
        mags[k - 1]
    });
    // b_i = G w*_i for every row at once: B = W* G (G symmetric).
    let mut b = Mat::<f64>::zeros(n, n);
    matmul(
        b.as_mut(),
        Accum::Replace,
        w_star.as_ref(),
        gram.as_ref(),
        1.0,
        Par::rayon(0),
    );
    crate::net::fastmath::clear_upper();
    let mut rows = vec![0.0; n * n];
    rows.par_chunks_mut(n).enumerate().for_each(|(i, out)| {
        crate::net::fastmath::clear_upper();
        let keep_above = prune_below.map(|t| t * row_norm[i]);
        solve_row(i, gram, w_star, &b, rules, keep_above, out);
    });
    let w = Mat::from_fn(n, n, |i, j| rows[i * n + j]);
    // The cost, from E = W - W*: trace(E G E^T) / trace(W* G W*^T) = sum(E .* (E G)) / ...
    let e = &w - w_star;
    let mut eg = Mat::<f64>::zeros(n, n);
    matmul(
        eg.as_mut(),
        Accum::Replace,
        e.as_ref(),
        gram.as_ref(),
        1.0,
        Par::rayon(0),
    );
    crate::net::fastmath::clear_upper();
    let (mut num, mut den) = (0.0, 0.0);
    for j in 0..n {
        for i in 0..n {
            num += e[(i, j)] * eg[(i, j)];
            den += w_star[(i, j)] * b[(i, j)];
        }
    }
    Solved {
        w,
        cost: if den > 0.0 { num / den } else { 0.0 },
    }
}

fn solve_row(
    i: usize,
    gram: &Mat<f64>,
    w_star: &Mat<f64>,
    b: &Mat<f64>,
    rules: &RowRules,
    prune_below: Option<f64>,
    out: &mut [f64],
) {
    let n = out.len();
    // Support: allowed partners, largest |w*| first.
    let mut support: Vec<usize> = (0..n)
        .filter(|&j| prune_below.is_none_or(|t| w_star[(i, j)].abs() > t))
        .collect();
    if let Some((_, false)) = rules.prune {
        // Pruning without a refit keeps the surviving weights as they are.
        out.iter_mut().for_each(|v| *v = 0.0);
        for &j in &support {
            out[j] = w_star[(i, j)];
        }
        return;
    }
    // Dale or wiring without a sparsity bound still solve on a support: the N / 4 best
    // partners (the full row is too large an ill-conditioned problem for sign-constrained
    // descent, and wiring needs a choice of partners to act on).
    let wiring = rules.wiring.as_ref().filter(|(_, l)| *l > 0.0);
    let cap = rules
        .max_partners
        .or_else(|| (rules.dale.is_some() || wiring.is_some()).then_some((n / 4).max(1)));
    if let Some(k) = cap {
        if support.len() > k {
            // Partners whose unconstrained weight already has their sign come first; then
            // the largest (distance-discounted) weights.
            let right_sign = |j: usize| {
                rules
                    .dale
                    .as_ref()
                    .is_none_or(|d| f64::from(d[j]) * w_star[(i, j)] >= 0.0)
            };
            let score = |j: usize| {
                let w = w_star[(i, j)].abs();
                match wiring {
                    Some((d, l)) => w * (-l * d[i * n + j]).exp(),
                    None => w,
                }
            };
            support.sort_by(|&x, &y| {
                right_sign(y)
                    .cmp(&right_sign(x))
                    .then(score(y).total_cmp(&score(x)))
            });
            support.truncate(k);
            support.sort_unstable();
        }
    }
    let s = support.len();
    out.iter_mut().for_each(|v| *v = 0.0);
    if s == 0 {
        return;
    }
    let sign = |j: usize| rules.dale.as_ref().map_or(0, |d| d[j]);
    // The support's Gram block (column-major s x s) and linear term.
    let mut g = vec![0.0; s * s];
    for (c, &j) in support.iter().enumerate() {
        for (r, &k) in support.iter().enumerate() {
            g[c * s + r] = gram[(k, j)];
        }
    }
    let lin: Vec<f64> = support.iter().map(|&j| b[(i, j)]).collect();
    let project = |k: usize, v: f64| match sign(support[k]) {
        1 => v.max(0.0),
        -1 => v.min(0.0),
        _ => v,
    };
    // Start from the exact optimum on the support (w* itself when the support is everything;
    // a Cholesky solve of the support's block otherwise), projected onto the signs.
    // Coordinate descent then only repairs what the signs and the wiring penalty change:
    // from a masked w* it converges too slowly on this ill-conditioned Gram matrix.
    let mut w: Vec<f64> = if s < n {
        exact_on_support(&g, &lin, s)
            .unwrap_or_else(|| support.iter().map(|&j| w_star[(i, j)]).collect())
    } else {
        support.iter().map(|&j| w_star[(i, j)]).collect()
    };
    let free = rules.dale.is_none();
    if free {
        for (k, &j) in support.iter().enumerate() {
            out[j] = w[k];
        }
        return;
    }
    // With signs on a proper support: drop the coordinates whose exact optimum has the wrong
    // sign and solve again on the rest (twice at most; an active-set step without re-entry).
    if rules.dale.is_some() && s < n {
        let mut keep: Vec<usize> = (0..s).collect();
        for _ in 0..2 {
            let wrong: Vec<usize> = keep
                .iter()
                .copied()
                .filter(|&k| project(k, w[k]) != w[k])
                .collect();
            if wrong.is_empty() {
                break;
            }
            keep.retain(|k| !wrong.contains(k));
            let t = keep.len();
            let mut sub = vec![0.0; t * t];
            for (c, &kc) in keep.iter().enumerate() {
                for (r, &kr) in keep.iter().enumerate() {
                    sub[c * t + r] = g[kc * s + kr];
                }
            }
            let lin_sub: Vec<f64> = keep.iter().map(|&k| lin[k]).collect();
            let Some(x) = exact_on_support(&sub, &lin_sub, t) else {
                break;
            };
            w.iter_mut().for_each(|v| *v = 0.0);
            for (r, &k) in keep.iter().enumerate() {
                w[k] = x[r];
            }
        }
    }
    for k in 0..s {
        w[k] = project(k, w[k]);
    }
    // q = G_SS w
    let mut q = vec![0.0; s];
    for (c, &wc) in w.iter().enumerate() {
        if wc != 0.0 {
            for r in 0..s {
                q[r] += g[c * s + r] * wc;
            }
        }
    }
    // At most `sweeps`, and no more than about 3e7 multiply-adds per row.
    let sweeps = rules
        .sweeps
        .max(1)
        .min((3e7 / (s * s) as f64).max(3.0) as usize);
    for _ in 0..sweeps {
        let mut change = 0.0f64;
        let mut scale = 0.0f64;
        for k in 0..s {
            let gkk = g[k * s + k];
            if gkk <= 0.0 {
                continue;
            }
            // The optimum of coordinate k with the others fixed, projected on its sign.
            let z = lin[k] - (q[k] - gkk * w[k]);
            let new = project(k, z / gkk);
            let delta = new - w[k];
            if delta != 0.0 {
                w[k] = new;
                let col = &g[k * s..(k + 1) * s];
                for r in 0..s {
                    q[r] += col[r] * delta;
                }
                change = change.max(delta.abs());
            }
            scale = scale.max(new.abs());
        }
        if change <= 1e-10 * scale {
            break;
        }
    }
    for (k, &j) in support.iter().enumerate() {
        out[j] = w[k];
    }
}

/// Solves `G_SS w = b_S` by Cholesky (`g` column-major s x s, symmetric positive definite).
fn exact_on_support(g: &[f64], lin: &[f64], s: usize) -> Option<Vec<f64>> {
    use faer::linalg::solvers::Solve;
    let m = faer::MatRef::from_column_major_slice(g, s, s);
    let llt = m.llt(faer::Side::Lower).ok()?;
    let rhs = faer::Mat::from_fn(s, 1, |r, _| lin[r]);
    let x = llt.solve(&rhs);
    crate::net::fastmath::clear_upper();
    Some((0..s).map(|r| x[(r, 0)]).collect())
}

/// Presynaptic signs for `dale(excitatory = p)`: `round(p N)` neurons excitatory, the
/// inhibitory ones spread evenly over the index (neuron j is inhibitory when
/// `round((j + 1) I / N) > round(j I / N)`, I the number of inhibitory neurons). Neurons are
/// placed on a grid by index, so a block of inhibitory neurons (the last `I`, as first built)
/// would sit in one band of the sheet: under a wiring cost the neurons far from it could
/// find no inhibitory partner near them and lost the negative half of every row.
pub fn dale_signs(n: usize, excitatory: f64) -> Vec<i8> {
    let e = ((excitatory * n as f64).round() as usize).min(n);
    let inh = (n - e) as u128;
    let nn = n.max(1) as u128;
    // round(j I / N), ties up, in integers.
    let count = |j: usize| (2 * j as u128 * inh + nn) / (2 * nn);
    (0..n)
        .map(|j| if count(j + 1) > count(j) { -1 } else { 1 })
        .collect()
}

/// Euclidean distances between neuron positions (row-major N x N).
pub fn distances(positions: &[Vec<f64>]) -> Vec<f64> {
    let n = positions.len();
    let mut d = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            d[i * n + j] = positions[i]
                .iter()
                .zip(&positions[j])
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
        }
    }
    d
}
