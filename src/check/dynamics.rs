//! Metrics of the network's own dynamics: fixed points, Lyapunov exponents, timescales,
//! synchronization of the open loop, mean rate.

use super::context::*;
use super::*;

/// Fixed points with zero input, searched from 256 seeded starts (64 states, each also
/// perturbed three times). A system network with an encoder: 32 latent states along the most
/// recent simulation and the rest spread over the domain, encoded. Without an encoder:
/// network states sampled along the most recent simulation (else a 10 s zero-input run from
/// `init_state`). A task network: states sampled along one trial of each condition of its
/// task. Each point says whether its decoded state lies in the system's domain.
pub(super) fn fixed_points(cx: &Context) -> Result<Vec<fixed_points::FixedPoint>, String> {
    let net = cx.net;
    let network = &cx.program.networks[cx.index];
    let u0 = vec![0.0; net.n_inputs()];
    const STARTS: usize = 64;
    let (starts, rows, merge) = match &network.target {
        crate::sema::model::Target::System(inst) => {
            let d = net.n_states();
            let map = crate::latent::DomainMap::new(d, &inst.domains);
            let lines = (inst.domains.len().max(1) as f64).sqrt();
            let radius = map.scale.iter().fold(0.0f64, |m, s| m.max(*s)) / lines;
            let starts = if net.enc.is_some() {
                let mut latents: Vec<Vec<f64>> = Vec::new();
                if let Some((tr, _)) = &cx.last {
                    let cols: Vec<Vec<f64>> = net
                        .meta
                        .states
                        .iter()
                        .filter_map(|n| tr.column(n))
                        .collect();
                    let rows = tr.rows();
                    for k in 0..(STARTS / 2).min(rows) {
                        let r = k * rows / (STARTS / 2);
                        latents.push(cols.iter().map(|c| c[r]).collect());
                    }
                }
                let mut rng = crate::rng::Rng::new(network.seed, "fixed_point_starts");
                let unit = crate::latent::spread::ball(STARTS - latents.len(), d, &mut rng);
                for p in unit.chunks(d.max(1)) {
                    let mut z = vec![0.0; d];
                    map.from_unit(p, &mut z);
                    latents.push(z);
                }
                latents.iter().filter_map(|z| net.encode(z)).collect()
            } else {
                let (x0, cols, steps) = match replay(cx, "fixed_points")? {
                    Some(r) => r,
                    None => (net.init_state.clone(), Vec::new(), net.steps_at_least(10.0)),
                };
                sample_states(net, &x0, steps, STARTS, &|t, u| {
                    for (c, v) in u.iter_mut().enumerate() {
                        *v = cols.get(c).map_or(0.0, |col| col[t]);
                    }
                })?
            };
            (starts, d, 1e-3 * radius)
        }
        crate::sema::model::Target::Task(ti) => {
            let task = &cx.program.tasks[*ti];
            let trials = crate::task::generate(task, net.dt, network.seed, "check trials")?;
            let (in_cols, _) = crate::task::channels(net, &trials)?;
            let conditions = condition_trials(trials.trials.len(), task.repeats);
            let per = STARTS.div_ceil(conditions.len().max(1));
            let mut starts = Vec::new();
            for &i in &conditions {
                let tr = &trials.trials[i];
                let k = trials.inputs.len();
                starts.extend(sample_states(
                    net,
                    &net.init_state,
                    tr.steps - 1,
                    per,
                    &|t, u| {
                        u.iter_mut().for_each(|v| *v = 0.0);
                        for (j, &col) in in_cols.iter().enumerate() {
                            u[col] = tr.inputs[t * k + j];
                        }
                    },
                )?);
            }
            (starts, net.n_out(), 1e-3)
        }
        crate::sema::model::Target::None => {
            return Err("`fixed_points` needs a network that realizes a system or a task".into())
        }
    };
    let mut points = fixed_points::find(net, &u0, &starts, rows, merge, network.seed, cx.progress)?;
    if let crate::sema::model::Target::System(inst) = &network.target {
        for p in &mut points {
            p.in_domain = inst.domains.iter().all(|(comps, region)| {
                let z: Vec<f64> = comps
                    .iter()
                    .map(|&c| p.z.get(c).copied().unwrap_or(0.0))
                    .collect();
                region.contains(&z)
            });
        }
    }
    Ok(points)
}

/// Most conditions a task network's fixed-point search starts from.
pub(super) const MAX_CONDITIONS: usize = 256;

