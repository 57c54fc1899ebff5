//! Fixed points of a network (CHECKS.md `fixed_points`, `stable_fixed_points`): zeros of
//! `F(x) = W_rec phi(x) + W_in u0 + b_rec - x` (current form).
//!
//! `F(x) = W_rec phi(x) + W_in u0 + b_rec - x` (current form) or
//! `F(r) = phi(W_rec r + W_in u0 + b_rec) - r` (rate form), without the `alpha` factor.
//!
//! A factored current-form network (`W = L R`, rank r) has every fixed point at `x = L h + c`
//! with `h = R phi(L h + c)`, so Newton runs in r dimensions with the analytic r x r Jacobian
//! `R diag(phi') L - I` (O(N r^2) per step). Any other network runs Newton on the full
//! analytic Jacobian (O(N^3) per step: seconds for 256 starts at N = 200, minutes at
//! N = 1000). Each root is accepted on the full residual and classified by the eigenvalues
//! of the one-step map `I + diag(alpha) J_F` (for a uniform leak and a factored network,
//! `1 - alpha` and `1 - alpha + alpha mu` for the eigenvalues mu of `R diag(phi') L`).

use crate::net::{Form, Net, Recurrent};
use crate::rng::Rng;
use faer::linalg::solvers::Solve;
use faer::Mat;

/// A fixed point: its network state, decoded latent state, stability and leading
/// eigenvalues.
#[derive(Clone, Debug)]
pub struct FixedPoint {
    pub x: Vec<f64>,
    /// What the readout shows there (`W_out phi(x) + b_out`, the rows compared when merging).
    pub z: Vec<f64>,
    /// Every eigenvalue of the one-step map `I + diag(alpha) J_F` lies inside the unit circle.
    pub stable: bool,
    /// The distinct leading eigenvalues `(re, im)` of the one-step map, largest modulus first
    /// (at most [`LEADING`]; eigenvalues within 1e-8 of one another are one).
    pub eig: Vec<(f64, f64)>,
    /// The decoded state lies in the system's domain (set by the caller; `true` when it does
    /// not know one).
    pub in_domain: bool,
}

/// How many leading eigenvalues a fixed point keeps.
pub const LEADING: usize = 4;

impl FixedPoint {
    /// The leading eigenvalues as continuous-time rates `ln(lambda) / dt` (per second):
    /// `(re, im)`, the real part `ln|lambda| / dt` (the growth rate), the imaginary part the
    /// angular frequency `arg(lambda) / dt`. For a network that realizes a flow exactly these
    /// are the eigenvalues of the system's Jacobian there.
    pub fn rates(&self, dt: f64) -> Vec<(f64, f64)> {
        self.eig
            .iter()
            .map(|&(re, im)| (re.hypot(im).ln() / dt, im.atan2(re) / dt))
            .collect()
    }
}

/// Searches from the given starting states (network states) plus three seeded perturbations
/// of each; `rows` are the readout rows compared when merging (the latent states, or every
/// output of a task network) and `merge` the distance under which two roots are one.
pub fn find(
    net: &Net,
    u0: &[f64],
    starts: &[Vec<f64>],
    rows: usize,
    merge: f64,
    seed: u64,
    progress: &dyn crate::progress::Progress,
) -> Result<Vec<FixedPoint>, String> {
    let n = net.n();
    // c = W_in u0 + b.
    let mut c = net.b_rec.clone();
    for (j, &uj) in u0.iter().enumerate() {
        for i in 0..n {
            c[i] += net.w_in[(i, j)] * uj;
        }
    }
    let mut rng = Rng::new(seed, "fixed_points");
    let scale = starts
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-3);
    let mut all: Vec<Vec<f64>> = starts.to_vec();
    for s in starts {
        for _ in 0..3 {
            all.push(s.iter().map(|v| v + 0.1 * scale * rng.normal()).collect());
        }
    }
    let dense = match (&net.w_rec, net.form) {
        (Recurrent::Factored { .. }, Form::Current) => None,
        (w, _) => Some(w.dense()),
    };
    let mut found: Vec<FixedPoint> = Vec::new();
    let mut lu = None;
    let _bar = crate::progress::start(progress, "fixed points (Newton starts)", all.len() as u64);
    for (done, x0) in all.into_iter().enumerate() {
        progress.advance(done as u64);
        let root = match (&net.w_rec, &dense) {
            (Recurrent::Factored { left, right }, None) => {
                let h0 = mat_vec(right, &phi_all(net, &x0));
                newton(net, left, right, &c, h0).map(|h| {
                    let mut x = mat_vec(left, &h);
                    x.iter_mut().zip(&c).for_each(|(v, ci)| *v += ci);
                    x
                })
            }
            (_, Some(w)) => {
                let known: Vec<&[f64]> = found.iter().map(|f| f.x.as_slice()).collect();
                newton_full(net, w, &c, x0, &known, &mut lu)
            }
            _ => unreachable!("dense is set for every other case"),
        };
        let Some(x) = root else { continue };
        // Accept on the full residual.
        let res = residual(net, dense.as_ref(), &c, &x);
        let xmax = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        if res.iter().any(|v| v.is_nan())
            || res.iter().fold(0.0f64, |m, v| m.max(v.abs())) > 1e-8 * xmax
        {
            continue;
        }
        let p = match net.form {
            Form::Current => phi_all(net, &x),
            Form::Rate => x.clone(),
        };
        let z: Vec<f64> = (0..rows)
            .map(|o| net.b_out[o] + (0..n).map(|j| net.w_out[(o, j)] * p[j]).sum::<f64>())
            .collect();
        if found.iter().any(|f| dist(&f.z, &z) < merge) {
            continue;
        }
        let (stable, eig) = spectrum(net, dense.as_ref(), &c, &x)?;
        found.push(FixedPoint {
            x,
            z,
            stable,
            eig,
            in_domain: true,
        });
    }
    Ok(found)
}

