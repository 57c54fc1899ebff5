//! `reservoir(...)`: reservoir programming (METHODS.md section 4), in the rate form
//! `r' = (1 - alpha) r + alpha tanh(W_rec r + W_in u + b_rec)`.
//!
//! `mode = drive` (`drive.rs`): a random sparse reservoir driven by trajectories of a system
//! or by a task's trials, a ridge readout fitted on the pairs `(r[t], z[t])` (`r[t]` has
//! consumed `z[0..t-1]`), and the loop closed through `W_fb` (FORMAT.md). The verify side is
//! `rnnc check` itself: teacher-forced starts, `sync_error`, `accuracy(Task)`.

pub mod compile;
pub mod drive;

use crate::net::sparse::Csr;
use crate::net::{Form, Net, Phi, Recurrent};
use crate::rng::Rng;
use faer::Mat;

/// The method's options, typed, with their defaults (`decl::Reservoir`).
pub type Options = crate::decl::Reservoir;

/// A random sparse matrix: each entry kept with probability `density`, N(0, 1) scaled so the
/// circular law puts its spectral radius at `radius` (`radius / sqrt(N density)`; within a few
/// % of the computed radius for N >= 200). The weights are rounded to `f32` (a relative
/// 3e-8 on random weights), so the driven run streams half the bytes (`net::sparse`) and the
/// written `W_rec` holds the same numbers.
pub fn random_sparse(n: usize, density: f64, radius: f64, rng: &mut Rng) -> Csr {
    let p = density.clamp(1.0 / n as f64, 1.0);
    let scale = radius / (n as f64 * p).sqrt();
    let mut rows = Vec::with_capacity(n);
    for _ in 0..n {
        let mut row = Vec::new();
        for j in 0..n as u32 {
            if rng.uniform() < p {
                row.push((j, (scale * rng.normal()) as f32 as f64));
            }
        }
        rows.push(row);
    }
    Csr::from_rows(n, n, rows)
}

/// A matrix with entries `U(-scale, scale)`.
pub fn uniform(rows: usize, cols: usize, scale: f64, rng: &mut Rng) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| rng.range(-scale, scale))
}

/// Ridge regression on centred data, streamed: `W_out = Y Q^T (Q Q^T + lambda I)^-1` and
/// `b_out = ybar - W_out qbar` over the pairs added, one Gram matrix per output because each
/// output has its own mask (a [`SharedRidge`] of one target each). Nothing of size T x N is
/// kept.
pub struct Ridge {
    n: usize,
    outputs: Vec<SharedRidge>,
}

impl Ridge {
    pub fn new(n: usize, outputs: usize) -> Ridge {
        Ridge {
            n,
            outputs: (0..outputs).map(|_| SharedRidge::new(n, 1)).collect(),
        }
    }

    /// One pair for output `o`: state `q` should read out `y`.
    pub fn add(&mut self, o: usize, q: &[f64], y: f64) {
        self.outputs[o].add(q, &[y]);
    }

    pub fn count(&self, o: usize) -> usize {
        let a = &self.outputs[o];
        a.count + a.block.len() / self.n
    }

    /// The readout: `(W_out (outputs x N), b_out)`.
    pub fn solve(self, lambda: f64) -> Result<(Mat<f64>, Vec<f64>), String> {
        let n = self.n;
        let m = self.outputs.len();
        let mut w = Mat::zeros(m, n);
        let mut b = vec![0.0; m];
        for (o, a) in self.outputs.into_iter().enumerate() {
            let (wo, bo) = a.solve(lambda).map_err(|e| format!("output {o}: {e}"))?;
            for j in 0..n {
                w[(o, j)] = wo[(0, j)];
            }
            b[o] = bo[0];
        }
        Ok((w, b))
    }
}

const BLOCK: usize = 512;

/// Ridge regression of several targets on the same states (no masks): one Gram matrix for
/// all of them, streamed in blocks like [`Ridge`].
#[derive(Clone)]
pub struct SharedRidge {
    n: usize,
    m: usize,
    gram: Mat<f64>,
    cross: Mat<f64>,
    sum_q: Vec<f64>,
    sum_y: Vec<f64>,
    count: usize,
    /// The sum of the samples' weights (`count` when every weight is 1).
    weight: f64,
    /// Subtracted from every state before it is summed (see `flush`).
    shift: Vec<f64>,
    block: Vec<f64>,
    block_y: Vec<f64>,
    block_w: Vec<f64>,
}