/// The trials a task network's fixed-point search starts from: the first repetition of each
/// condition (trials come as named trial x `vary` product x `trials n` repetitions, the
/// repetitions innermost), so every condition is covered however often it repeats; above
/// [`MAX_CONDITIONS`] conditions, that many spread evenly over them.
pub(super) fn condition_trials(trials: usize, repeats: usize) -> Vec<usize> {
    let repeats = repeats.max(1);
    let conditions = trials.div_ceil(repeats);
    let pick: Vec<usize> = if conditions <= MAX_CONDITIONS {
        (0..conditions).collect()
    } else {
        (0..MAX_CONDITIONS)
            .map(|k| k * conditions / MAX_CONDITIONS)
            .collect()
    };
    pick.into_iter()
        .map(|c| c * repeats)
        .filter(|&i| i < trials)
        .collect()
}

/// Spearman correlation of each unit's private relaxation time with its coordinate along
/// the `timescales` axis, nudging units from the end of the most recent simulation (or from
/// `init_state`).
pub(super) fn timescale_gradient(cx: &Context) -> Result<f64, String> {
    let net = cx.net;
    let network = &cx.program.networks[cx.index];
    let col = network
        .constraints
        .iter()
        .find_map(|c| match &c.kind {
            Constraint::Timescales(t) => Some(t.along.column()),
            _ => None,
        })
        .ok_or("`timescale_gradient` needs a `timescales` constraint on the network")?;
    let coord: Vec<f64> = match &net.positions {
        Some(p) if col < p.ncols() => (0..p.nrows()).map(|i| p[(i, col)]).collect(),
        _ => (0..net.n()).map(|i| i as f64).collect(),
    };
    let x_ref = match (&cx.last, cx.last_sim) {
        (Some((tr, _)), Some(_)) => {
            // The decoded end state, encoded: a state on the manifold.
            let last = tr.rows() - 1;
            let z: Vec<f64> = net
                .meta
                .states
                .iter()
                .map(|n| tr.column(n).map_or(0.0, |c| c[last]))
                .collect();
            net.encode(&z).unwrap_or_else(|| net.init_state.clone())
        }
        _ => net.init_state.clone(),
    };
    // Every unit up to 128; above, 128 units evenly spaced in their order along the axis
    // (each costs a simulation of the whole network until it relaxes).
    let mut order: Vec<usize> = (0..net.n()).collect();
    order.sort_by(|&i, &j| coord[i].total_cmp(&coord[j]));
    let units: Vec<usize> = if order.len() <= TIMESCALE_UNITS {
        order
    } else {
        (0..TIMESCALE_UNITS)
            .map(|k| order[k * (order.len() - 1) / (TIMESCALE_UNITS - 1)])
            .collect()
    };
    let times = timescales::relaxation_times(net, &x_ref, net.tau_max(), &units, cx.progress)?;
    let (a, b): (Vec<f64>, Vec<f64>) = times
        .iter()
        .zip(&units)
        .filter_map(|(t, &i)| t.map(|t| (t, coord[i])))
        .unzip();
    if a.len() < 3 {
        return Err("too few units relaxed within 3 tau_max to correlate".into());
    }
    Ok(timescales::spearman(&a, &b))
}

/// The k-th largest Lyapunov exponent (per second) of the network along the most recent
/// simulation (its inputs, after a transient of `max(5 tau_max, T / 10)`), or along a
/// zero-input run of `max(200 tau_max, 10 s)` from `init_state` when there is none.
pub(super) fn lyapunov(cx: &Context, k: usize, sim_error: Option<&str>) -> Result<f64, String> {
    lyapunov_estimate(cx, k, sim_error).map(|(v, _)| v)
}

/// [`lyapunov`] with its convergence figure (`lyapunov::Estimate::error`), per second.
pub(super) fn lyapunov_estimate(
    cx: &Context,
    k: usize,
    sim_error: Option<&str>,
) -> Result<(f64, f64), String> {
    if let Some(e) = sim_error {
        return Err(format!("the simulation failed: {e}"));
    }
    if k != 1 {
        return lyapunov_uncached(cx, k);
    }
    if let Some(v) = cx.lyap_max.borrow().as_ref() {
        return v.clone();
    }
    let v = lyapunov_uncached(cx, 1);
    cx.lyap_max.replace(Some(v.clone()));
    v
}

pub(super) fn lyapunov_uncached(cx: &Context, k: usize) -> Result<(f64, f64), String> {
    let net = cx.net;
    let tm = net.tau_max();
    let exps = match replay(cx, "lyapunov")? {
        Some((x0, cols, steps)) => {
            let skip = net.steps_at_least(5.0 * tm).max(steps / 10);
            if skip + 10 >= steps {
                return Err(format!(
                    "the simulation is too short for `lyapunov`: it needs more than {:.3} s",
                    (skip + 10) as f64 * net.dt
                ));
            }
            lyapunov::estimate(
                net,
                &x0,
                steps,
                skip,
                k,
                &|t, u| {
                    for (c, v) in u.iter_mut().enumerate() {
                        *v = cols.get(c).map_or(0.0, |col| col[t]);
                    }
                },
                cx.progress,
            )
        }
        None => {
            let steps = net.steps_at_least((200.0 * tm).max(10.0));
            let skip = net.steps_at_least(5.0 * tm).max(steps / 10);
            lyapunov::estimate(
                net,
                &net.init_state,
                steps,
                skip,
                k,
                &|_, u| u.iter_mut().for_each(|v| *v = 0.0),
                cx.progress,
            )
        }
    };
    Ok((exps.value[k - 1], exps.error[k - 1]))
}