fn phi_all(net: &Net, x: &[f64]) -> Vec<f64> {
    x.iter().map(|&v| net.phi.eval(v)).collect()
}

fn mat_vec(m: &Mat<f64>, v: &[f64]) -> Vec<f64> {
    let mut out = Mat::<f64>::zeros(m.nrows(), 1);
    faer::linalg::matmul::matmul(
        out.as_mut(),
        faer::Accum::Replace,
        m.as_ref(),
        faer::MatRef::from_column_major_slice(v, v.len(), 1),
        1.0,
        faer::Par::Seq,
    );
    out.col_as_slice(0).to_vec()
}

/// `F(x)`: `W phi(x) + c - x` (current form) or `phi(W x + c) - x` (rate form).
fn residual(net: &Net, dense: Option<&Mat<f64>>, c: &[f64], x: &[f64]) -> Vec<f64> {
    let w_dot = |v: &[f64]| match (dense, &net.w_rec) {
        (Some(w), _) => mat_vec(w, v),
        (None, Recurrent::Factored { left, right }) => mat_vec(left, &mat_vec(right, v)),
        (None, Recurrent::Dense(w)) => mat_vec(w, v),
    };
    match net.form {
        Form::Current => {
            let wp = w_dot(&phi_all(net, x));
            (0..x.len()).map(|i| wp[i] + c[i] - x[i]).collect()
        }
        Form::Rate => {
            let wx = w_dot(x);
            (0..x.len())
                .map(|i| net.phi.eval(wx[i] + c[i]) - x[i])
                .collect()
        }
    }
}

/// The full Jacobian of `F`: `W diag(phi'(x)) - I` or `diag(phi'(W x + c)) W - I`.
fn jacobian(net: &Net, w: &Mat<f64>, c: &[f64], x: &[f64]) -> Mat<f64> {
    let n = x.len();
    match net.form {
        Form::Current => {
            let d: Vec<f64> = x.iter().map(|&v| net.phi.deriv(v)).collect();
            let mut j = w * faer::col::ColRef::from_slice(&d).as_diagonal();
            for i in 0..n {
                j[(i, i)] -= 1.0;
            }
            j
        }
        Form::Rate => {
            let wx = mat_vec(w, x);
            let d: Vec<f64> = (0..n).map(|i| net.phi.deriv(wx[i] + c[i])).collect();
            let mut j = faer::col::ColRef::from_slice(&d).as_diagonal() * w;
            for i in 0..n {
                j[(i, i)] -= 1.0;
            }
            j
        }
    }
}

