//! The verify side: properties of any recurrent weight matrix (CHECKS.md), whoever built it.

use faer::Mat;

/// A weight counts when `|w| > 1e-12 max |W|` (CHECKS.md).
fn threshold(w: &Mat<f64>) -> f64 {
    let mut m = 0.0f64;
    for j in 0..w.ncols() {
        for i in 0..w.nrows() {
            m = m.max(w[(i, j)].abs());
        }
    }
    1e-12 * m
}

/// Dale's law: every column (presynaptic neuron) has one sign.
pub fn dale(w: &Mat<f64>) -> bool {
    let t = threshold(w);
    (0..w.ncols()).all(|j| {
        let (mut pos, mut neg) = (false, false);
        for i in 0..w.nrows() {
            pos |= w[(i, j)] > t;
            neg |= w[(i, j)] < -t;
        }
        !(pos && neg)
    })
}

/// The nonzero fraction of the matrix.
pub fn density(w: &Mat<f64>) -> f64 {
    let t = threshold(w);
    let mut nz = 0usize;
    for j in 0..w.ncols() {
        for i in 0..w.nrows() {
            nz += usize::from(w[(i, j)].abs() > t);
        }
    }
    nz as f64 / (w.nrows() * w.ncols()).max(1) as f64
}

/// Total wiring cost `sum_ij |W_ij| D_ij` for row-major distances.
pub fn wiring_cost(w: &Mat<f64>, distances: &[f64]) -> f64 {
    let n = w.ncols();
    let mut c = 0.0;
    for i in 0..w.nrows() {
        for j in 0..n {
            c += w[(i, j)].abs() * distances[i * n + j];
        }
    }
    c
}
