//! Lyapunov exponents of a network's own dynamics (CHECKS.md): the tangent map of the file's
//! update rule along a trajectory, re-orthonormalised every step (Benettin's QR method).

use crate::net::{Form, Net, Recurrent};
use crate::sim::Stepper;
use faer::Mat;

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
    estimate(net, x0, steps, skip, k, input, progress).value
}

/// Blocks of the counted steps for the standard error of [`Estimate::error`].
pub const BLOCKS: usize = 10;

/// A finite-time estimate of the `k` largest exponents with how far it may be from its limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Per exponent, per second: the mean growth over the counted steps.
    pub value: Vec<f64>,
    /// Per exponent, per second: the larger of two convergence figures. (1) The distance
    /// between the estimates of the run's first and second halves: growth that belongs to
    /// the transient (the vectors still aligning) counts in the first half, so a bias `B / T`
    /// of the whole run shows as `2 B / T` here, which also covers a transient that has not
    /// died out by the second half (closely spaced exponents align slowly). (2) The standard
    /// error of the mean over [`BLOCKS`] equal blocks (the fluctuation of a chaotic run). A
    /// converged estimate has both small.
    pub error: Vec<f64>,
}

/// [`spectrum`] with its convergence figure ([`Estimate`]).
pub fn estimate(
    net: &Net,
    x0: &[f64],
    steps: usize,
    skip: usize,
    k: usize,
    input: &dyn Fn(usize, &mut [f64]),
    progress: &dyn crate::progress::Progress,
) -> Estimate {
    let _bar = crate::progress::start(progress, "Lyapunov spectrum (QR steps)", steps as u64);
    let n = net.n();
    let k = k.clamp(1, n);
    let mut q = Mat::<f64>::from_fn(n, k, |i, j| {
        // Deterministic, linearly independent start with no zero entry: a vector with a
        // zero along an axis never grows along it when the tangent map keeps the axes (a
        // diagonal `W_rec`), so its exponent would be missed.
        (((i * 7 + j * 13) % 17) as f64 - 7.5) / 8.0 + if i == j { 1.0 } else { 0.0 }
    });
    orthonormalize(&mut q);
    let mut y = Mat::<f64>::zeros(n, k);
    let mut z = Mat::<f64>::zeros(n, k);
    let product = crate::sim::Product::new(net);
    let mut h = vec![0.0; product.scratch()];
    let (mut col, mut out) = (vec![0.0; n], vec![0.0; n]);
    let mut sums = vec![0.0; k];
    // Per block of the counted steps, the summed log growth of each exponent.
    let counted = steps.saturating_sub(skip);
    let mut blocks = vec![vec![0.0; k]; BLOCKS];
    let mut lens = [0usize; BLOCKS];
    let mut second = vec![0.0; k];
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
                apply(&product, net, &y, &mut z, &mut h, &mut col, &mut out);
                for j in 0..k {
                    for i in 0..n {
                        let a = net.alpha[i];
                        y[(i, j)] = (1.0 - a) * q[(i, j)] + a * z[(i, j)];
                    }
                }
            }
            Form::Rate => {
                // pre = W r + W_in u + b, then J = (1 - a) I + a g phi'(g pre) W.
                product.apply(&x, &mut out, &mut h);
                for i in 0..n {
                    let mut v = out[i] + net.b_rec[i];
                    for (c, uc) in u.iter().enumerate() {
                        v += net.w_in[(i, c)] * uc;
                    }
                    pre[i] = v;
                    d[i] = g * net.phi.deriv(g * v);
                }
                apply(&product, net, &q, &mut z, &mut h, &mut col, &mut out);
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
            let c = t - skip;
            let b = (c * BLOCKS / counted.max(1)).min(BLOCKS - 1);
            lens[b] += 1;
            for (j, r) in norms.iter().enumerate() {
                let g = r.max(1e-300).ln();
                sums[j] += g;
                blocks[b][j] += g;
                if 2 * c >= counted {
                    second[j] += g;
                }
            }
        }
        stepper.step(&u);
    }
    let span = counted.max(1) as f64 * net.dt;
    let value: Vec<f64> = sums.iter().map(|s| s / span).collect();
    let half = (counted - counted / 2).max(1) as f64 * net.dt;
    let error = (0..k)
        .map(|j| {
            let first_half = (counted / 2).max(1) as f64 * net.dt;
            let drift = ((sums[j] - second[j]) / first_half - second[j] / half).abs();
            // Blocks of unequal length are rated by their own length.
            let rates: Vec<f64> = (0..BLOCKS)
                .filter(|&b| lens[b] > 0)
                .map(|b| blocks[b][j] / (lens[b] as f64 * net.dt))
                .collect();
            let m = rates.len() as f64;
            let se = if rates.len() > 1 {
                let mean = rates.iter().sum::<f64>() / m;
                (rates.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (m - 1.0) / m).sqrt()
            } else {
                0.0
            };
            drift.max(se)
        })
        .collect();
    Estimate { value, error }
}

/// `z = W y`: column by column through the simulator's product when it is sparse (a
/// pruned `W_rec`, a driven reservoir's split), else one blocked product over all columns
/// (factored through `R y` when the network keeps factors).
fn apply(
    product: &crate::sim::Product,
    net: &Net,
    y: &Mat<f64>,
    z: &mut Mat<f64>,
    h: &mut [f64],
    col: &mut [f64],
    out: &mut [f64],
) {
    use faer::linalg::matmul::matmul;
    use faer::{Accum, Par};
    if product.is_sparse() {
        for j in 0..y.ncols() {
            col.copy_from_slice(y.col_as_slice(j));
            product.apply(col, out, h);
            z.col_as_slice_mut(j).copy_from_slice(out);
        }
        return;
    }
    match &net.w_rec {
        Recurrent::Factored { left, right } => {
            let hm = &mut Mat::<f64>::zeros(right.nrows(), y.ncols());
            matmul(
                hm.as_mut(),
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
                hm.as_ref(),
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
