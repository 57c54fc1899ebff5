//! `rnnc check`: runs a program's `check` blocks on a network and says, expectation by
//! expectation, whether it implements its specification (CHECKS.md).
//!
//! Implemented so far: `simulate` steps, and the metrics `nrmse`, `drift`,
//! `divergence_time`, `lyapunov_max`, `lyapunov(k)`, `fixed_points`, `stable_fixed_points`
//! (factored current-form networks with a uniform leak), `timescale_gradient`, `mean_rate`,
//! `vector_field_error`, `attractor_distance`, `memory_capacity`, `accuracy(Task)`, `sync_error`,
//! `modularity`, `small_worldness`,
//! `spectral_radius`, `dale`, `density` and `wiring_cost`. Any other
//! metric is reported as not implemented (an invalid-input line, exit status 2), never as a
//! pass.

pub mod fixed_points;
pub mod forecast;
pub mod graph;
pub mod lyapunov;
pub mod memory;
pub mod timescales;

use crate::constraints::{distances, verify};
use crate::decl::{Constraint, Metric, Show};
use crate::diag::{codes, Code, Diagnostic};
use crate::net::{Net, Recurrent};
use crate::sema::hir::{eval_with_metrics, HExpr, MetricCall, Value};
use crate::sema::model::{Check, CheckStep, Program};
use crate::trace::{self, Trace};
use serde_json::{json, Value as Json};
use std::cell::RefCell;

/// One `expect`, measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The expectation as written.
    pub text: String,
    /// The metric's measured value, as printed (`0.0312 %`, `true`).
    pub value: Option<String>,
    /// `Some(pass)`; `None` when it could not be evaluated (see `error`).
    pub pass: Option<bool>,
    pub error: Option<String>,
    /// Why it could not be evaluated: a diagnostic with its code, at the `expect` line.
    pub diagnostic: Option<Diagnostic>,
    /// What a failing metric found (`accuracy`: the first failing trial).
    pub detail: Option<String>,
}