/// CHECKS.md `sync_error`: the open loop (`A`, `b_A`, FORMAT.md) driven by the exact solution
/// of the most recent simulation (its inputs, and the fed-back rows' exact values) from two
/// starts, `init_state` and a seeded N(0, 1) state; after `10 tau_max`, the rms difference of
/// the two responses (what `W_out` reads: `phi(x)`, or `r`) over the rms of the first
/// response's deviation from its time average.
pub(super) fn sync_error(cx: &Context, sim_error: Option<&str>) -> Result<f64, String> {
    let net = cx.net;
    let open = net.open_loop().ok_or(
        "`sync_error` needs a network whose loop is closed on its own readout (an array `W_fb`)",
    )?;
    if let Some(e) = sim_error {
        return Err(format!("the simulation failed: {e}"));
    }
    let (x0, mut cols, steps) =
        replay(cx, "sync_error")?.ok_or("`sync_error` needs a `simulate` step before it")?;
    let (_, reference) = cx.last.as_ref().expect("replay found a simulation");
    let fb = net.feedback.as_ref().expect("open_loop found W_fb");
    let readout: Vec<&String> = net.meta.states.iter().chain(&net.meta.outputs).collect();
    for &r in &fb.rows {
        let name = readout.get(r).ok_or_else(|| {
            format!("`sync_error`: fed-back row {r} of `W_out` has no name in the manifest")
        })?;
        cols.push(reference.column(name).ok_or_else(|| {
            format!(
                "`sync_error`: the fed-back row `{name}` is not a state or output of the program"
            )
        })?);
    }
    let washout = net.steps_at_least(10.0 * net.tau_max());
    if washout + 100 > steps {
        return Err(format!(
            "the simulation is too short for `sync_error`: it needs more than {:.3} s (a washout \
             of 10 tau_max and 100 steps)",
            (washout + 100) as f64 * net.dt
        ));
    }
    let mut rng = crate::rng::Rng::new(cx.program.networks[cx.index].seed, "sync_error");
    let other: Vec<f64> = (0..net.n()).map(|_| rng.normal()).collect();
    let mut responses = Vec::new();
    for start in [&x0, &other] {
        let mut kept = Vec::with_capacity((steps + 1 - washout) * net.n());
        crate::sim::run(
            &open,
            start,
            steps,
            &mut |t, u| {
                for (c, v) in u.iter_mut().enumerate() {
                    *v = cols.get(c).map_or(0.0, |col| col[t]);
                }
            },
            &mut |s| {
                if s.step >= washout {
                    let g = open.gain_input.map_or(1.0, |c| s.u[c]);
                    kept.extend(s.x.iter().map(|&x| match open.form {
                        crate::net::Form::Current => open.phi.eval(g * x),
                        crate::net::Form::Rate => x,
                    }));
                }
            },
        )
        .map_err(|e| format!("the open loop: {e}"))?;
        responses.push(kept);
    }
    let n = net.n();
    let rows = responses[0].len() / n;
    let mut mean = vec![0.0; n];
    for t in 0..rows {
        for (i, m) in mean.iter_mut().enumerate() {
            *m += responses[0][t * n + i] / rows as f64;
        }
    }
    let (mut diff, mut var) = (0.0, 0.0);
    for t in 0..rows {
        for i in 0..n {
            let (a, b) = (responses[0][t * n + i], responses[1][t * n + i]);
            diff += (a - b) * (a - b);
            var += (a - mean[i]) * (a - mean[i]);
        }
    }
    if var == 0.0 {
        return Err("`sync_error`: the response does not vary over the simulation".into());
    }
    Ok((diff / var).sqrt())
}

