//! The simulator of the file's update rule (METHODS.md section 1).
//!
//! Per step it costs O(N r) for a factored network (rank r), O(nonzeros) for a dense one at
//! most half full (compressed rows) and O(N^2) otherwise; a
//! batch of trials shares each pass over the weights (one matrix-matrix product per step
//! instead of B matrix-vector products). Every step checks the state for NaN or infinity and
//! stops with [`Diverged`] instead of returning a silent NaN trace; so does a readout that
//! overflows before the state does.

use crate::net::{Form, Net, Recurrent};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

/// The network state stopped being finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Diverged {
    pub step: usize,
    pub t: f64,
}

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the network state diverged (NaN or infinity) at step {} (t = {:.4} s)",
            self.step, self.t
        )
    }
}

/// One recorded sample: the readout `y[t]` taken before the update, with the input `u[t]`
/// that drives the update from `t` to `t + 1` and the state `x[t]`.
pub struct Sample<'a> {
    pub step: usize,
    pub x: &'a [f64],
    pub u: &'a [f64],
    pub y: &'a [f64],
}

/// `W_rec v` for one network, in the cheapest form its weights allow: O(N r) when factored,
/// O(nnz) when at most half of a dense `W_rec` is nonzero, O(nnz + N d_fb) for a closed loop
/// whose open loop is that sparse (a driven reservoir: `split_dense`), one pass over `W_rec`
/// otherwise. Built once per network; the simulator and the Lyapunov QR steps share it.
pub struct Product<'n> {
    net: &'n Net,
    /// Rows of `W_rec_right` (factored), each contiguous, for dot products.
    right_rows: Vec<f64>,
    sparse: Option<crate::net::sparse::Csr>,
    /// Rows of `W_fb` (N x d_fb, row-major) and the fed-back rows of `W_out` (d_fb x N).
    fb: Option<(Vec<f64>, Vec<f64>)>,
}

impl<'n> Product<'n> {
    pub fn new(net: &'n Net) -> Product<'n> {
        let right_rows = match &net.w_rec {
            Recurrent::Factored { right, .. } => {
                let mut v = Vec::with_capacity(right.nrows() * right.ncols());
                for i in 0..right.nrows() {
                    v.extend((0..right.ncols()).map(|j| right[(i, j)]));
                }
                v
            }
            Recurrent::Dense(_) => Vec::new(),
        };
        let (sparse, fb) = match &net.w_rec {
            Recurrent::Dense(w) => split_dense(net, w),
            Recurrent::Factored { .. } => (None, None),
        };
        Product {
            net,
            right_rows,
            sparse,
            fb,
        }
    }

    /// Whether the product runs in compressed rows (else `W_rec` is used as stored).
    pub fn is_sparse(&self) -> bool {
        self.sparse.is_some()
    }

    /// Scratch length `apply` needs.
    pub fn scratch(&self) -> usize {
        self.net
            .w_rec
            .rank()
            .unwrap_or(0)
            .max(self.net.feedback.as_ref().map_or(0, |f| f.rows.len()))
    }

    /// `out = W_rec v`; `h` holds `scratch()` values.
    pub fn apply(&self, v: &[f64], out: &mut [f64], h: &mut [f64]) {
        match &self.net.w_rec {
            Recurrent::Dense(_) if self.sparse.is_some() => {
                if let Some(csr) = &self.sparse {
                    csr.matvec(v, out);
                }
                if let Some((w_fb, sel)) = &self.fb {
                    let (n, m) = (v.len(), sel.len() / v.len());
                    for c in 0..m {
                        h[c] = crate::net::fastmath::dot(&sel[c * n..(c + 1) * n], v);
                    }
                    for (i, r) in out.iter_mut().enumerate() {
                        *r += (0..m).map(|c| w_fb[i * m + c] * h[c]).sum::<f64>();
                    }
                }
            }
            // One pass over W_rec, four columns at a time.
            Recurrent::Dense(w) => dense_matvec(out, w.as_ref(), v),
            Recurrent::Factored { left, .. } => {
                let n = v.len();
                let r = left.ncols();
                for (k, hk) in h[..r].iter_mut().enumerate() {
                    *hk = crate::net::fastmath::dot(&self.right_rows[k * n..(k + 1) * n], v);
                }
                dense_matvec(out, left.as_ref(), &h[..r]);
            }
        }
    }
}

/// Buffers for stepping one network; reuse across runs.
pub struct Stepper<'n> {
    net: &'n Net,
    product: Product<'n>,
    out_rows: Vec<f64>,
    x: Vec<f64>,
    p: Vec<f64>,
    h: Vec<f64>,
    rec: Vec<f64>,
    u: Vec<f64>,
    y: Vec<f64>,
}

