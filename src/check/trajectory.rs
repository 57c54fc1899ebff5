//! Metrics of a run against the exact solution of the program: drift, divergence time,
//! attractor distance.

use super::context::*;
use super::dynamics::*;
use super::*;

/// What `attractor_distance` reports for a collapsed attractor: fails any bound.
pub(super) const COLLAPSED: f64 = 1e9;

/// A largest Lyapunov exponent above this (per second) is chaos for the collapse rule, for the
/// system and the network alike: a limit cycle's neutral exponent is 0 in theory and a few
/// 1e-3 either side of it in a finite run.
pub(super) const CHAOTIC: f64 = 0.02;

/// CHECKS.md `attractor_distance`: the network's decoded states after
/// `max(5 tau_max, T / 10)` against the system's long-run statistics (an exact zero-input run
/// of `max(100 s, T)` from the same start, its first tenth dropped), per component
/// `|mean diff| / sigma + |std ratio - 1| + W1 / sigma`, averaged. A collapse: a component
/// whose spread is below half the system's, or a network whose largest Lyapunov exponent is
/// at most `CHAOTIC` (CHECKS.md: <= 0) while the system's (from the same long run, by a
/// finite-difference tangent on the one-step flow map) exceeds it.
pub(super) fn attractor_distance(cx: &Context, tr: &Trace) -> Result<f64, String> {
    let net = cx.net;
    let lat = cx.latent("attractor_distance")?;
    let d = lat.d;
    let rows = tr.rows();
    let skip = net.steps_at_least(5.0 * net.tau_max()).max(rows / 10);
    if skip + 10 >= rows {
        return Err("the simulation is too short for `attractor_distance`".into());
    }
    // The system's own statistics.
    let start: Vec<f64> = net
        .meta
        .states
        .iter()
        .map(|n| tr.column(n).map_or(0.0, |c| c[0]))
        .collect();
    let z0 = match cx.last_sim {
        Some(sim) => trace::start(lat, sim),
        None => start,
    };
    let length = (100.0f64).max(rows as f64 * net.dt);
    let steps = net.steps(length);
    let mut ode = crate::ode::Dopri5::new(d, 1e-10, 1e-12);
    let mut ev = lat.evaluator();
    let u = vec![0.0; lat.k];
    let mut z = z0;
    let mut samples = vec![Vec::with_capacity(steps); d];
    // The system's largest Lyapunov exponent along the same run: a unit tangent pushed
    // through the RK4 flow map by a finite difference, renormalized every step.
    let substeps = crate::latent::substeps(net.dt, lat.rate_bound());
    let mut v = vec![1.0 / (d.max(1) as f64).sqrt(); d];
    let mut log_growth = 0.0;
    let mut fm = lat.evaluator();
    let (mut za, mut zb) = (vec![0.0; d], vec![0.0; d]);
    let _bar = crate::progress::start(cx.progress, "the system's long run (steps)", steps as u64);
    for t in 0..steps {
        if t % 1024 == 0 {
            cx.progress.advance(t as u64);
        }
        let t0 = t as f64 * net.dt;
        let eps = 1e-7 * (1.0 + z.iter().fold(0.0f64, |m, x| m.max(x.abs())));
        za.copy_from_slice(&z);
        for j in 0..d {
            zb[j] = z[j] + eps * v[j];
        }
        fm.flow_map(lat.kind(), &mut za, &u, net.dt, substeps);
        fm.flow_map(lat.kind(), &mut zb, &u, net.dt, substeps);
        let norm = (0..d)
            .map(|j| (zb[j] - za[j]) * (zb[j] - za[j]))
            .sum::<f64>()
            .sqrt();
        if norm > 0.0 && norm.is_finite() {
            for j in 0..d {
                v[j] = (zb[j] - za[j]) / norm;
            }
            if t >= steps / 10 {
                log_growth += (norm / eps).ln();
            }
        }
        ev.exact_step(lat.kind(), &mut ode, &mut z, &u, t0, net.dt)
            .map_err(|e| format!("the system's long run: {e}"))?;
        if t >= steps / 10 {
            for (j, v) in z.iter().enumerate() {
                samples[j].push(*v);
            }
        }
    }
    let map = crate::latent::DomainMap::new(d, &lat.inst.domains);
    let lines = (lat.inst.domains.len().max(1) as f64).sqrt();
    let mut total = 0.0;
    for (j, name) in net.meta.states.iter().enumerate().take(d) {
        let a: Vec<f64> = tr.column(name).unwrap_or_default()[skip..].to_vec();
        let b = &samples[j];
        let (ma, sa) = mean_std(&a);
        let (mb, sb) = mean_std(b);
        let sigma = if sb > 0.0 { sb } else { map.scale[j] / lines };
        if sa < 0.5 * sigma {
            return Ok(COLLAPSED);
        }
        total += (ma - mb).abs() / sigma + (sa / sigma - 1.0).abs() + wasserstein1(&a, b) / sigma;
    }
    let system = log_growth / ((steps - steps / 10) as f64 * net.dt);
    if system > CHAOTIC {
        let network = lyapunov(cx, 1, None)?;
        if network <= CHAOTIC {
            cx.detail.replace(Some(format!(
                "the network's lyapunov_max is {network:.4} per s while the system's is \
                 {system:.4}: it settled on a fixed point or a cycle"
            )));
            return Ok(COLLAPSED);
        }
    }
    Ok(total / d.max(1) as f64)
}

