//! Points spread evenly on the unit sphere (encoders) and in the unit ball (evaluation
//! points). Low-discrepancy where a construction is known (1-D strata, the 2-D sunflower,
//! the 3-D Fibonacci sphere), seeded random otherwise.

use crate::rng::Rng;

const GOLDEN_ANGLE: f64 = 2.399_963_229_728_653; // pi (3 - sqrt 5)

/// `n` unit vectors in `d` dimensions, row-major (n x d), in random order.
pub fn sphere(n: usize, d: usize, rng: &mut Rng) -> Vec<f64> {
    let mut pts = vec![0.0; n * d];
    match d {
        0 => {}
        1 => {
            for i in 0..n {
                pts[i] = if i % 2 == 0 { 1.0 } else { -1.0 };
            }
        }
        2 => {
            let offset = rng.uniform();
            for i in 0..n {
                let th = 2.0 * std::f64::consts::PI * (i as f64 + offset) / n as f64;
                pts[2 * i] = th.cos();
                pts[2 * i + 1] = th.sin();
            }
        }
        3 => {
            let rot = rng.uniform() * 2.0 * std::f64::consts::PI;
            for i in 0..n {
                let z = 1.0 - 2.0 * (i as f64 + 0.5) / n as f64;
                let r = (1.0 - z * z).max(0.0).sqrt();
                let th = GOLDEN_ANGLE * i as f64 + rot;
                pts[3 * i] = r * th.cos();
                pts[3 * i + 1] = r * th.sin();
                pts[3 * i + 2] = z;
            }
        }
        _ => {
            for i in 0..n {
                gaussian_direction(&mut pts[i * d..(i + 1) * d], rng);
            }
        }
    }
    shuffle_rows(&mut pts, n, d, rng);
    pts
}

/// `m` points in the unit ball of `d` dimensions with uniform density, row-major.
pub fn ball(m: usize, d: usize, rng: &mut Rng) -> Vec<f64> {
    let mut pts = vec![0.0; m * d];
    match d {
        0 => {}
        1 => {
            for i in 0..m {
                pts[i] = 2.0 * (i as f64 + rng.uniform()) / m as f64 - 1.0;
            }
        }
        2 => {
            let rot = rng.uniform() * 2.0 * std::f64::consts::PI;
            for i in 0..m {
                let r = ((i as f64 + 0.5) / m as f64).sqrt();
                let th = GOLDEN_ANGLE * i as f64 + rot;
                pts[2 * i] = r * th.cos();
                pts[2 * i + 1] = r * th.sin();
            }
        }
        _ => {
            // Stratified radii (uniform volume), random directions.
            for i in 0..m {
                let row = &mut pts[i * d..(i + 1) * d];
                gaussian_direction(row, rng);
                let r = ((i as f64 + rng.uniform()) / m as f64).powf(1.0 / d as f64);
                for v in row.iter_mut() {
                    *v *= r;
                }
            }
        }
    }
    pts
}

fn gaussian_direction(row: &mut [f64], rng: &mut Rng) {
    loop {
        let mut norm = 0.0;
        for v in row.iter_mut() {
            *v = rng.normal();
            norm += *v * *v;
        }
        if norm > 1e-20 {
            let s = 1.0 / norm.sqrt();
            for v in row.iter_mut() {
                *v *= s;
            }
            return;
        }
    }
}

fn shuffle_rows(pts: &mut [f64], n: usize, d: usize, rng: &mut Rng) {
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        for c in 0..d {
            pts.swap(i * d + c, j * d + c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sphere_points_are_unit_and_balanced() {
        for d in 1..=5 {
            let mut rng = Rng::new(1, "t");
            let p = sphere(400, d, &mut rng);
            let mut mean = vec![0.0; d];
            for i in 0..400 {
                let row = &p[i * d..(i + 1) * d];
                let n: f64 = row.iter().map(|v| v * v).sum();
                assert!((n - 1.0).abs() < 1e-12);
                for c in 0..d {
                    mean[c] += row[c] / 400.0;
                }
            }
            // Even spreads cancel; random ones to about 1/sqrt(n).
            let bound = if d <= 3 { 0.01 } else { 0.2 };
            assert!(mean.iter().all(|m| m.abs() < bound), "d = {d}: {mean:?}");
        }
    }

    #[test]
    fn ball_points_fill_the_ball_uniformly() {
        for d in 1..=4 {
            let mut rng = Rng::new(2, "t");
            let m = 4000;
            let p = ball(m, d, &mut rng);
            // The fraction inside radius 1/2 is 2^-d for a uniform density.
            let inside = (0..m)
                .filter(|i| {
                    let n: f64 = p[i * d..(i + 1) * d].iter().map(|v| v * v).sum();
                    assert!(n <= 1.0 + 1e-12);
                    n.sqrt() < 0.5
                })
                .count() as f64
                / m as f64;
            assert!(
                (inside - 0.5f64.powi(d as i32)).abs() < 0.01,
                "d = {d}: {inside}"
            );
        }
    }
}