fn matvec(dst: &mut [f64], w: MatRef<'_, f64>, v: &[f64]) {
    let n = dst.len();
    let dst = MatMut::from_column_major_slice_mut(dst, n, 1);
    let v = MatRef::from_column_major_slice(v, v.len(), 1);
    matmul(dst, Accum::Replace, w, v, 1.0, Par::Seq);
    crate::net::fastmath::clear_upper();
}

/// `dst = W v` through the bandwidth-bound kernel when `W` is column-major (row bands over
/// the threads for a large matrix); faer's product otherwise.
fn dense_matvec(dst: &mut [f64], w: MatRef<'_, f64>, v: &[f64]) {
    let (rows, cols) = (w.nrows(), w.ncols());
    let stride = w.col_stride().max(0) as usize;
    if w.row_stride() != 1 || rows == 0 || cols == 0 || stride < rows {
        matvec(dst, w, v);
        return;
    }
    // SAFETY: a column-major matrix spans (cols - 1) * stride + rows elements from its start.
    let data = unsafe { std::slice::from_raw_parts(w.as_ptr(), (cols - 1) * stride + rows) };
    // When the matrix is large the threads take a band of rows each, so each streams its
    // share of memory.
    let threads = if rows * cols >= 1 << 20 {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    if threads == 1 {
        crate::net::fastmath::matvec(data, rows, cols, stride, v, dst);
        return;
    }
    let band = rows.div_ceil(threads).next_multiple_of(8);
    dst.par_chunks_mut(band).enumerate().for_each(|(c, out)| {
        let i0 = c * band;
        crate::net::fastmath::matvec(&data[i0..], out.len(), cols, stride, v, out);
    });
}

/// How the simulator multiplies a dense `W_rec`: in compressed rows when at most half of it
/// is nonzero, or as its sparse open loop plus the rank-d_fb loop `W_fb W_out[rows]` when it
/// has `W_fb` and `W_rec - W_fb W_out[rows]` is that sparse (cost O(nnz + N d_fb) instead of
/// O(N^2)). Entries of the difference below 1e-12 of the loop's are rounding and dropped.
type Split = (
    Option<crate::net::sparse::Csr>,
    Option<(Vec<f64>, Vec<f64>)>,
);

fn split_dense(net: &Net, w: &Mat<f64>) -> Split {
    use crate::net::sparse::Csr;
    if let Some(csr) = Csr::from_dense(w, 0.5) {
        return (Some(csr), None);
    }
    let Some(fb) = &net.feedback else {
        return (None, None);
    };
    let n = w.nrows();
    let f = fb.loop_term(&net.w_out);
    let mut a = w - &f;
    let mut nz = 0usize;
    for j in 0..n {
        for i in 0..n {
            let v = a[(i, j)];
            if v.abs() <= 1e-12 * f[(i, j)].abs() {
                a[(i, j)] = 0.0;
            } else {
                nz += 1;
                // (A + F) - F is A up to the rounding of the sum; an A drawn as f32-exact
                // numbers (a reservoir's) gets them back, so the product streams f32.
                let r = f64::from(v as f32);
                if (v - r).abs() <= 4.0 * f64::EPSILON * (v.abs() + f[(i, j)].abs()) {
                    a[(i, j)] = r;
                }
            }
        }
    }
    if nz as f64 > 0.5 * (n * n) as f64 {
        return (None, None);
    }
    let Some(csr) = Csr::from_dense(&a, 0.5) else {
        return (None, None);
    };
    let m = fb.rows.len();
    let w_fb = (0..n)
        .flat_map(|i| (0..m).map(move |c| (i, c)))
        .map(|(i, c)| fb.w_fb[(i, c)])
        .collect();
    let sel = fb
        .rows
        .iter()
        .flat_map(|&r| (0..n).map(move |j| (r, j)))
        .map(|(r, j)| net.w_out[(r, j)])
        .collect();
    (Some(csr), Some((w_fb, sel)))
}

impl<'n> Stepper<'n> {
    pub fn new(net: &'n Net, x0: &[f64]) -> Stepper<'n> {
        let n = net.n();
        let mut out_rows = Vec::with_capacity(net.w_out.nrows() * net.w_out.ncols());
        for i in 0..net.w_out.nrows() {
            out_rows.extend((0..net.w_out.ncols()).map(|j| net.w_out[(i, j)]));
        }
        let product = Product::new(net);
        Stepper {
            net,
            h: vec![0.0; product.scratch()],
            product,
            out_rows,
            x: x0.to_vec(),
            p: vec![0.0; n],
            rec: vec![0.0; n],
            u: vec![0.0; net.n_inputs()],
            y: vec![0.0; net.n_out()],
        }
    }

    pub fn state(&self) -> &[f64] {
        &self.x
    }

    fn gain(&self) -> f64 {
        self.net.gain_input.map_or(1.0, |g| self.u[g])
    }

    fn recurrent(&mut self) {
        self.product.apply(&self.p, &mut self.rec, &mut self.h);
    }

    /// `rec += W_in u + b_rec`.
    fn add_input(&mut self) {
        let net = self.net;
        for (r, b) in self.rec.iter_mut().zip(&net.b_rec) {
            *r += b;
        }
        for (j, &uj) in self.u.iter().enumerate() {
            if uj != 0.0 {
                let col = net.w_in.col(j);
                for (i, r) in self.rec.iter_mut().enumerate() {
                    *r += col[i] * uj;
                }
            }
        }
    }

    fn readout(&mut self, src_is_p: bool) {
        let net = self.net;
        let src = if src_is_p { &self.p } else { &self.x };
        let n = src.len();
        for (o, (y, b)) in self.y.iter_mut().zip(&net.b_out).enumerate() {
            *y = crate::net::fastmath::dot(&self.out_rows[o * n..(o + 1) * n], src) + b;
        }
    }

    /// Sets the input `u[t]` and reads out `y[t]` (before the update).
    pub fn read(&mut self, u: &[f64]) -> &[f64] {
        self.u.copy_from_slice(u);
        let net = self.net;
        if let Some(e) = &net.engine {
            e.0.read(&self.x, &self.u, &mut self.y);
            return &self.y;
        }
        match net.form {
            Form::Current => {
                let g = self.gain();
                net.phi.eval_scaled_into(g, &self.x, &mut self.p);
                self.readout(true);
            }
            Form::Rate => {
                self.readout(false);
                self.p.copy_from_slice(&self.x);
            }
        }
        &self.y
    }

    /// Advances the state by one step with the input given to [`Stepper::read`].
    pub fn advance(&mut self) {
        let net = self.net;
        if let Some(e) = &net.engine {
            e.0.advance(&mut self.x, &self.u);
            return;
        }
        let g = self.gain();
        self.recurrent();
        self.add_input();
        match net.form {
            Form::Current => {
                for ((x, &r), &a) in self.x.iter_mut().zip(&self.rec).zip(&net.alpha) {
                    *x += a * (r - *x);
                }
            }
            Form::Rate => {
                // phi over the whole vector first (the vectorized tanh), then the leak.
                net.phi.eval_scaled_inplace(g, &mut self.rec);
                for ((x, &r), &a) in self.x.iter_mut().zip(&self.rec).zip(&net.alpha) {
                    *x += a * (r - *x);
                }
            }
        }
    }

    /// One full step: read out `y[t]`, then advance.
    pub fn step(&mut self, u: &[f64]) {
        self.read(u);
        self.advance();
    }

    fn finite(&self) -> bool {
        self.x.iter().all(|v| v.is_finite())
    }
}

/// Runs `steps` updates from `x0`. `input(step, u)` fills `u[t]`; `record` sees every sample
/// `t = 0..=steps` (the last one is read out after the final update, with the input for a
/// step that is never taken).
pub fn run(
    net: &Net,
    x0: &[f64],
    steps: usize,
    input: &mut dyn FnMut(usize, &mut [f64]),
    record: &mut dyn FnMut(Sample<'_>),
) -> Result<Vec<f64>, Diverged> {
    let mut s = Stepper::new(net, x0);
    let mut u = vec![0.0; net.n_inputs()];
    for t in 0..=steps {
        input(t, &mut u);
        s.read(&u);
        if !s.y.iter().all(|v| v.is_finite()) {
            return Err(Diverged {
                step: t,
                t: t as f64 * net.dt,
            });
        }
        record(Sample {
            step: t,
            x: &s.x,
            u: &s.u,
            y: &s.y,
        });
        if t == steps {
            break;
        }
        s.advance();
        if !s.finite() {
            return Err(Diverged {
                step: t + 1,
                t: (t + 1) as f64 * net.dt,
            });
        }
    }
    Ok(s.x)
}

/// [`run_batch`] through the network's [`crate::net::Engine`]: each trial stepped on its own.
fn run_batch_engine(
    net: &Net,
    x0: MatRef<'_, f64>,
    steps: usize,
    input: &mut dyn FnMut(usize, MatMut<'_, f64>),
    record: &mut dyn FnMut(usize, MatRef<'_, f64>),
) -> Result<Mat<f64>, Diverged> {
    let (b, k) = (x0.ncols(), net.n_inputs());
    let mut steppers: Vec<Stepper<'_>> = (0..b)
        .map(|c| Stepper::new(net, &x0.col(c).iter().copied().collect::<Vec<_>>()))
        .collect();
    let mut u = Mat::<f64>::zeros(k, b);
    let mut y = Mat::<f64>::zeros(net.n_out(), b);
    let diverged = |t: usize| Diverged {
        step: t,
        t: t as f64 * net.dt,
    };
    for t in 0..=steps {
        input(t, u.as_mut());
        for (c, s) in steppers.iter_mut().enumerate() {
            let uc: Vec<f64> = u.col(c).iter().copied().collect();
            let yc = s.read(&uc);
            if !yc.iter().all(|v| v.is_finite()) {
                return Err(diverged(t));
            }
            for (i, v) in yc.iter().enumerate() {
                y[(i, c)] = *v;
            }
        }
        record(t, y.as_ref());
        if t == steps {
            break;
        }
        for s in &mut steppers {
            s.advance();
            if !s.finite() {
                return Err(diverged(t + 1));
            }
        }
    }
    Ok(Mat::from_fn(net.n(), b, |i, c| steppers[c].x[i]))
}

/// Runs B trials at once; column b of `x0` is trial b's start. Each step multiplies the
/// weights by an N x B block, so the weights are read once per step for all trials.
/// `input(step, u)` fills a k x B column-major block; `record(step, Y)` sees d_out x B.
pub fn run_batch(
    net: &Net,
    x0: MatRef<'_, f64>,
    steps: usize,
    input: &mut dyn FnMut(usize, MatMut<'_, f64>),
    record: &mut dyn FnMut(usize, MatRef<'_, f64>),
) -> Result<Mat<f64>, Diverged> {
    let (n, b) = (net.n(), x0.ncols());
    let k = net.n_inputs();
    if net.engine.is_some() {
        return run_batch_engine(net, x0, steps, input, record);
    }
    let mut x = x0.to_owned();
    let mut p = Mat::<f64>::zeros(n, b);
    let mut rec = Mat::<f64>::zeros(n, b);
    let mut h = Mat::<f64>::zeros(net.w_rec.rank().unwrap_or(0), b);
    let mut u = Mat::<f64>::zeros(k, b);
    let mut y = Mat::<f64>::zeros(net.n_out(), b);
    let par = if n * b >= 1 << 16 {
        Par::rayon(0)
    } else {
        Par::Seq
    };
    for t in 0..=steps {
        input(t, u.as_mut());
        let gains: Vec<f64> = (0..b)
            .map(|c| net.gain_input.map_or(1.0, |g| u[(g, c)]))
            .collect();
        let src = match net.form {
            Form::Current => {
                for c in 0..b {
                    net.phi
                        .eval_scaled_into(gains[c], x.col_as_slice(c), p.col_as_slice_mut(c));
                }
                &p
            }
            Form::Rate => &x,
        };
        matmul(
            y.as_mut(),
            Accum::Replace,
            net.w_out.as_ref(),
            src.as_ref(),
            1.0,
            par,
        );
        for c in 0..b {
            for (i, bo) in net.b_out.iter().enumerate() {
                y[(i, c)] += bo;
            }
        }
        for c in 0..b {
            if !y.col_as_slice(c).iter().all(|v| v.is_finite()) {
                return Err(Diverged {
                    step: t,
                    t: t as f64 * net.dt,
                });
            }
        }
        record(t, y.as_ref());
        if t == steps {
            break;
        }
        match &net.w_rec {
            Recurrent::Dense(w) => matmul(
                rec.as_mut(),
                Accum::Replace,
                w.as_ref(),
                src.as_ref(),
                1.0,
                par,
            ),
            Recurrent::Factored { left, right } => {
                matmul(
                    h.as_mut(),
                    Accum::Replace,
                    right.as_ref(),
                    src.as_ref(),
                    1.0,
                    par,
                );
                matmul(
                    rec.as_mut(),
                    Accum::Replace,
                    left.as_ref(),
                    h.as_ref(),
                    1.0,
                    par,
                );
            }
        }
        if k > 0 {
            matmul(
                rec.as_mut(),
                Accum::Add,
                net.w_in.as_ref(),
                u.as_ref(),
                1.0,
                Par::Seq,
            );
        }
        let mut finite = true;
        for c in 0..b {
            let g = gains[c];
            let r = rec.col_as_slice_mut(c);
            for (r, bias) in r.iter_mut().zip(&net.b_rec) {
                *r += bias;
            }
            if net.form == Form::Rate {
                net.phi.eval_scaled_inplace(g, r);
            }
            let xc = x.col_as_slice_mut(c);
            for ((xi, &ri), &a) in xc.iter_mut().zip(r.iter()).zip(&net.alpha) {
                *xi += a * (ri - *xi);
                finite &= xi.is_finite();
            }
        }
        if !finite {
            return Err(Diverged {
                step: t + 1,
                t: (t + 1) as f64 * net.dt,
            });
        }
    }
    Ok(x)
}
