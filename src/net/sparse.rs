//! Compressed sparse rows, the one sparse matrix of the crate: a constrained network's
//! `W_rec` (sparsity, pruning) in the simulator and a reservoir's random `A` while it is
//! driven. A product costs its nonzeros, not N^2.
//!
//! Column indices are `u32`, and the values are kept as `f32` when every one of them is
//! exactly an `f32` (a reservoir draws its weights that way): a product then streams 8 bytes
//! per nonzero instead of 16, which at N = 2000 and 10 % density (400k nonzeros) is the
//! difference between fitting in the two cores' L2 caches and not. Sums are always `f64`.

use faer::Mat;
use rayon::prelude::*;

enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

pub struct Csr {
    n_rows: usize,
    n_cols: usize,
    row_ptr: Vec<usize>,
    cols: Vec<u32>,
    vals: Values,
}

/// One row's dot product with `x`, four independent sums.
#[inline(always)]
fn row_dot<V: Copy + Into<f64>>(cols: &[u32], vals: &[V], x: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = cols.len() / 4;
    for c in 0..chunks {
        for l in 0..4 {
            acc[l] += vals[4 * c + l].into() * x[cols[4 * c + l] as usize];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for k in 4 * chunks..cols.len() {
        s += vals[k].into() * x[cols[k] as usize];
    }
    s
}

/// [`row_dot`] for `f32` values with AVX2 gathers: eight nonzeros per iteration in two
/// independent sums.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and every `cols[k] < x.len()` (and < 2^31).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_dot_gather(cols: &[u32], vals: &[f32], x: &[f64]) -> f64 {
    use std::arch::x86_64::*;
    let n = cols.len().min(vals.len());
    let (mut acc0, mut acc1) = (_mm256_setzero_pd(), _mm256_setzero_pd());
    let mut k = 0;
    while k + 8 <= n {
        let i0 = _mm_loadu_si128(cols.as_ptr().add(k) as *const __m128i);
        let i1 = _mm_loadu_si128(cols.as_ptr().add(k + 4) as *const __m128i);
        let x0 = _mm256_i32gather_pd::<8>(x.as_ptr(), i0);
        let x1 = _mm256_i32gather_pd::<8>(x.as_ptr(), i1);
        let v0 = _mm256_cvtps_pd(_mm_loadu_ps(vals.as_ptr().add(k)));
        let v1 = _mm256_cvtps_pd(_mm_loadu_ps(vals.as_ptr().add(k + 4)));
        acc0 = _mm256_fmadd_pd(v0, x0, acc0);
        acc1 = _mm256_fmadd_pd(v1, x1, acc1);
        k += 8;
    }
    let acc = _mm256_add_pd(acc0, acc1);
    let mut lanes = [0.0; 4];
    _mm256_storeu_pd(lanes.as_mut_ptr(), acc);
    let mut s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    while k < n {
        s += f64::from(*vals.get_unchecked(k)) * *x.get_unchecked(*cols.get_unchecked(k) as usize);
        k += 1;
    }
    s
}

impl Csr {
    /// From each row's `(column, value)` pairs (columns ascending within a row).
    ///
    /// Panics unless there are `n_rows` rows, every column is below `n_cols`, and `n_cols`
    /// fits an `i32` (the gather kernel's offsets): the product's unsafe code relies on it.
    pub fn from_rows(n_rows: usize, n_cols: usize, rows: Vec<Vec<(u32, f64)>>) -> Csr {
        assert_eq!(rows.len(), n_rows, "one list of entries per row");
        assert!(n_cols <= i32::MAX as usize, "at most 2^31 - 1 columns");
        assert!(
            rows.iter().flatten().all(|&(c, _)| (c as usize) < n_cols),
            "a column index is out of range"
        );
        let mut row_ptr = Vec::with_capacity(n_rows + 1);
        let mut cols = Vec::new();
        let mut vals = Vec::new();
        row_ptr.push(0);
        for r in rows {
            for (c, v) in r {
                cols.push(c);
                vals.push(v);
            }
            row_ptr.push(cols.len());
        }
        let exact = vals.iter().all(|&v| (v as f32) as f64 == v);
        let vals = if exact {
            Values::F32(vals.iter().map(|&v| v as f32).collect())
        } else {
            Values::F64(vals)
        };
        Csr {
            n_rows,
            n_cols,
            row_ptr,
            cols,
            vals,
        }
    }

    /// `None` when more than `max_density` of the entries are nonzero.
    pub fn from_dense(w: &Mat<f64>, max_density: f64) -> Option<Csr> {
        let (n, m) = (w.nrows(), w.ncols());
        let mut nz = 0usize;
        for j in 0..m {
            nz += w.col_as_slice(j).iter().filter(|v| **v != 0.0).count();
        }
        if n == 0 || nz as f64 > max_density * (n * m) as f64 {
            return None;
        }
        let rows = (0..n)
            .map(|i| {
                (0..m)
                    .filter(|&j| w[(i, j)] != 0.0)
                    .map(|j| (j as u32, w[(i, j)]))
                    .collect()
            })
            .collect();
        Some(Csr::from_rows(n, m, rows))
    }

    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    /// `y = A x`, in bands of rows on the thread pool when there is enough work to share
    /// (below ~200k nonzeros a product takes under ~100 microseconds, and waking the pool's
    /// threads each step cost more than it saved: measured at 80k).
    pub fn matvec(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(y.len(), self.n_rows, "y has one entry per row");
        let threads = rayon::current_num_threads();
        if threads == 1 || self.nnz() < 200_000 {
            return self.rows(0, x, y);
        }
        let band = self.n_rows.div_ceil(threads);
        y.par_chunks_mut(band)
            .enumerate()
            .for_each(|(c, out)| self.rows(c * band, x, out));
    }

    fn rows(&self, i0: usize, x: &[f64], y: &mut [f64]) {
        assert!(
            x.len() >= self.n_cols,
            "x has {} entries, A {} columns",
            x.len(),
            self.n_cols
        );
        #[cfg(target_arch = "x86_64")]
        if let Values::F32(v) = &self.vals {
            if crate::net::fastmath::has_avx2() {
                for (r, yi) in y.iter_mut().enumerate() {
                    let (a, b) = (self.row_ptr[i0 + r], self.row_ptr[i0 + r + 1]);
                    // SAFETY: AVX2 and FMA are present (checked above), and every column index
                    // is below n_cols <= min(x.len(), 2^31 - 1) (`from_rows` asserts the
                    // indices and the width, the assert above the length of x), so the
                    // gathers stay inside x.
                    *yi = unsafe { row_dot_gather(&self.cols[a..b], &v[a..b], x) };
                }
                return;
            }
        }
        for (r, yi) in y.iter_mut().enumerate() {
            let (a, b) = (self.row_ptr[i0 + r], self.row_ptr[i0 + r + 1]);
            let cols = &self.cols[a..b];
            *yi = match &self.vals {
                Values::F32(v) => row_dot(cols, &v[a..b], x),
                Values::F64(v) => row_dot(cols, &v[a..b], x),
            };
        }
    }

    pub fn dense(&self) -> Mat<f64> {
        let mut m = Mat::zeros(self.n_rows, self.n_cols);
        for i in 0..self.n_rows {
            for k in self.row_ptr[i]..self.row_ptr[i + 1] {
                m[(i, self.cols[k] as usize)] = match &self.vals {
                    Values::F32(v) => v[k] as f64,
                    Values::F64(v) => v[k],
                };
            }
        }
        m
    }

    pub fn n(&self) -> usize {
        self.n_rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matvec_matches_the_dense_product_in_both_storages() {
        for exact in [true, false] {
            let w = Mat::from_fn(1200, 1200, |i, j| {
                if (i * 7 + j * 13) % 5 == 0 {
                    let v = (i as f64 - j as f64) / 64.0;
                    if exact {
                        v
                    } else {
                        v + 1e-12
                    }
                } else {
                    0.0
                }
            });
            let csr = Csr::from_dense(&w, 0.5).unwrap();
            assert_eq!(matches!(csr.vals, Values::F32(_)), exact);
            assert_eq!(csr.dense(), w);
            let x: Vec<f64> = (0..1200).map(|j| (j as f64 * 0.37).sin()).collect();
            let mut y = vec![0.0; 1200];
            csr.matvec(&x, &mut y);
            for i in 0..1200 {
                let want: f64 = (0..1200).map(|j| w[(i, j)] * x[j]).sum();
                assert!((y[i] - want).abs() < 1e-12, "{i}: {} vs {want}", y[i]);
            }
        }
    }
}
