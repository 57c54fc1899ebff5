//! A vectorizable `tanh` accurate to a few ulps. glibc's `tanh` costs 40-80 ns per call in
//! the ranges the NEF build and the simulator hit, which made it the largest cost of both;
//! this one is a handful of multiply-adds that the compiler turns into AVX2 code (selected at
//! run time). The dense matrix-vector product lives here for the same reason.

/// ln 2 split as in fdlibm: the high part has 32 trailing zero bits.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits.
const SHIFTER: f64 = 6_755_399_441_055_744.0;

/// `a * b + c`, fused when `F` (only inside functions compiled with FMA; elsewhere
/// `mul_add` would be a slow software call).
#[inline(always)]
fn madd<const F: bool>(a: f64, b: f64, c: f64) -> f64 {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `exp(y) - 1` for `0 <= y <= 40`, with no cancellation near 0.
#[inline(always)]
fn expm1_pos<const F: bool>(y: f64) -> f64 {
    let kd = madd::<F>(y, LOG2E, SHIFTER);
    let bits = kd.to_bits();
    let k = kd - SHIFTER;
    // k LN2_HI is exact (LN2_HI has 32 trailing zero bits).
    let r = (y - k * LN2_HI) - k * LN2_LO;
    // expm1(r) on |r| <= ln2 / 2 by its Taylor series to degree 13 (error below 1e-17).
    let mut p: f64 = 1.0 / 6_227_020_800.0;
    p = madd::<F>(p, r, 1.0 / 479_001_600.0);
    p = madd::<F>(p, r, 1.0 / 39_916_800.0);
    p = madd::<F>(p, r, 1.0 / 3_628_800.0);
    p = madd::<F>(p, r, 1.0 / 362_880.0);
    p = madd::<F>(p, r, 1.0 / 40_320.0);
    p = madd::<F>(p, r, 1.0 / 5_040.0);
    p = madd::<F>(p, r, 1.0 / 720.0);
    p = madd::<F>(p, r, 1.0 / 120.0);
    p = madd::<F>(p, r, 1.0 / 24.0);
    p = madd::<F>(p, r, 1.0 / 6.0);
    p = madd::<F>(p, r, 0.5);
    let em = madd::<F>(p * r, r, r);
    // 2^k from the shifted integer's low bits.
    let scale = f64::from_bits((bits.wrapping_add(1023)) << 52);
    // expm1(y) = 2^k (1 + em) - 1 = 2^k em + (2^k - 1).
    madd::<F>(scale, em, scale - 1.0)
}

/// `tanh(x)`, within a few ulps of the correctly rounded value.
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    tanh_impl::<false>(x)
}

/// The vector loops use the fused form (the last bit may differ from [`tanh`]).
#[inline(always)]
fn tanh_impl<const F: bool>(x: f64) -> f64 {
    let a = x.abs().min(20.0);
    let e = expm1_pos::<F>(2.0 * a);
    let t = e / (e + 2.0);
    // tanh rounds to 1 beyond 19.06; NaN passes through.
    let t = if x.abs() > 20.0 { 1.0 } else { t };
    let t = t.copysign(x);
    if x.is_nan() {
        x
    } else {
        t
    }
}

#[inline(always)]
fn tanh_loop<const F: bool>(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = tanh_impl::<F>(v);
    }
}

#[inline(always)]
fn tanh_scaled_loop<const F: bool>(g: f64, x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = tanh_impl::<F>(g * v);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tanh_avx2(x: &[f64], out: &mut [f64]) {
    tanh_loop::<true>(x, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tanh_scaled_avx2(g: f64, x: &[f64], out: &mut [f64]) {
    tanh_scaled_loop::<true>(g, x, out)
}

pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `out[i] = tanh(g * x[i])`.
pub fn tanh_slice(g: f64, x: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above).
        unsafe {
            if g == 1.0 {
                tanh_avx2(x, out)
            } else {
                tanh_scaled_avx2(g, x, out)
            }
        }
        return;
    }
    if g == 1.0 {
        tanh_loop::<false>(x, out)
    } else {
        tanh_scaled_loop::<false>(g, x, out)
    }
}

#[inline(always)]
fn tanh_inplace_loop<const F: bool>(x: &mut [f64]) {
    for v in x.iter_mut() {
        *v = tanh_impl::<F>(*v);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tanh_inplace_avx2(x: &mut [f64]) {
    tanh_inplace_loop::<true>(x)
}

/// `x[i] = tanh(x[i])`.
pub fn tanh_inplace(x: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above).
        unsafe { tanh_inplace_avx2(x) };
        return;
    }
    tanh_inplace_loop::<false>(x)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn zero_upper() {
    std::arch::x86_64::_mm256_zeroupper();
}

/// Clears the upper halves of the vector registers. faer's AVX-512 kernels can leave them
/// dirty on rayon's worker threads, and then every legacy-SSE instruction that follows (glibc's
/// `log1p`, for one) pays a transition penalty: measured here, LIF activities after a parallel
/// Gram update ran 14x slower (0.88 s instead of 0.063 s). Call it after faer work, before
/// scalar math.
#[inline]
pub fn clear_upper() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX (checked above).
        unsafe { zero_upper() }
    }
}

