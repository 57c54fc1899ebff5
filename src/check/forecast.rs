//! Valid prediction time: how long an autonomous network forecasts its system from points on
//! the system's attractor before the z-scored error crosses a threshold (the reservoir
//! computing literature's figure, and the protocol of ReservoirPy's Lorenz anchor).
//!
//! From the program's `init`, the exact solution runs `transient` seconds, then `starts` start
//! points are taken `gap` seconds apart; their spread gives the per-state standard deviations
//! `sigma_i`. From each start the network begins at the encoded state (`W_enc`) or, for a
//! network without one, after teacher forcing (`trace::teacher_force`, `sync` seconds or
//! CHECKS.md's `20 tau_max`; it moves the start on by the forcing time); network and exact solution then run side by side with zero
//! input, and the forecast is valid while `sqrt(mean_i ((y_i - z_i) / sigma_i)^2) <= threshold`.
//! Times are returned in Lyapunov times (`seconds x lyapunov`), sorted.
//!
//! Cost: `starts x horizon / dt` network steps plus the same number of exact steps.

use crate::latent::Latent;
use crate::net::Net;
use crate::ode::Dopri5;
use crate::sim;
use crate::trace::{self, RunError};

/// The protocol (issue 5: 30 starts, threshold 0.4, Lorenz's exponent 0.9056 per second).
#[derive(Clone, Debug)]
pub struct Forecast {
    pub starts: usize,
    /// Seconds of exact solution from `init` before the first start.
    pub transient: f64,
    /// Seconds between starts.
    pub gap: f64,
    /// Seconds per forecast (the largest time a forecast can score).
    pub horizon: f64,
    pub threshold: f64,
    /// The system's largest Lyapunov exponent, per second.
    pub lyapunov: f64,
    /// Seconds of teacher forcing before a forecast of a network without `W_enc`; `None`:
    /// CHECKS.md's `20 tau_max`.
    pub sync: Option<f64>,
}

impl Default for Forecast {
    fn default() -> Forecast {
        Forecast {
            starts: 30,
            transient: 20.0,
            gap: 2.0,
            horizon: 25.0,
            threshold: 0.4,
            lyapunov: 0.9056,
            sync: None,
        }
    }
}

/// The exact solution with zero input: `steps` samples from `z` (which it advances).
fn exact_run(lat: &Latent, z: &mut [f64], dt: f64, steps: usize) -> Result<Vec<f64>, RunError> {
    let mut ev = lat.evaluator();
    let mut ode = Dopri5::new(lat.d, 1e-10, 1e-12);
    let u = vec![0.0; lat.k];
    let mut out = Vec::with_capacity(steps * lat.d);
    for t in 0..steps {
        out.extend_from_slice(z);
        ev.exact_step(lat.kind(), &mut ode, z, &u, t as f64 * dt, dt)
            .map_err(RunError::Reference)?;
    }
    Ok(out)
}

/// The sorted valid prediction times of `net` (its first `d` readout rows are the states).
pub fn valid_prediction_times(net: &Net, lat: &Latent, f: &Forecast) -> Result<Vec<f64>, RunError> {
    let (d, dt) = (lat.d, net.dt);
    if net.n_out() < d {
        return Err(RunError::Input(format!(
            "the network reads out {} values, the system has {d} states",
            net.n_out()
        )));
    }
    let mut z = lat.inst.init.clone();
    exact_run(lat, &mut z, dt, crate::time::steps(f.transient, dt))?;
    let gap = crate::time::steps(f.gap, dt).max(1);
    let long = exact_run(lat, &mut z, dt, gap * f.starts.max(1))?;
    let rows = long.len() / d;
    let sigma: Vec<f64> = (0..d)
        .map(|j| {
            let m = long.iter().skip(j).step_by(d).sum::<f64>() / rows as f64;
            let v = long
                .iter()
                .skip(j)
                .step_by(d)
                .map(|x| (x - m).powi(2))
                .sum::<f64>();
            (v / rows as f64).sqrt().max(1e-12)
        })
        .collect();
    let steps = crate::time::steps(f.horizon, dt).max(1);
    let mut vpt = Vec::with_capacity(f.starts);
    for s in 0..f.starts {
        let z0 = &long[s * gap * d..(s * gap + 1) * d];
        let (x0, mut z) = match net.encode(z0) {
            Some(x0) => (x0, z0.to_vec()),
            None if net.feedback.is_some() => match f.sync {
                Some(s) => trace::teacher_force_for(net, lat, z0, crate::time::steps(s, dt))?,
                None => trace::teacher_force(net, lat, z0)?,
            },
            None => {
                return Err(RunError::Input(
                    "the network has neither W_enc nor W_fb: no way to start it at a state".into(),
                ))
            }
        };
        let exact = exact_run(lat, &mut z, dt, steps)?;
        let mut first = steps;
        // A forecast that blows up has failed from the step it does.
        let run = sim::run(net, &x0, steps - 1, &mut |_, u| u.fill(0.0), &mut |smp| {
            let t = smp.step;
            if first == steps {
                let e = (0..d)
                    .map(|j| ((smp.y[j] - exact[d * t + j]) / sigma[j]).powi(2))
                    .sum::<f64>()
                    / d as f64;
                if e.is_nan() || e.sqrt() > f.threshold {
                    first = t;
                }
            }
        });
        if let Err(e) = run {
            first = first.min(e.step);
        }
        vpt.push(first as f64 * dt * f.lyapunov);
    }
    vpt.sort_by(f64::total_cmp);
    Ok(vpt)
}

/// The median of sorted values (the mean of the middle two for an even count).
pub fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}
