//! Fixed points of a network (CHECKS.md `fixed_points`, `stable_fixed_points`): zeros of
//! `F(x) = W_rec phi(x) + W_in u0 + b_rec - x` (current form).
//!
//! A factored network (`W = L R`, rank r) has every fixed point at `x = L h + c` with
//! `h = R phi(L h + c)`, so Newton runs in r dimensions with the analytic r x r Jacobian
//! `R diag(phi') L - I`, from many seeded starts; each root is accepted on the full residual
//! and classified by the eigenvalues of the one-step map `I + diag(alpha) J_F`, which for a
//! uniform leak are `1 - alpha` and `1 - alpha + alpha mu` for the eigenvalues mu of
//! `R diag(phi') L`.

use crate::net::{Form, Net, Recurrent};
use crate::rng::Rng;
use faer::linalg::solvers::Solve;
use faer::Mat;

/// A fixed point: its network state, decoded latent state, and stability.
#[derive(Clone, Debug)]
pub struct FixedPoint {
    pub x: Vec<f64>,
    pub z: Vec<f64>,
    pub stable: bool,
}

/// Searches from the given starting states (network states) plus `extra` seeded
/// perturbations of them; `merge` is the decoded distance under which two roots are one.
pub fn find(
    net: &Net,
    u0: &[f64],
    starts: &[Vec<f64>],
    merge: f64,
    seed: u64,
) -> Result<Vec<FixedPoint>, String> {
    if net.form != Form::Current {
        return Err("fixed points of rate-form networks are not implemented yet".into());
    }
    let Recurrent::Factored { left, right } = &net.w_rec else {
        return Err("fixed points of full-weight networks are not implemented yet".into());
    };
    let a0 = net.alpha[0];
    if net.alpha.iter().any(|&a| a != a0) {
        return Err("fixed points with per-neuron leaks are not implemented yet".into());
    }
    let (n, r) = (net.n(), left.ncols());
    let d = net.n_states();
    // c = W_in u0 + b.
    let mut c = net.b_rec.clone();
    for (j, &uj) in u0.iter().enumerate() {
        for i in 0..n {
            c[i] += net.w_in[(i, j)] * uj;
        }
    }
    let h_of = |x: &[f64]| -> Vec<f64> {
        (0..r)
            .map(|k| (0..n).map(|j| right[(k, j)] * net.phi.eval(x[j])).sum())
            .collect()
    };
    let x_of = |h: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| c[i] + (0..r).map(|k| left[(i, k)] * h[k]).sum::<f64>())
            .collect()
    };
    let mut rng = Rng::new(seed, "fixed_points");
    let mut h_starts: Vec<Vec<f64>> = starts.iter().map(|x| h_of(x)).collect();
    let scale = h_starts
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-3);
    let base = h_starts.clone();
    for s in &base {
        for _ in 0..3 {
            h_starts.push(s.iter().map(|v| v + 0.1 * scale * rng.normal()).collect());
        }
    }
    let mut found: Vec<FixedPoint> = Vec::new();
    for h0 in h_starts {
        let Some(h) = newton(net, left, right, &c, h0) else {
            continue;
        };
        let x = x_of(&h);
        // Accept on the full residual.
        let p: Vec<f64> = x.iter().map(|&v| net.phi.eval(v)).collect();
        let hx = (0..r)
            .map(|k| (0..n).map(|j| right[(k, j)] * p[j]).sum::<f64>())
            .collect::<Vec<_>>();
        let xmax = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let res = (0..n)
            .map(|i| (c[i] + (0..r).map(|k| left[(i, k)] * hx[k]).sum::<f64>() - x[i]).abs())
            .fold(0.0f64, f64::max);
        if res.is_nan() || res > 1e-8 * xmax {
            continue;
        }
        let z: Vec<f64> = (0..d)
            .map(|o| net.b_out[o] + (0..n).map(|j| net.w_out[(o, j)] * p[j]).sum::<f64>())
            .collect();
        if found.iter().any(|f| dist(&f.z, &z) < merge) {
            continue;
        }
        // Stability from the r x r matrix R diag(phi') L.
        let dphi: Vec<f64> = x.iter().map(|&v| net.phi.deriv(v)).collect();
        let m = Mat::<f64>::from_fn(r, r, |k, l| {
            (0..n).map(|j| right[(k, j)] * dphi[j] * left[(j, l)]).sum()
        });
        let ev = m.eigenvalues().map_err(|e| format!("eigenvalues: {e:?}"))?;
        crate::net::fastmath::clear_upper();
        let stable = (1.0 - a0).abs() < 1.0
            && ev.iter().all(|mu| {
                let re = 1.0 - a0 + a0 * mu.re;
                let im = a0 * mu.im;
                re.hypot(im) < 1.0
            });
        found.push(FixedPoint { x, z, stable });
    }
    Ok(found)
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Newton on `G(h) = R phi(L h + c) - h` with a backtracking step; `None` if it does not
/// converge.
fn newton(
    net: &Net,
    left: &Mat<f64>,
    right: &Mat<f64>,
    c: &[f64],
    mut h: Vec<f64>,
) -> Option<Vec<f64>> {
    let (n, r) = (left.nrows(), left.ncols());
    let g_of = |h: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..n)
            .map(|i| c[i] + (0..r).map(|k| left[(i, k)] * h[k]).sum::<f64>())
            .collect();
        let g = (0..r)
            .map(|k| {
                (0..n)
                    .map(|j| right[(k, j)] * net.phi.eval(x[j]))
                    .sum::<f64>()
                    - h[k]
            })
            .collect();
        (g, x)
    };
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let (mut g, mut x) = g_of(&h);
    for _ in 0..100 {
        let hn = norm(&h).max(1.0);
        if norm(&g) <= 1e-13 * hn {
            return Some(h);
        }
        let dphi: Vec<f64> = x.iter().map(|&v| net.phi.deriv(v)).collect();
        let j = Mat::<f64>::from_fn(r, r, |k, l| {
            (0..n)
                .map(|i| right[(k, i)] * dphi[i] * left[(i, l)])
                .sum::<f64>()
                - if k == l { 1.0 } else { 0.0 }
        });
        let rhs = Mat::<f64>::from_fn(r, 1, |k, _| -g[k]);
        let step = j.partial_piv_lu().solve(&rhs);
        crate::net::fastmath::clear_upper();
        if (0..r).any(|k| !step[(k, 0)].is_finite()) {
            return None;
        }
        // Backtracking on |G|.
        let mut t = 1.0;
        let g0 = norm(&g);
        loop {
            let trial: Vec<f64> = (0..r).map(|k| h[k] + t * step[(k, 0)]).collect();
            let (gt, xt) = g_of(&trial);
            if norm(&gt) < g0 || t < 1e-6 {
                h = trial;
                g = gt;
                x = xt;
                break;
            }
            t *= 0.5;
        }
    }
    (norm(&g) <= 1e-10 * norm(&h).max(1.0)).then_some(h)
}