/// Whether every eigenvalue of the one-step map `I + diag(alpha) J_F` lies inside the unit
/// circle, and the map's distinct leading eigenvalues. A factored current-form network with
/// one leak needs only the r x r matrix `R diag(phi') L` (the map's eigenvalues are
/// `1 - alpha` and `1 - alpha + alpha mu`); otherwise the full N x N map.
fn spectrum(
    net: &Net,
    dense: Option<&Mat<f64>>,
    c: &[f64],
    x: &[f64],
) -> Result<(bool, Vec<(f64, f64)>), String> {
    let a0 = net.alpha[0];
    let uniform = net.alpha.iter().all(|&a| a == a0);
    if let (Recurrent::Factored { left, right }, Form::Current, true) =
        (&net.w_rec, net.form, uniform)
    {
        let (n, r) = (x.len(), left.ncols());
        let dphi: Vec<f64> = x.iter().map(|&v| net.phi.deriv(v)).collect();
        let m = Mat::<f64>::from_fn(r, r, |k, l| {
            (0..n).map(|j| right[(k, j)] * dphi[j] * left[(j, l)]).sum()
        });
        let ev = m.eigenvalues().map_err(|e| format!("eigenvalues: {e:?}"))?;
        crate::net::fastmath::clear_upper();
        let mut all: Vec<(f64, f64)> = ev
            .iter()
            .map(|mu| (1.0 - a0 + a0 * mu.re, a0 * mu.im))
            .collect();
        if n > r {
            all.push((1.0 - a0, 0.0));
        }
        let stable = all.iter().all(|&(re, im)| re.hypot(im) < 1.0) && (1.0 - a0).abs() < 1.0;
        return Ok((stable, leading(all)));
    }
    let owned;
    let w = match dense {
        Some(w) => w,
        None => {
            owned = net.w_rec.dense();
            &owned
        }
    };
    let mut m = faer::col::ColRef::from_slice(&net.alpha).as_diagonal() * jacobian(net, w, c, x);
    for i in 0..x.len() {
        m[(i, i)] += 1.0;
    }
    let ev = m.eigenvalues().map_err(|e| format!("eigenvalues: {e:?}"))?;
    crate::net::fastmath::clear_upper();
    let all: Vec<(f64, f64)> = ev.iter().map(|l| (l.re, l.im)).collect();
    let stable = all.iter().all(|&(re, im)| re.hypot(im) < 1.0);
    Ok((stable, leading(all)))
}

/// The distinct eigenvalues of largest modulus (ties: the larger real part, then the
/// positive imaginary part first), at most [`LEADING`]; two within 1e-8 (relative to 1) are
/// one.
fn leading(mut ev: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let key = |&(re, im): &(f64, f64)| re.hypot(im);
    ev.sort_by(|a, b| {
        key(b)
            .total_cmp(&key(a))
            .then(b.0.total_cmp(&a.0))
            .then(b.1.total_cmp(&a.1))
    });
    let mut out: Vec<(f64, f64)> = Vec::new();
    for e in ev {
        if out.len() == LEADING {
            break;
        }
        let tol = 1e-8 * key(&e).max(1.0);
        if !out
            .iter()
            .any(|o| (o.0 - e.0).abs() <= tol && (o.1 - e.1).abs() <= tol)
        {
            out.push(e);
        }
    }
    out
}

/// Newton on the full `F` with a backtracking step, reusing one LU factorization while it
/// keeps halving `|F|` (each reuse costs O(N^2) instead of O(N^3)); `None` if it does not
/// converge, or as soon as it reaches a root in `known` (already found from another start).
fn newton_full(
    net: &Net,
    w: &Mat<f64>,
    c: &[f64],
    mut x: Vec<f64>,
    known: &[&[f64]],
    shared: &mut Option<faer::linalg::solvers::PartialPivLu<f64>>,
) -> Option<Vec<f64>> {
    let n = x.len();
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let mut f = residual(net, Some(w), c, &x);
    // The previous start's last factorization: starts near one another share it.
    let mut lu = shared.take();
    let mut fresh = false;
    let result = 'newton: {
        for _ in 0..100 {
            let scale = norm(&x).max(1.0);
            if norm(&f) <= 1e-13 * scale {
                break 'newton Some(x);
            }
            let near = |r: &&[f64]| r.iter().zip(&x).all(|(a, b)| (a - b).abs() <= 1e-6 * scale);
            if known.iter().any(near) {
                break 'newton None;
            }
            if lu.is_none() {
                lu = Some(jacobian(net, w, c, &x).partial_piv_lu());
                fresh = true;
            }
            let rhs = Mat::<f64>::from_fn(n, 1, |i, _| -f[i]);
            let step = lu.as_ref().expect("factored").solve(&rhs);
            crate::net::fastmath::clear_upper();
            if (0..n).any(|i| !step[(i, 0)].is_finite()) {
                break 'newton None;
            }
            let mut t = 1.0;
            let f0 = norm(&f);
            loop {
                let trial: Vec<f64> = (0..n).map(|i| x[i] + t * step[(i, 0)]).collect();
                let ft = residual(net, Some(w), c, &trial);
                let fn_ = norm(&ft);
                if fn_ < f0 {
                    // An old factorization is kept only while it converges fast.
                    if !fresh && fn_ > 0.5 * f0 {
                        lu = None;
                    }
                    fresh = false;
                    x = trial;
                    f = ft;
                    break;
                }
                if !fresh {
                    // A stale Jacobian: refactor before backtracking.
                    lu = None;
                    break;
                }
                t *= 0.5;
                if t < 1e-6 {
                    // No descent along the Newton direction: a local minimum of |F|, not a root.
                    break 'newton None;
                }
            }
        }
        (norm(&f) <= 1e-10 * norm(&x).max(1.0)).then_some(x)
    };
    *shared = lu;
    result
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
