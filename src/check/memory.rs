//! `memory_capacity` (CHECKS.md): Jaeger's short-term memory capacity,
//! `sum_k r^2(u(t - k), y_k(t))` for delays k = 1 ..= 2N, driving the first input with i.i.d.
//! `U(-0.8, 0.8)`. Each delay's ridge readout is fitted on one segment and scored on another,
//! each `max(10 N, 1000)` steps after a washout of `5 tau_max`; a negative r^2 counts as 0.

use crate::net::{Form, Net};
use crate::rng::Rng;
use crate::sim;
use faer::linalg::solvers::Solve;
use faer::Mat;

pub fn capacity(net: &Net, tau_max: f64, seed: u64) -> Result<f64, String> {
    if net.n_inputs() == 0 {
        return Err("`memory_capacity` needs a network with an input".into());
    }
    let n = net.n();
    let delays = 2 * n;
    let washout = net.steps_at_least(5.0 * tau_max);
    let seg = (10 * n).max(1000);
    let steps = washout + delays + 2 * seg;
    let mut rng = Rng::new(seed, "memory_capacity");
    let drive: Vec<f64> = (0..steps).map(|_| rng.range(-0.8, 0.8)).collect();
    // The readable activity at each step: phi(x) (current form) or r (rate form), as W_out
    // would read it.
    let mut states = Vec::with_capacity(steps * n);
    sim::run(
        net,
        &net.init_state,
        steps,
        &mut |t, u| {
            u.iter_mut().for_each(|v| *v = 0.0);
            if t < steps {
                u[0] = drive[t];
            }
        },
        &mut |s| {
            if s.step < steps {
                let g = net.gain_input.map_or(1.0, |c| s.u[c]);
                states.extend(s.x.iter().map(|&x| match net.form {
                    Form::Current => net.phi.eval(g * x),
                    Form::Rate => x,
                }));
            }
        },
    )
    .map_err(|e| e.to_string())?;
    // The readout at step t sees the state after u[t - 1] (the state is read before u[t]).
    let row = |t: usize| &states[t * n..(t + 1) * n];
    let train: Vec<usize> = (washout + delays..washout + delays + seg).collect();
    let test: Vec<usize> = (washout + delays + seg..steps).collect();
    // Centred ridge regression on the training rows: one Gram matrix for every delay.
    let mean: Vec<f64> = (0..n)
        .map(|j| train.iter().map(|&t| row(t)[j]).sum::<f64>() / seg as f64)
        .collect();
    let x = Mat::<f64>::from_fn(seg, n, |i, j| row(train[i])[j] - mean[j]);
    let mut g = x.transpose() * &x;
    let scale = (0..n).map(|i| g[(i, i)]).sum::<f64>() / n as f64;
    for i in 0..n {
        g[(i, i)] += 1e-9 * scale.max(1e-300);
    }
    let llt = g
        .llt(faer::Side::Lower)
        .map_err(|_| "the reservoir's states are degenerate (no ridge solution)".to_string())?;
    crate::net::fastmath::clear_upper();
    let mut total = 0.0;
    for k in 1..=delays {
        let target = |t: usize| drive[t - k];
        let ym = train.iter().map(|&t| target(t)).sum::<f64>() / seg as f64;
        let rhs = Mat::<f64>::from_fn(n, 1, |j, _| {
            train
                .iter()
                .enumerate()
                .map(|(i, &t)| x[(i, j)] * (target(t) - ym))
                .sum()
        });
        let w = llt.solve(&rhs);
        // r^2 on the test rows.
        let (mut ss_res, mut ss_tot) = (0.0, 0.0);
        let tm = test.iter().map(|&t| target(t)).sum::<f64>() / test.len() as f64;
        for &t in &test {
            let pred = ym
                + (0..n)
                    .map(|j| (row(t)[j] - mean[j]) * w[(j, 0)])
                    .sum::<f64>();
            ss_res += (target(t) - pred).powi(2);
            ss_tot += (target(t) - tm).powi(2);
        }
        let r2 = if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            0.0
        };
        total += r2.max(0.0);
    }
    Ok(total)
}
