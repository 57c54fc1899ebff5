//! Lyapunov exponents of a network's own dynamics (CHECKS.md): the tangent map of the file's
//! update rule along a trajectory, re-orthonormalised every step (Benettin's QR method).

use crate::net::{Form, Net, Recurrent};
use crate::sim::Stepper;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};

/// The `k` largest exponents, per second, along the trajectory from `x0` driven by
/// `input(step, u)`; the first `skip` steps are a transient (the vectors align but their
/// growth is not counted).
pub fn spectrum(
    net: &Net,
    x0: &[f64],
    steps: usize,
    skip: usize,
    k: usize,
    input: &dyn Fn(usize, &mut [f64]),
    progress: &dyn crate::progress::Progress,
) -> Vec<f64> {
    progress.begin("Lyapunov spectrum (QR steps)", steps as u64);
    let n = net.n();
    let k = k.clamp(1, n);
    let mut q = Mat::<f64>::from_fn(n, k, |i, j| {
        // Deterministic, linearly independent start.
        (((i * 7 + j * 13) % 17) as f64 - 8.0) / 8.0 + if i == j { 1.0 } else { 0.0 }
    });
    orthonormalize(&mut q);
    let mut y = Mat::<f64>::zeros(n, k);
    let mut z = Mat::<f64>::zeros(n, k);
    let mut h = Mat::<f64>::zeros(net.w_rec.rank().unwrap_or(0), k);
    let mut sums = vec![0.0; k];
    let mut u = vec![0.0; net.n_inputs()];
    let mut stepper = Stepper::new(net, x0);
    let mut d = vec![0.0; n];
    let mut pre = vec![0.0; n];
    for t in 0..steps {
        if t % 256 == 0 {
            progress.advance(t as u64);
        }
        input(t, &mut u);
        let x = stepper.state().to_vec();
        let g = net.gain_input.map_or(1.0, |c| u[c]);
        match net.form {
            Form::Current => {
                for i in 0..n {
                    d[i] = g * net.phi.deriv(g * x[i]);
                }
                // y = D q, z = W y
                for j in 0..k {
                    for i in 0..n {
                        y[(i, j)] = d[i] * q[(i, j)];
                    }
                }
                apply(net, &y, &mut z, &mut h);
                for j in 0..k {
                    for i in 0..n {
                        let a = net.alpha[i];
                        y[(i, j)] = (1.0 - a) * q[(i, j)] + a * z[(i, j)];
                    }
                }
            }
            Form::Rate => {
                // pre = W r + W_in u + b, then J = (1 - a) I + a g phi'(g pre) W.
                let xm = Mat::from_fn(n, 1, |i, _| x[i]);
                let mut pm = Mat::<f64>::zeros(n, 1);
                let mut hm = Mat::<f64>::zeros(h.nrows(), 1);
                apply(net, &xm, &mut pm, &mut hm);
                for i in 0..n {
                    let mut v = pm[(i, 0)] + net.b_rec[i];
                    for (c, uc) in u.iter().enumerate() {
                        v += net.w_in[(i, c)] * uc;
                    }
                    pre[i] = v;
                    d[i] = g * net.phi.deriv(g * v);
                }
                apply(net, &q, &mut z, &mut h);
                for j in 0..k {
                    for i in 0..n {
                        let a = net.alpha[i];
                        y[(i, j)] = (1.0 - a) * q[(i, j)] + a * d[i] * z[(i, j)];
                    }
                }
            }
        }
        crate::net::fastmath::clear_upper();
        let norms = orthonormalize_into(&y, &mut q);
        if t >= skip {
            for (s, r) in sums.iter_mut().zip(&norms) {
                *s += r.max(1e-300).ln();
            }
        }
        stepper.step(&u);
    }
    progress.end();
    let span = (steps.saturating_sub(skip)).max(1) as f64 * net.dt;
    sums.iter().map(|s| s / span).collect()
}

/// `z = W y` (factored through `h = R y` when the network keeps factors).
fn apply(net: &Net, y: &Mat<f64>, z: &mut Mat<f64>, h: &mut Mat<f64>) {
    match &net.w_rec {
        Recurrent::Factored { left, right } => {
            matmul(
                h.as_mut(),
                Accum::Replace,
                right.as_ref(),
                y.as_ref(),
                1.0,
                Par::Seq,
            );
            matmul(
                z.as_mut(),
                Accum::Replace,
                left.as_ref(),
                h.as_ref(),
                1.0,
                Par::Seq,
            );
        }
        Recurrent::Dense(w) => matmul(
            z.as_mut(),
            Accum::Replace,
            w.as_ref(),
            y.as_ref(),
            1.0,
            Par::Seq,
        ),
    }
}

/// Modified Gram-Schmidt of the columns of `y` into `q`; returns the norms (the diagonal of
/// R).
fn orthonormalize_into(y: &Mat<f64>, q: &mut Mat<f64>) -> Vec<f64> {
    let (n, k) = (y.nrows(), y.ncols());
    let mut norms = vec![0.0; k];
    for j in 0..k {
        let mut v: Vec<f64> = (0..n).map(|i| y[(i, j)]).collect();
        for p in 0..j {
            let dot: f64 = (0..n).map(|i| q[(i, p)] * v[i]).sum();
            for i in 0..n {
                v[i] -= dot * q[(i, p)];
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        norms[j] = norm;
        let inv = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        for i in 0..n {
            q[(i, j)] = v[i] * inv;
        }
    }
    norms
}

fn orthonormalize(q: &mut Mat<f64>) {
    let y = q.clone();
    orthonormalize_into(&y, q);
}