#[inline(always)]
fn matvec_loop(w: &[f64], rows: usize, cols: usize, stride: usize, x: &[f64], y: &mut [f64]) {
    y[..rows].iter_mut().for_each(|v| *v = 0.0);
    let mut j = 0;
    while j + 4 <= cols {
        let (a0, a1, a2, a3) = (x[j], x[j + 1], x[j + 2], x[j + 3]);
        let c0 = &w[j * stride..j * stride + rows];
        let c1 = &w[(j + 1) * stride..(j + 1) * stride + rows];
        let c2 = &w[(j + 2) * stride..(j + 2) * stride + rows];
        let c3 = &w[(j + 3) * stride..(j + 3) * stride + rows];
        for i in 0..rows {
            y[i] += (c0[i] * a0 + c1[i] * a1) + (c2[i] * a2 + c3[i] * a3);
        }
        j += 4;
    }
    while j < cols {
        let a = x[j];
        let c = &w[j * stride..j * stride + rows];
        for i in 0..rows {
            y[i] += c[i] * a;
        }
        j += 1;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn matvec_avx2(
    w: &[f64],
    rows: usize,
    cols: usize,
    stride: usize,
    x: &[f64],
    y: &mut [f64],
) {
    matvec_loop(w, rows, cols, stride, x, y)
}

/// `y = W x` for a column-major `W` (`rows` x `cols`, column stride `stride`): one pass over
/// the matrix, four columns at a time, `y` kept in cache. This is the memory-bandwidth
/// limit for one trial; a general matrix product kernel wastes most of its tile on one
/// column.
pub fn matvec(w: &[f64], rows: usize, cols: usize, stride: usize, x: &[f64], y: &mut [f64]) {
    assert!(cols == 0 || w.len() >= (cols - 1) * stride + rows);
    assert!(rows <= stride || cols <= 1);
    assert!(x.len() >= cols && y.len() >= rows);
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above).
        unsafe { matvec_avx2(w, rows, cols, stride, x, y) };
        return;
    }
    matvec_loop(w, rows, cols, stride, x, y)
}

#[inline(always)]
fn dot_loop(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0; 8];
    let chunks = n / 8;
    for c in 0..chunks {
        for l in 0..8 {
            acc[l] += a[c * 8 + l] * b[c * 8 + l];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for i in chunks * 8..n {
        s += a[i] * b[i];
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f64], b: &[f64]) -> f64 {
    dot_loop(a, b)
}

/// The dot product of two slices (eight partial sums, vectorized).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above).
        return unsafe { dot_avx2(a, b) };
    }
    dot_loop(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        (a - b).abs() / (f64::EPSILON * b.abs().max(f64::MIN_POSITIVE))
    }

    #[test]
    fn tanh_matches_std_to_a_few_ulps() {
        let mut worst = 0.0f64;
        let mut x = 1e-300;
        while x < 40.0 {
            for v in [x, -x] {
                worst = worst.max(ulps(tanh(v), v.tanh()));
            }
            x *= 1.0 + 1e-4;
        }
        for i in -200_000..200_000 {
            let v = i as f64 * 1e-4;
            worst = worst.max(ulps(tanh(v), v.tanh()));
        }
        assert!(worst <= 4.0, "{worst} ulps");
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(tanh(1e3), 1.0);
        assert_eq!(tanh(-1e300), -1.0);
        assert_eq!(tanh(f64::INFINITY), 1.0);
        assert!(tanh(f64::NAN).is_nan());
    }

    #[test]
    fn slice_version_agrees() {
        let x: Vec<f64> = (0..1001).map(|i| (i as f64 - 500.0) * 0.037).collect();
        let mut out = vec![0.0; x.len()];
        tanh_slice(1.5, &x, &mut out);
        for (o, v) in out.iter().zip(&x) {
            let want = (1.5 * v).tanh();
            assert!(ulps(*o, want) <= 4.0, "{o} vs {want}");
        }
    }

    #[test]
    fn dot_and_matvec_match_naive_sums() {
        let n = 37;
        let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
        let b: Vec<f64> = (0..n).map(|i| (i as f64 * 1.3).cos()).collect();
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-13);
        // A 5 x 7 column-major matrix with column stride 6.
        let (rows, cols, stride) = (5, 7, 6);
        let w: Vec<f64> = (0..cols * stride)
            .map(|i| (i as f64 * 0.37).sin())
            .collect();
        let x: Vec<f64> = (0..cols).map(|j| j as f64 - 3.0).collect();
        let mut y = vec![f64::NAN; rows];
        matvec(&w, rows, cols, stride, &x, &mut y);
        for i in 0..rows {
            let want: f64 = (0..cols).map(|j| w[j * stride + i] * x[j]).sum();
            assert!((y[i] - want).abs() < 1e-13, "{i}: {} vs {want}", y[i]);
        }
    }
}