impl SharedRidge {
    pub fn new(n: usize, outputs: usize) -> SharedRidge {
        SharedRidge {
            n,
            m: outputs,
            gram: Mat::zeros(n, n),
            cross: Mat::zeros(n, outputs),
            sum_q: vec![0.0; n],
            sum_y: vec![0.0; outputs],
            count: 0,
            weight: 0.0,
            shift: Vec::new(),
            block: Vec::with_capacity(BLOCK * n),
            block_y: Vec::with_capacity(BLOCK * outputs),
            block_w: Vec::with_capacity(BLOCK),
        }
    }

    /// Samples added.
    pub fn count(&self) -> usize {
        self.count + self.block_w.len()
    }

    /// The centred Gram matrix's trace / N (its mean eigenvalue): the scale a relative ridge
    /// is measured in; 0 before two samples.
    pub fn mean_eigenvalue(&mut self) -> f64 {
        self.flush();
        let t = self.weight;
        if self.count < 2 || t <= 0.0 {
            return 0.0;
        }
        let trace: f64 = (0..self.n)
            .map(|i| self.gram[(i, i)] - self.sum_q[i] * self.sum_q[i] / t)
            .sum();
        trace.max(0.0) / self.n as f64
    }

    /// One state `q` and its targets `y` (one per output).
    pub fn add(&mut self, q: &[f64], y: &[f64]) {
        self.add_weighted(q, y, 1.0);
    }