pub(super) fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt(),
    )
}

/// Wasserstein-1 distance of two empirical distributions, by 1000 matched quantiles.
pub(super) fn wasserstein1(a: &[f64], b: &[f64]) -> f64 {
    let sorted = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s
    };
    let (a, b) = (sorted(a), sorted(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let q = |s: &[f64], p: f64| s[((p * s.len() as f64) as usize).min(s.len() - 1)];
    let k = 1000;
    (0..k)
        .map(|i| {
            let p = (i as f64 + 0.5) / k as f64;
            (q(&a, p) - q(&b, p)).abs()
        })
        .sum::<f64>()
        / k as f64
}

/// CHECKS.md `drift`: over every zero-input stretch of at least `5 tau_max`, the norm of the
/// least-squares slope of `z_hat - z` (per second, in domain half-widths); the largest.
pub(super) fn drift(cx: &Context, (tr, reference): &(Trace, Trace)) -> Result<f64, String> {
    let net = cx.net;
    let network = &cx.program.networks[cx.index];
    let crate::sema::model::Target::System(inst) = &network.target else {
        return Err("`drift` needs a network that realizes a system".into());
    };
    let sys = &cx.program.systems[inst.system];
    let map = crate::latent::DomainMap::new(sys.state_dim(), &inst.domains);
    let inputs = sys.input_names();
    let rows = tr.rows();
    let quiet: Vec<bool> = (0..rows)
        .map(|r| {
            inputs
                .iter()
                .all(|n| tr.column(n).is_none_or(|c| c[r] == 0.0))
        })
        .collect();
    let min_len = net.steps_at_least(5.0 * net.tau_max());
    let names = &net.meta.states;
    let cols = paired(names, tr, reference);
    // Half-widths without the product scaling of the domain map.
    let lines = (inst.domains.len().max(1) as f64).sqrt();
    let mut worst: Option<f64> = None;
    let mut r = 0;
    while r < rows {
        if !quiet[r] {
            r += 1;
            continue;
        }
        let start = r;
        while r < rows && quiet[r] {
            r += 1;
        }
        if r - start < min_len.max(2) {
            continue;
        }
        let mut norm2 = 0.0;
        for (j, (a, b)) in cols.iter().enumerate() {
            let h = map.scale.get(j).copied().unwrap_or(1.0) / lines;
            let ys: Vec<f64> = (start..r).map(|k| (a[k] - b[k]) / h).collect();
            norm2 += slope(&ys, net.dt).powi(2);
        }
        let v = norm2.sqrt();
        worst = Some(worst.map_or(v, |w: f64| w.max(v)));
    }
    worst.ok_or_else(|| {
        format!(
            "`drift` needs a stretch of at least 5 tau_max = {:.3} s with zero input",
            5.0 * net.tau_max()
        )
    })
}

/// Least-squares slope of equally spaced samples.
pub(super) fn slope(ys: &[f64], dt: f64) -> f64 {
    let n = ys.len() as f64;
    let tm = (n - 1.0) / 2.0;
    let ym = ys.iter().sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let t = i as f64 - tm;
        num += t * (y - ym);
        den += t * t;
    }
    if den > 0.0 {
        num / den / dt
    } else {
        0.0
    }
}

/// The network's and the reference's columns of each named state, side by side.
pub(super) fn paired(names: &[String], tr: &Trace, reference: &Trace) -> Vec<(Vec<f64>, Vec<f64>)> {
    names
        .iter()
        .map(|n| {
            (
                tr.column(n).unwrap_or_default(),
                reference.column(n).unwrap_or_default(),
            )
        })
        .collect()
}

/// First time `|z_hat - z| / sqrt(sum_j sigma_j^2) > 0.4`; the run's length if never.
pub(super) fn divergence_time(net: &Net, tr: &Trace, reference: &Trace) -> f64 {
    let names = &net.meta.states;
    let cols = paired(names, tr, reference);
    let var: f64 = cols
        .iter()
        .map(|(_, b)| {
            let m = b.iter().sum::<f64>() / b.len().max(1) as f64;
            b.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / b.len().max(1) as f64
        })
        .sum();
    let scale = var.sqrt().max(1e-300);
    let rows = tr.rows();
    for r in 0..rows {
        let d2: f64 = cols.iter().map(|(a, b)| (a[r] - b[r]).powi(2)).sum();
        if d2.sqrt() / scale > 0.4 {
            return r as f64 * net.dt;
        }
    }
    rows.saturating_sub(1) as f64 * net.dt
}