/// CHECKS.md `mean_rate`: the mean of `|phi(x)|` over the most recent simulation (current
/// form; the state itself in the rate form), over every unit and step.
pub(super) fn mean_rate(cx: &Context, sim_error: Option<&str>) -> Result<f64, String> {
    let net = cx.net;
    if let Some(e) = sim_error {
        return Err(format!("the simulation failed: {e}"));
    }
    let (x0, cols, steps) =
        replay(cx, "mean_rate")?.ok_or("`mean_rate` needs a `simulate` step before it")?;
    let mut sum = 0.0;
    let mut count = 0usize;
    crate::sim::run(
        net,
        &x0,
        steps,
        &mut |t, u| {
            for (c, v) in u.iter_mut().enumerate() {
                *v = cols.get(c).map_or(0.0, |col| col[t]);
            }
        },
        &mut |s| {
            let g = net.gain_input.map_or(1.0, |c| s.u[c]);
            for &x in s.x {
                sum += match net.form {
                    crate::net::Form::Current => net.phi.eval(g * x).abs(),
                    crate::net::Form::Rate => x.abs(),
                };
            }
            count += s.x.len();
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(sum / count.max(1) as f64)
}

/// Units whose relaxation time `timescale_gradient` measures (all of them below this).
pub(super) const TIMESCALE_UNITS: usize = 128;

/// Most fixed points the text of a check line lists (JSON lists every one).
pub(super) const LISTED_POINTS: usize = 12;

/// What `fixed_points` reports beside its count: a line per point (its decoded state named
/// by the program, stable or not, in the domain or not, its leading eigenvalues as rates) and
/// the same as numbers.
pub(super) fn fixed_point_report(
    cx: &Context,
    points: &[fixed_points::FixedPoint],
) -> (String, serde_json::Value) {
    let net = cx.net;
    let names: Vec<&String> = net.meta.states.iter().chain(&net.meta.outputs).collect();
    let system = matches!(
        cx.program.networks[cx.index].target,
        crate::sema::model::Target::System(_)
    );
    let inside = points.iter().filter(|p| p.in_domain).count();
    let mut text = if system {
        format!(
            "{} fixed points found, {inside} in the domain ({} stable), {} outside ({} stable); \
             rates are ln(lambda) / dt per second, lambda the leading eigenvalues of the \
             network's one-step map",
            points.len(),
            points.iter().filter(|p| p.in_domain && p.stable).count(),
            points.len() - inside,
            points.iter().filter(|p| !p.in_domain && p.stable).count(),
        )
    } else {
        format!(
            "{} fixed points found ({} stable); rates are ln(lambda) / dt per second, lambda \
             the leading eigenvalues of the network's one-step map",
            points.len(),
            points.iter().filter(|p| p.stable).count(),
        )
    };
    // In the domain first, then by the decoded state.
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        let (p, q) = (&points[a], &points[b]);
        q.in_domain.cmp(&p.in_domain).then_with(|| {
            p.z.iter()
                .zip(&q.z)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });
    let mut json_points = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let p = &points[i];
        let rates = p.rates(net.dt);
        let at: Vec<String> =
            p.z.iter()
                .enumerate()
                .map(|(j, v)| match names.get(j) {
                    Some(n) => format!("{n} = {}", num(*v)),
                    None => format!("row {j} = {}", num(*v)),
                })
                .collect();
        if k < LISTED_POINTS {
            let rate_text: Vec<String> = rates
                .iter()
                .filter(|r| r.1 >= 0.0)
                .map(|&(re, im)| {
                    if im.abs() < 1e-9 * re.abs().max(1.0) {
                        num(re)
                    } else {
                        format!("{} ± {}i", num(re), num(im))
                    }
                })
                .collect();
            text.push_str(&format!(
                "\n  {}: {}{}, rates {}",
                at.join(", "),
                if p.stable { "stable" } else { "unstable" },
                match (system, p.in_domain) {
                    (true, false) => ", outside the domain",
                    _ => "",
                },
                rate_text.join(", ")
            ));
        } else if k == LISTED_POINTS {
            text.push_str(&format!(
                "\n  and {} more (`--format json` lists every point)",
                points.len() - LISTED_POINTS
            ));
        }
        let state: serde_json::Map<String, serde_json::Value> =
            p.z.iter()
                .enumerate()
                .map(|(j, v)| {
                    let key = names
                        .get(j)
                        .map_or_else(|| format!("row {j}"), |n| n.to_string());
                    (key, serde_json::json!(v))
                })
                .collect();
        json_points.push(serde_json::json!({
            "state": state,
            "stable": p.stable,
            "in_domain": p.in_domain,
            "eigenvalues": p.eig.iter().map(|&(re, im)| [re, im]).collect::<Vec<_>>(),
            "rates_per_s": rates.iter().map(|&(re, im)| [re, im]).collect::<Vec<_>>(),
        }));
    }
    let data = serde_json::json!({
        "fixed_points": json_points,
        "eigenvalues_of": "the one-step map I + diag(alpha) J_F, zero input; rates_per_s = ln(lambda) / dt",
    });
    (text, data)
}

/// Four significant digits, without exponent between 1e-3 and 1e5.
fn num(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}
