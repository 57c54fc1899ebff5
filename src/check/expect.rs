//! One `expect` line: its metrics measured (one exhaustive match on `decl::Metric`), shown as
//! the declaration says, and the verdict or the coded reason there is none.

use super::context::*;
use super::dynamics::*;
use super::structure::*;
use super::trajectory::*;
use super::*;

pub(super) fn expect(cx: &Context, expr: &HExpr, text: &str, sim_error: Option<&str>) -> Line {
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
    cx.note.replace(None);
    cx.data.replace(None);
    let result = eval_with_metrics(expr, &|_| None, &hook);
    let value = shown.into_inner();
    let detail = cx.detail.take();
    let note = cx.note.take();
    let data = cx.data.take();
    let error_line = |f: Failure| Line {
        text: text.to_string(),
        value: None,
        pass: None,
        diagnostic: Some(Diagnostic::error(f.code, f.message.clone())),
        error: Some(f.message),
        detail: None,
        data: None,
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
            detail: if b { note } else { detail.or(note) },
            data,
        },
        (Ok(_), None) | (Err(_), None) => Line {
            value,
            ..error_line("the expectation does not evaluate to true or false".into())
        },
    }
}

pub(super) fn show(m: &Metric, v: &Value) -> String {
    let x = match v {
        Value::Bool(b) => return b.to_string(),
        Value::Num(_, x) if x.len() == 1 => x[0],
        other => return format!("{other:?}"),
    };
    if matches!(m, Metric::AttractorDistance(_)) && x >= COLLAPSED {
        return "collapse (a component's spread is below half the system's)".into();
    }
    match m.show() {
        Show::Percent(decimals) => format!("{:.*} %", decimals, 100.0 * x),
        Show::PerSecond => format!("{x:.2e} per s"),
        Show::Sci => format!("{x:.3e}"),
        Show::Seconds => format!("{x:.3} s"),
        Show::Count => format!("{x}"),
        Show::Plain | Show::Bool => format!("{x:.6}"),
    }
}

pub(super) fn metric(cx: &Context, m: &Metric, sim_error: Option<&str>) -> Result<Value, Failure> {
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
            let lat = cx.latent(name)?;
            let v = crate::methods::nef::verify::vector_field_error(net, lat, 1000, network.seed)
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
            let (stable_only, domain) = match m {
                Metric::StableFixedPoints(a) => (true, a.domain),
                Metric::FixedPoints(a) => (false, a.domain),
                _ => unreachable!("matched above"),
            };
            let all = domain == crate::decl::FixedPointDomain::All;
            let count = points
                .iter()
                .filter(|p| (!stable_only || p.stable) && (all || p.in_domain))
                .count();
            let (note, data) = fixed_point_report(cx, points);
            cx.note.replace(Some(note));
            cx.data.replace(Some(data));
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
