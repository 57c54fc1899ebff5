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
    // Every metric's value in evaluation order, with its convergence figure if it has one,
    // to evaluate the expectation again at the ends of that range.
    let values: RefCell<Vec<(Value, Option<f64>)>> = RefCell::new(Vec::new());
    let reads_run = std::cell::Cell::new(false);
    let measured: RefCell<Vec<Measured>> = RefCell::new(Vec::new());
    let hook = |m: &MetricCall| -> Option<Value> {
        reads_run.set(reads_run.get() || m.reads_last_run());
        cx.uncertainty.replace(None);
        match guards(cx, m, sim_error).and_then(|()| metric(cx, m, sim_error)) {
            Ok(v) => {
                let e = cx.uncertainty.take();
                let mut text = show(m, &v);
                if let Some(e) = e {
                    text.push_str(&format!(" (+- {e:.2e})"));
                }
                if shown.borrow().is_none() {
                    *shown.borrow_mut() = Some(text.clone());
                }
                values.borrow_mut().push((v.clone(), e));
                measured.borrow_mut().push(Measured {
                    metric: m.name(),
                    value: v.clone(),
                    show: m.show(),
                    shown: text,
                    uncertainty: e,
                });
                Some(v)
            }
            Err(e) => {
                failure.borrow_mut().get_or_insert(e);
                None
            }
        }
    };
    cx.detail.replace(None);
    cx.violation.replace(None);
    cx.note.replace(None);
    cx.data.replace(None);
    let result = eval_with_metrics(expr, &|_| None, &hook);
    let value = shown.into_inner();
    let measured = measured.into_inner();
    let detail = cx.detail.take();
    let outside = cx.outside && reads_run.get();
    let warnings = match &result {
        Ok(Value::Bool(b)) => unconverged(expr, *b, &values.into_inner(), value.as_deref())
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let violation = cx.violation.take();
    let note = cx.note.take();
    let data = cx.data.take();
    let error_line = |f: Failure| Line {
        text: text.to_string(),
        value: None,
        pass: None,
        diagnostic: Some(Diagnostic::error(f.code, f.message.clone())),
        error: Some(f.message),
        outside,
        measured: measured.clone(),
        ..Line::default()
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
            outside,
            warnings,
            measured: measured.clone(),
            violation: if b { None } else { violation },
        },
        (Ok(_), None) | (Err(_), None) => Line {
            value,
            ..error_line("the expectation does not evaluate to true or false".into())
        },
    }
}

/// `rnnc::check::unconverged` when the verdict `pass` changes with the finite-time
/// estimates moved to either end of their convergence figures (every such metric shifted
/// down together, then up together): the threshold lies within the uncertainty.
fn unconverged(
    expr: &HExpr,
    pass: bool,
    measured: &[(Value, Option<f64>)],
    shown: Option<&str>,
) -> Option<Diagnostic> {
    if measured.iter().all(|(_, e)| e.is_none()) {
        return None;
    }
    let flips = [-1.0, 1.0].iter().any(|sign| {
        let at = std::cell::Cell::new(0);
        let replay = |_: &MetricCall| -> Option<Value> {
            let (v, e) = measured.get(at.get())?;
            at.set(at.get() + 1);
            Some(match (v, e) {
                (Value::Num(shape, x), Some(e)) => {
                    Value::Num(*shape, x.iter().map(|x| x + sign * e).collect())
                }
                (v, _) => v.clone(),
            })
        };
        matches!(eval_with_metrics(expr, &|_| None, &replay), Ok(Value::Bool(b)) if b != pass)
    });
    flips.then(|| {
        Diagnostic::warning(
            &codes::CHECK_UNCONVERGED,
            format!(
                "the verdict depends on an unconverged estimate: measured {}, and the bound lies \
                 within that uncertainty",
                shown.unwrap_or("-")
            ),
        )
        .help(
            "a finite-time Lyapunov exponent converges like 1/T: simulate longer (the figure \
             is the larger of the distance between the run's two halves and the standard \
             error over ten blocks)",
        )
    })
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
            // Columns by the program's declarations: `t`, the inputs, then the readout (the
            // states' components, then the outputs'), whatever the weight file calls them.
            let lat = cx.latent(name)?;
            let first = 1 + lat.k;
            let (cols, what): (Vec<usize>, String) = match &a.output {
                Some(c) => (
                    c.index.iter().map(|i| first + i).collect(),
                    format!("`{}`", c.text),
                ),
                None => ((first..first + lat.d).collect(), "the state".into()),
            };
            if let Some(&c) = cols.iter().find(|&&c| c >= reference.columns.len()) {
                if c < first + lat.d + lat.n_outputs() {
                    return Err(fail(
                        &codes::WEIGHTS_MISSING_OUTPUT,
                        format!(
                            "the weight file has no row of `W_out` for {what}: its rows are the \
                             latent states only"
                        ),
                    ));
                }
                return Err(format!(
                    "`{name}`: the simulation has no column for {what} (a readout of {} values)",
                    reference.columns.len() - first
                )
                .into());
            }
            let skip = crate::time::steps(a.skip, net.dt);
            let e = trace::nrmse_at(tr, reference, &cols, skip).ok_or_else(|| {
                fail(
                    &codes::CHECK_DEGENERATE_REFERENCE,
                    format!(
                        "the exact solution of {what} does not vary over the run: an NRMSE \
                         against it is undefined"
                    ),
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
        Metric::LyapunovMax(_) => {
            let (v, e) = lyapunov_estimate(cx, 1, sim_error)?;
            cx.uncertainty.replace(Some(e));
            Value::scalar(v)
        }
        Metric::Lyapunov(a) => {
            if a.k < 1 || a.k > net.n() {
                return Err(format!(
                    "`lyapunov({})`: k must be a whole number from 1 to N = {}",
                    a.k,
                    net.n()
                )
                .into());
            }
            let (v, e) = lyapunov_estimate(cx, a.k, sim_error)?;
            cx.uncertainty.replace(Some(e));
            Value::scalar(v)
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
                    "{} of {} trials pass; earliest failure: {f}",
                    (acc * trials.trials.len() as f64).round(),
                    trials.trials.len()
                )));
                cx.violation.replace(Some(f));
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