/// The outcome of one `check` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub network: String,
    pub lines: Vec<Line>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.lines.iter().filter(|l| l.pass == Some(false)).count()
    }

    pub fn errors(&self) -> usize {
        self.lines.iter().filter(|l| l.pass.is_none()).count()
    }

    pub fn to_json(&self) -> Json {
        json!({
            "network": self.network,
            "expectations": self.lines.iter().map(|l| json!({
                "expect": l.text,
                "value": l.value,
                "pass": l.pass,
                "error": l.error,
                "code": l.diagnostic.as_ref().map(|d| d.code.name),
                "detail": l.detail,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The state a check accumulates: the most recent simulation.
struct Context<'a> {
    program: &'a Program,
    index: usize,
    net: &'a Net,
    last: Option<(Trace, Trace)>,
    last_sim: Option<&'a crate::sema::model::Simulate>,
    /// Set by a metric that has more to say than its value.
    detail: RefCell<Option<String>>,
    progress: &'a dyn crate::progress::Progress,
    /// Fixed points found since the most recent simulation (both metrics use one search).
    fixed: RefCell<Option<Result<Vec<fixed_points::FixedPoint>, String>>>,
    /// `lyapunov_max` since the most recent simulation (`attractor_distance`'s collapse rule
    /// needs it too).
    lyap_max: RefCell<Option<Result<f64, String>>>,
}

/// Runs `check` (on network `check.network` of `program`) against `net`.
pub fn run(program: &Program, check: &Check, net: &Net) -> Report {
    run_with(program, check, net, &crate::progress::Silent)
}

/// [`run`], reporting the progress of long analyses.
pub fn run_with(
    program: &Program,
    check: &Check,
    net: &Net,
    progress: &dyn crate::progress::Progress,
) -> Report {
    let mut cx = Context {
        progress,
        program,
        index: check.network,
        net,
        last: None,
        last_sim: None,
        detail: RefCell::new(None),
        fixed: RefCell::new(None),
        lyap_max: RefCell::new(None),
    };
    let mut lines = Vec::new();
    let mut sim_error: Option<String> = None;
    for step in &check.steps {
        match step {
            CheckStep::Simulate(sim) => {
                cx.fixed.replace(None);
                cx.lyap_max.replace(None);
                match trace::simulate_network(program, check.network, net, sim) {
                    Ok(t) => {
                        cx.last = Some(t);
                        cx.last_sim = Some(sim);
                        sim_error = None;
                    }
                    Err(e) => {
                        cx.last = None;
                        sim_error = Some(e.to_string());
                    }
                }
            }
            CheckStep::Expect { expr, text, span } => {
                let mut line = expect(&cx, expr, text, sim_error.as_deref());
                if let Some(d) = &mut line.diagnostic {
                    *d = std::mem::replace(d, Diagnostic::error(d.code, "")).at(
                        *span,
                        format!(
                            "checking network `{}`",
                            program.networks[check.network].name
                        ),
                    );
                }
                lines.push(line);
            }
        }
    }
    Report {
        network: program.networks[check.network].name.clone(),
        lines,
    }
}

/// Why a metric could not be measured: a registered code and a message.
#[derive(Clone, Debug)]
struct Failure {
    code: &'static Code,
    message: String,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure {
            code: &codes::CHECK_METRIC_FAILED,
            message,
        }
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::from(message.to_string())
    }
}

fn fail(code: &'static Code, message: String) -> Failure {
    Failure { code, message }
}

/// The guards every metric shares, from its declaration (`decl::MetricInfo`): the last
/// simulation failed, there is none, the network realizes no system.
fn guards(cx: &Context, m: &Metric, sim_error: Option<&str>) -> Result<(), Failure> {
    let name = m.name();
    let Some(info) = Metric::info(name) else {
        return Ok(());
    };
    let reads_sim = info.needs_sim
        || matches!(
            m,
            Metric::LyapunovMax(_)
                | Metric::Lyapunov(_)
                | Metric::SyncError(_)
                | Metric::MeanRate(_)
        );
    if let (true, Some(e)) = (reads_sim, sim_error) {
        return Err(fail(
            &codes::CHECK_SIMULATION_FAILED,
            format!("the simulation failed: {e}"),
        ));
    }
    if info.needs_sim && cx.last.is_none() {
        return Err(fail(
            &codes::CHECK_NEEDS_SIMULATION,
            format!("`{name}` needs a `simulate` step before it"),
        ));
    }
    if info.system_only
        && !matches!(
            cx.program.networks[cx.index].target,
            crate::sema::model::Target::System(_)
        )
    {
        return Err(format!("`{name}` needs a network that realizes a system").into());
    }
    Ok(())
}

fn expect(cx: &Context, expr: &HExpr, text: &str, sim_error: Option<&str>) -> Line {
    let failure: RefCell<Option<Failure>> = RefCell::new(None);
    let shown: RefCell<Option<String>> = RefCell::new(None);
    let hook = |m: &MetricCall| -> Option<Value> {
        match guards(cx, m, sim_error).and_then(|()| metric(cx, m, sim_error)) {
            Ok(v) => {
                if shown.borrow().is_none() {
                    *shown.borrow_mut() = Some(show(m, &v));
                }
                Some(v)
            }
            Err(e) => {
                failure.borrow_mut().get_or_insert(e);
                None
            }
        }
    };
    cx.detail.replace(None);
    let result = eval_with_metrics(expr, &|_| None, &hook);
    let value = shown.into_inner();
    let detail = cx.detail.take();
    let error_line = |f: Failure| Line {
        text: text.to_string(),
        value: None,
        pass: None,
        diagnostic: Some(Diagnostic::error(f.code, f.message.clone())),
        error: Some(f.message),
        detail: None,
    };
    match (result, failure.into_inner()) {
        (_, Some(f)) => Line {
            value,
            ..error_line(f)
        },
        (Ok(Value::Bool(b)), None) => Line {
            text: text.to_string(),
            value,
            pass: Some(b),
            error: None,
            diagnostic: None,
            detail: if b { None } else { detail },
        },
        (Ok(_), None) | (Err(_), None) => Line {
            value,
            ..error_line("the expectation does not evaluate to true or false".into())
        },
    }
}

fn show(m: &Metric, v: &Value) -> String {
    let x = match v {
        Value::Bool(b) => return b.to_string(),
        Value::Num(_, x) if x.len() == 1 => x[0],
        other => return format!("{other:?}"),
    };
    if matches!(m, Metric::AttractorDistance(_)) && x >= COLLAPSED {
        return "collapse (a component's spread is below half the system's)".into();
    }
    match (m, m.show()) {
        (Metric::Density(_) | Metric::Accuracy(_), Show::Percent) => {
            format!("{:.2} %", 100.0 * x)
        }
        (_, Show::Percent) => format!("{:.4} %", 100.0 * x),
        (_, Show::PerSecond) => format!("{x:.2e} per s"),
        (_, Show::Sci) => format!("{x:.3e}"),
        (_, Show::Seconds) => format!("{x:.3} s"),
        (_, Show::Count) => format!("{x}"),
        (_, Show::Plain | Show::Bool) => format!("{x:.6}"),
    }
}

fn needs_sim<'c>(
    cx: &'c Context,
    name: &str,
    sim_error: Option<&str>,
) -> Result<&'c (Trace, Trace), String> {
    if let Some(e) = sim_error {
        return Err(format!("the simulation failed: {e}"));
    }
    cx.last
        .as_ref()
        .ok_or_else(|| format!("`{name}` needs a `simulate` step before it"))
}

fn metric(cx: &Context, m: &Metric, sim_error: Option<&str>) -> Result<Value, Failure> {
    let net = cx.net;
    let name = m.name();
    Ok(match m {
        Metric::Nrmse(a) => {
            let (tr, reference) = needs_sim(cx, name, sim_error)?;
            let names = match &a.output {
                Some(n) => vec![n.clone()],
                None => net.meta.states.clone(),
            };
            let skip = crate::time::steps(a.skip, net.dt);
            let e = trace::nrmse(tr, reference, &names, skip).ok_or_else(|| {
                fail(
                    &codes::CHECK_DEGENERATE_REFERENCE,
                    "the exact solution does not vary over the run: an NRMSE against it is \
                     undefined"
                        .into(),
                )
            })?;
            Value::scalar(e)
        }
        Metric::Drift(_) => Value::scalar(drift(cx, needs_sim(cx, name, sim_error)?)?),
        Metric::DivergenceTime(_) => {
            let (tr, reference) = needs_sim(cx, name, sim_error)?;
            Value::scalar(divergence_time(net, tr, reference))
        }
        Metric::SpectralRadius(_) => Value::scalar(spectral_radius(net)?),
        Metric::TimescaleGradient(_) => Value::scalar(timescale_gradient(cx)?),
        Metric::MeanRate(_) => Value::scalar(mean_rate(cx, sim_error)?),
        Metric::MemoryCapacity(_) => Value::scalar(memory::capacity(
            net,
            net.tau_max(),
            cx.program.networks[cx.index].seed,
        )?),
        Metric::AttractorDistance(_) => {
            let (tr, _) = needs_sim(cx, name, sim_error)?;
            Value::scalar(attractor_distance(cx, tr)?)
        }
        Metric::VectorFieldError(_) => {
            let network = &cx.program.networks[cx.index];
            let crate::sema::model::Target::System(inst) = &network.target else {
                return Err(format!("`{name}` needs a network that realizes a system").into());
            };
            let lat = crate::methods::latent::Latent::new(&cx.program.systems[inst.system], inst)?;
            let v = crate::methods::nef::verify::vector_field_error(net, &lat, 1000, network.seed)
                .ok_or_else(|| format!("`{name}` needs a network with an encoder (`W_enc`)"))?;
            Value::scalar(v)
        }
        Metric::FixedPoints(_) | Metric::StableFixedPoints(_) => {
            if cx.fixed.borrow().is_none() {
                cx.fixed.replace(Some(fixed_points(cx)));
            }
            let cached = cx.fixed.borrow();
            let points = match cached.as_ref() {
                Some(r) => r.as_ref().map_err(Clone::clone)?,
                None => return Err("the fixed-point search did not run".into()),
            };
            let stable_only = matches!(m, Metric::StableFixedPoints(_));
            let count = points.iter().filter(|p| !stable_only || p.stable).count();
            Value::scalar(count as f64)
        }
        Metric::LyapunovMax(_) => Value::scalar(lyapunov(cx, 1, sim_error)?),
        Metric::Lyapunov(a) => {
            if a.k < 1 || a.k > net.n() {
                return Err(format!(
                    "`lyapunov({})`: k must be a whole number from 1 to N = {}",
                    a.k,
                    net.n()
                )
                .into());
            }
            Value::scalar(lyapunov(cx, a.k, sim_error)?)
        }
        Metric::Dale(_) => Value::Bool(verify::dale(&net.w_rec.dense())),
        Metric::Density(_) => Value::scalar(verify::density(&net.w_rec.dense())),
        Metric::WiringCost(_) => {
            let p = net
                .positions
                .as_ref()
                .ok_or_else(|| format!("`{name}` needs neuron positions (`space`)"))?;
            let rows: Vec<Vec<f64>> = (0..p.nrows())
                .map(|i| (0..p.ncols()).map(|j| p[(i, j)]).collect())
                .collect();
            Value::scalar(verify::wiring_cost(&net.w_rec.dense(), &distances(&rows)))
        }
        Metric::SyncError(_) => Value::scalar(sync_error(cx, sim_error)?),
        Metric::Modularity(_) => Value::scalar(graph::modularity(
            &graph::top_graph(&net.w_rec.dense(), 0.1),
            cx.program.networks[cx.index].seed,
        )),
        Metric::SmallWorldness(_) => Value::scalar(graph::small_worldness(
            &graph::top_graph(&net.w_rec.dense(), 0.1),
            cx.program.networks[cx.index].seed,
        )?),
        Metric::Accuracy(a) => {
            let task = &cx.program.tasks[a.task.0];
            let seed = cx.program.networks[cx.index].seed;
            let trials = crate::task::generate(task, net.dt, seed, "check trials")?;
            let (acc, failure) = crate::task::accuracy(net, &trials, cx.progress)?;
            if let Some(f) = failure {
                cx.detail.replace(Some(format!(
                    "{} of {} trials pass; first failure: {f}",
                    (acc * trials.trials.len() as f64).round(),
                    trials.trials.len()
                )));
            }
            Value::scalar(acc)
        }
        Metric::Recall(_) | Metric::Solved(_) => {
            return Err(fail(
                &codes::NOT_IMPLEMENTED,
                format!("the metric `{name}` is not implemented yet"),
            ))
        }
    })
}

/// Fixed points with zero input, searched from 256 seeded starts (64 states, each also
/// perturbed three times). A system network with an encoder: 32 latent states along the most
/// recent simulation and the rest spread over the domain, encoded. Without an encoder:
/// network states sampled along the most recent simulation (else a 10 s zero-input run from
/// `init_state`). A task network: states sampled along its task's trials.
fn fixed_points(cx: &Context) -> Result<Vec<fixed_points::FixedPoint>, String> {
    let net = cx.net;
    let network = &cx.program.networks[cx.index];
    let u0 = vec![0.0; net.n_inputs()];
    const STARTS: usize = 64;
    let (starts, rows, merge) = match &network.target {
        crate::sema::model::Target::System(inst) => {
            let d = net.n_states();
            let map = crate::methods::latent::DomainMap::new(d, &inst.domains);
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
                let unit = crate::methods::nef::spread_ball(STARTS - latents.len(), d, &mut rng);
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
            let trials = crate::task::generate(
                &cx.program.tasks[*ti],
                net.dt,
                network.seed,
                "check trials",
            )?;
            let (in_cols, _) = crate::task::channels(net, &trials)?;
            let per = STARTS.div_ceil(trials.trials.len().max(1));
            let mut starts = Vec::new();
            for tr in trials.trials.iter().take(STARTS) {
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
            starts.truncate(STARTS);
            (starts, net.n_out(), 1e-3)
        }
        crate::sema::model::Target::None => {
            return Err("`fixed_points` needs a network that realizes a system or a task".into())
        }
    };
    fixed_points::find(net, &u0, &starts, rows, merge, network.seed, cx.progress)
}

/// `count` network states spread evenly over a run of `steps` updates from `x0`.
fn sample_states(
    net: &Net,
    x0: &[f64],
    steps: usize,
    count: usize,
    input: &dyn Fn(usize, &mut [f64]),
) -> Result<Vec<Vec<f64>>, String> {
    let every = (steps + 1).div_ceil(count.max(1)).max(1);
    let mut out = Vec::new();
    crate::sim::run(net, x0, steps, &mut |t, u| input(t, u), &mut |s| {
        if s.step % every == every / 2 && out.len() < count {
            out.push(s.x.to_vec());
        }
    })
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Spearman correlation of each unit's private relaxation time with its coordinate along
/// the `timescales` axis, nudging units from the end of the most recent simulation (or from
/// `init_state`).
fn timescale_gradient(cx: &Context) -> Result<f64, String> {
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
fn lyapunov(cx: &Context, k: usize, sim_error: Option<&str>) -> Result<f64, String> {
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

fn lyapunov_uncached(cx: &Context, k: usize) -> Result<f64, String> {
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
            lyapunov::spectrum(
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
            lyapunov::spectrum(
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
    Ok(exps[k - 1])
}

/// A simulation to run again: start state, input columns (network input order), steps.
type Replay = (Vec<f64>, Vec<Vec<f64>>, usize);

/// The most recent simulation, to run again; `None` when there was none.
fn replay(cx: &Context, what: &str) -> Result<Option<Replay>, String> {
    let net = cx.net;
    let (Some((tr, _)), Some(sim)) = (&cx.last, cx.last_sim) else {
        return Ok(None);
    };
    let network = &cx.program.networks[cx.index];
    let crate::sema::model::Target::System(inst) = &network.target else {
        return Err(format!("`{what}` needs a network that realizes a system"));
    };
    let lat = crate::methods::latent::Latent::new(&cx.program.systems[inst.system], inst)?;
    let x0 = if net.enc.is_none() && net.feedback.is_some() {
        trace::teacher_force(net, &lat, &trace::start(&lat, sim))
            .map_err(|e| e.to_string())?
            .0
    } else if sim.from.is_empty() {
        net.init_state.clone()
    } else {
        net.encode(&trace::start(&lat, sim))
            .unwrap_or_else(|| net.init_state.clone())
    };
    let cols: Vec<Vec<f64>> = net
        .meta
        .inputs
        .iter()
        .map(|n| tr.column(n).unwrap_or_else(|| vec![0.0; tr.rows()]))
        .collect();
    Ok(Some((x0, cols, tr.rows().saturating_sub(1))))
}

/// CHECKS.md `sync_error`: the open loop (`A`, `b_A`, FORMAT.md) driven by the exact solution
/// of the most recent simulation (its inputs, and the fed-back rows' exact values) from two
/// starts, `init_state` and a seeded N(0, 1) state; after `10 tau_max`, the rms difference of
/// the two responses (what `W_out` reads: `phi(x)`, or `r`) over the rms of the first
/// response's deviation from its time average.
fn sync_error(cx: &Context, sim_error: Option<&str>) -> Result<f64, String> {
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
            "the simulation is too short for `sync_error`: it needs more than {:.3} s (a washout              of 10 tau_max and 100 steps)",
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
fn mean_rate(cx: &Context, sim_error: Option<&str>) -> Result<f64, String> {
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
const TIMESCALE_UNITS: usize = 128;

/// What `attractor_distance` reports for a collapsed attractor: fails any bound.
const COLLAPSED: f64 = 1e9;

/// A largest Lyapunov exponent above this (per second) is chaos for the collapse rule, for the
/// system and the network alike: a limit cycle's neutral exponent is 0 in theory and a few
/// 1e-3 either side of it in a finite run.
const CHAOTIC: f64 = 0.02;

/// CHECKS.md `attractor_distance`: the network's decoded states after
/// `max(5 tau_max, T / 10)` against the system's long-run statistics (an exact zero-input run
/// of `max(100 s, T)` from the same start, its first tenth dropped), per component
/// `|mean diff| / sigma + |std ratio - 1| + W1 / sigma`, averaged. A collapse: a component
/// whose spread is below half the system's, or a network whose largest Lyapunov exponent is
/// at most `CHAOTIC` (CHECKS.md: <= 0) while the system's (from the same long run, by a
/// finite-difference tangent on the one-step flow map) exceeds it.
fn attractor_distance(cx: &Context, tr: &Trace) -> Result<f64, String> {
    let net = cx.net;
    let network = &cx.program.networks[cx.index];
    let crate::sema::model::Target::System(inst) = &network.target else {
        return Err("`attractor_distance` needs a network that realizes a system".into());
    };
    let lat = crate::methods::latent::Latent::new(&cx.program.systems[inst.system], inst)?;
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
        Some(sim) => trace::start(&lat, sim),
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
    let substeps = crate::methods::latent::substeps(net.dt, lat.rate_bound());
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
    let map = crate::methods::latent::DomainMap::new(d, &inst.domains);
    let lines = (inst.domains.len().max(1) as f64).sqrt();
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

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt(),
    )
}

/// Wasserstein-1 distance of two empirical distributions, by 1000 matched quantiles.
fn wasserstein1(a: &[f64], b: &[f64]) -> f64 {
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
fn drift(cx: &Context, (tr, reference): &(Trace, Trace)) -> Result<f64, String> {
    let net = cx.net;
    let network = &cx.program.networks[cx.index];
    let crate::sema::model::Target::System(inst) = &network.target else {
        return Err("`drift` needs a network that realizes a system".into());
    };
    let sys = &cx.program.systems[inst.system];
    let map = crate::methods::latent::DomainMap::new(sys.state_dim(), &inst.domains);
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
fn slope(ys: &[f64], dt: f64) -> f64 {
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
fn paired(names: &[String], tr: &Trace, reference: &Trace) -> Vec<(Vec<f64>, Vec<f64>)> {
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
fn divergence_time(net: &Net, tr: &Trace, reference: &Trace) -> f64 {
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

/// Largest `|lambda|` of `W_rec`: from the r x r product `R L` for a factored network (same
/// nonzero eigenvalues), from the full matrix otherwise.
fn spectral_radius(net: &Net) -> Result<f64, String> {
    let m = match &net.w_rec {
        Recurrent::Factored { left, right } => right * left,
        Recurrent::Dense(w) => w.clone(),
    };
    let ev = m
        .eigenvalues()
        .map_err(|e| format!("the eigenvalue solver failed: {e:?}"))?;
    crate::net::fastmath::clear_upper();
    Ok(ev.iter().map(|z| z.re.hypot(z.im)).fold(0.0, f64::max))
}
