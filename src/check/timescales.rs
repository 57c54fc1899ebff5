//! `timescale_gradient` (CHECKS.md): the Spearman correlation between each unit's private
//! relaxation time and its position along the `timescales` axis.
//!
//! A unit's private deviation is `x_i - (W_enc z_hat + b_enc)_i`, its distance from the state
//! that encodes what the network currently represents. Each unit is nudged alone from a
//! reference state (zero input), both runs are stepped for up to three `tau_max`, and the
//! relaxation time is when the difference of the deviations first falls below 1/e of its
//! start (linearly interpolated). Units are independent and run in parallel.

use crate::net::Net;
use crate::sim::Stepper;
use rayon::prelude::*;

/// Relaxation time of every unit, in seconds (`None` for a unit that did not relax within
/// the window).
pub fn relaxation_times(
    net: &Net,
    x_ref: &[f64],
    tau_max: f64,
    units: &[usize],
    progress: &dyn crate::progress::Progress,
) -> Result<Vec<Option<f64>>, String> {
    let (w_enc, b_enc) = net
        .enc
        .as_ref()
        .ok_or("`timescale_gradient` needs a network with an encoder (`W_enc`)")?;
    let n = net.n();
    let d = w_enc.ncols();
    let steps = net.steps_at_least(3.0 * tau_max).max(10);
    let u = vec![0.0; net.n_inputs()];
    // The private deviation of unit i in the state held by a stepper.
    let deviation = |s: &mut Stepper, i: usize| -> f64 {
        let y = s.read(&u).to_vec();
        let mut e = s.state()[i] - b_enc[i];
        for c in 0..d {
            e -= w_enc[(i, c)] * y[c];
        }
        e
    };
    // The unperturbed run, once (one readout per step serves every unit).
    let mut base = Stepper::new(net, x_ref);
    let mut base_dev = vec![vec![0.0; n]; steps + 1];
    for (t, row) in base_dev.iter_mut().enumerate() {
        let y = base.read(&u).to_vec();
        for (i, v) in row.iter_mut().enumerate() {
            let mut e = base.state()[i] - b_enc[i];
            for (c, yc) in y.iter().enumerate().take(d) {
                e -= w_enc[(i, c)] * yc;
            }
            *v = e;
        }
        if t < steps {
            base.advance();
        }
    }
    let _bar = crate::progress::start(progress, "relaxation times (units)", units.len() as u64);
    let mut times = Vec::with_capacity(units.len());
    // Chunks in parallel, progress between them (the hook is not shared across threads).
    for chunk in units.chunks(16) {
        progress.advance(times.len() as u64);
        times.par_extend(chunk.par_iter().map(|&i| {
            crate::net::fastmath::clear_upper();
            let delta = 1e-3 * (1.0 + x_ref[i].abs());
            let mut x0 = x_ref.to_vec();
            x0[i] += delta;
            let mut s = Stepper::new(net, &x0);
            let mut prev = deviation(&mut s, i) - base_dev[0][i];
            let start = prev.abs();
            if start == 0.0 {
                return None;
            }
            for t in 1..=steps {
                s.advance();
                let e = (deviation(&mut s, i) - base_dev[t][i]).abs();
                if e <= start / std::f64::consts::E {
                    // Interpolate between t - 1 and t.
                    let frac =
                        (prev.abs() - start / std::f64::consts::E) / (prev.abs() - e).max(1e-300);
                    return Some((t as f64 - 1.0 + frac) * net.dt);
                }
                prev = e;
            }
            None
        }));
    }
    Ok(times)
}

/// Spearman's rank correlation (average ranks for ties).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let ra = ranks(a);
    let rb = ranks(b);
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut num, mut da, mut db) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        num += (x - ma) * (y - mb);
        da += (x - ma) * (x - ma);
        db += (y - mb) * (y - mb);
    }
    if da > 0.0 && db > 0.0 {
        num / (da * db).sqrt()
    } else {
        0.0
    }
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_handles_ties_and_order() {
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(ranks(&[5.0, 1.0, 5.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }
}