    /// A sample counted `w` times (`w > 0`): weighted ridge with weighted means.
    pub fn add_weighted(&mut self, q: &[f64], y: &[f64], w: f64) {
        self.block.extend_from_slice(q);
        self.block_y.extend_from_slice(y);
        self.block_w.push(w);
        if self.block.len() == BLOCK * self.n {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let (n, m) = (self.n, self.m);
        let k = self.block.len() / n;
        if k == 0 {
            return;
        }
        // Sums of shifted states: the first block's mean is the shift, so the centring at
        // the end subtracts small numbers from small numbers (the Gram of raw tanh states,
        // all near the same mean, loses the centred Gram's small eigenvalues to cancellation).
        if self.shift.is_empty() {
            self.shift = (0..n)
                .map(|i| (0..k).map(|c| self.block[c * n + i]).sum::<f64>() / k as f64)
                .collect();
        }
        // Rows scaled by sqrt(w): the products below then sum w q q^T and w q y^T.
        for c in 0..k {
            let sw = self.block_w[c].sqrt();
            for (q, s) in self.block[c * n..(c + 1) * n].iter_mut().zip(&self.shift) {
                *q = (*q - s) * sw;
            }
            for y in &mut self.block_y[c * m..(c + 1) * m] {
                *y *= sw;
            }
        }
        let q = faer::MatRef::from_column_major_slice(&self.block, n, k);
        let y = faer::MatRef::from_column_major_slice(&self.block_y, m, k);
        let par = faer::Par::rayon(0);
        faer::linalg::matmul::triangular::matmul(
            self.gram.as_mut(),
            faer::linalg::matmul::triangular::BlockStructure::TriangularLower,
            faer::Accum::Add,
            q,
            faer::linalg::matmul::triangular::BlockStructure::Rectangular,
            q.transpose(),
            faer::linalg::matmul::triangular::BlockStructure::Rectangular,
            1.0,
            par,
        );
        faer::linalg::matmul::matmul(
            self.cross.as_mut(),
            faer::Accum::Add,
            q,
            y.transpose(),
            1.0,
            par,
        );
        crate::net::fastmath::clear_upper();
        for c in 0..k {
            let sw = self.block_w[c].sqrt();
            for i in 0..n {
                self.sum_q[i] += sw * self.block[c * n + i];
            }
            for o in 0..m {
                self.sum_y[o] += sw * self.block_y[c * m + o];
            }
            self.weight += self.block_w[c];
        }
        self.count += k;
        self.block.clear();
        self.block_y.clear();
        self.block_w.clear();
    }

    /// `(W (outputs x N), b)` with `y ~ W q + b`.
    pub fn solve(mut self, lambda: f64) -> Result<(Mat<f64>, Vec<f64>), String> {
        self.flush();
        let (n, m) = (self.n, self.m);
        if self.count < 2 {
            return Err(format!(
                "{} training samples: nothing to fit on",
                self.count
            ));
        }
        let t = self.weight;
        let qbar: Vec<f64> = self.sum_q.iter().map(|s| s / t).collect();
        let ybar: Vec<f64> = self.sum_y.iter().map(|s| s / t).collect();
        let g = Mat::from_fn(n, n, |i, j| {
            let (i, j) = if i >= j { (i, j) } else { (j, i) };
            self.gram[(i, j)] - t * qbar[i] * qbar[j] + if i == j { lambda } else { 0.0 }
        });
        let rhs = Mat::from_fn(n, m, |i, o| self.cross[(i, o)] - t * ybar[o] * qbar[i]);
        let sol = match g.llt(faer::Side::Lower) {
            Ok(chol) => faer::linalg::solvers::Solve::solve(&chol, &rhs),
            // A small `ridge` on nearly collinear states: the centred Gram's smallest
            // eigenvalues are below its rounding error and may come out negative. Solve in
            // its eigenbasis with those set to 0 (the ridge solution of the nearest positive
            // semidefinite Gram).
            Err(_) => {
                let mut g0 = g;
                for i in 0..n {
                    g0[(i, i)] -= lambda;
                }
                let evd = g0
                    .self_adjoint_eigen(faer::Side::Lower)
                    .map_err(|_| "the readout's Gram matrix has no eigendecomposition")?;
                let (u, s) = (evd.U(), evd.S().column_vector());
                let smax = (0..n).map(|k| s[k]).fold(0.0f64, f64::max);
                // Eigenvalues at rounding level are zero: with `ridge = 0` their directions
                // are dropped (the minimum-norm solution), never divided by ~1e-18.
                let cut = n as f64 * f64::EPSILON * smax;
                let mut c = u.transpose() * &rhs;
                for k in 0..n {
                    let e = if s[k] > cut { s[k] } else { 0.0 } + lambda;
                    let inv = if e > 0.0 { 1.0 / e } else { 0.0 };
                    for o in 0..m {
                        c[(k, o)] *= inv;
                    }
                }
                u * c
            }
        };
        crate::net::fastmath::clear_upper();
        let w = Mat::from_fn(m, n, |o, i| sol[(i, o)]);
        // `qbar` is the mean of the shifted states; the readout sees unshifted ones.
        let b = (0..m)
            .map(|o| {
                ybar[o]
                    - (0..n)
                        .map(|i| w[(o, i)] * (qbar[i] + self.shift[i]))
                        .sum::<f64>()
            })
            .collect();
        Ok((w, b))
    }
}

/// The rate-form network of a reservoir: `W_rec = A + W_fb W_out[fb rows]` and
/// `b_rec = b + W_fb b_out[fb rows]` when the loop is closed.
#[allow(clippy::too_many_arguments)]
pub fn assemble(
    a: &Csr,
    w_in: Mat<f64>,
    b: Vec<f64>,
    w_out: Mat<f64>,
    b_out: Vec<f64>,
    feedback: Option<(Mat<f64>, Vec<usize>)>,
    dt: f64,
    tau: f64,
    meta: crate::net::Meta,
) -> Net {
    let n = a.n();
    let mut w = a.dense();
    let mut b_rec = b;
    let fb = feedback.map(|(w_fb, rows)| {
        let fb = crate::net::Feedback { w_fb, rows };
        w += fb.loop_term(&w_out);
        let crate::net::Feedback { w_fb, rows } = fb;
        for (i, bi) in b_rec.iter_mut().enumerate() {
            for (c, &r) in rows.iter().enumerate() {
                *bi += w_fb[(i, c)] * b_out[r];
            }
        }
        crate::net::Feedback { w_fb, rows }
    });
    Net {
        form: Form::Rate,
        phi: Phi::Tanh,
        dt,
        w_rec: Recurrent::Dense(w),
        w_in,
        b_rec,
        w_out,
        b_out,
        enc: None,
        alpha: vec![(dt / tau).min(1.0); n],
        init_state: vec![0.0; n],
        gain_input: None,
        dale_sign: None,
        positions: None,
        feedback: fb,
        meta,
        engine: None,
    }
}
