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
pub mod spec;
pub mod timescales;

mod context;
mod dynamics;
mod expect;
mod structure;
mod trajectory;

use context::Context;
use expect::expect;

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
#[derive(Clone, Debug, Default, PartialEq)]
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
    /// What a failing metric found (`accuracy`: the earliest violation).
    pub detail: Option<String>,
    /// Measured on a run outside the program's specification (a `from` outside the domain,
    /// a drive beyond its input's range, an exact solution that leaves the domain; the
    /// report's `warnings` say which).
    /// Numbers a metric reports beside its value (`fixed_points`: one object per point with
    /// its decoded state, stability, domain and eigenvalues); `"data"` in JSON.
    pub data: Option<Json>,
    pub outside: bool,
    /// Warnings about the verdict (`rnnc::check::unconverged`), at the `expect`.
    pub warnings: Vec<Diagnostic>,
    /// Every metric the line measured, in the order evaluated, with its value as a number.
    pub measured: Vec<Measured>,
    /// `accuracy`'s earliest violation, when the line fails.
    pub violation: Option<crate::task::Violation>,
}

/// One metric's value: the number (SI units; a fraction for a percentage), its unit and how
/// the report prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub metric: &'static str,
    pub value: Value,
    pub show: Show,
    /// As printed (`1.2300 %`).
    pub shown: String,
    /// A finite-time estimate's convergence figure (`lyapunov_max`), in the value's unit.
    pub uncertainty: Option<f64>,
}

impl Measured {
    /// The unit of `value`: `fraction` (printed in percent), `1/s`, `s`, `count`, `bool`, or
    /// `1` for a plain number.
    pub fn unit(&self) -> &'static str {
        let dim = match Metric::info(self.metric).map(|i| i.ty) {
            Some(crate::decl::MetricType::Num(d)) => d,
            _ => 0,
        };
        match (self.show, dim) {
            (Show::Bool, _) => "bool",
            (Show::Percent(_), _) => "fraction",
            (Show::Count, _) => "count",
            (_, 1) => "s",
            (_, -1) => "1/s",
            _ => "1",
        }
    }

    pub fn to_json(&self) -> Json {
        let value = match &self.value {
            Value::Bool(b) => json!(b),
            Value::Num(_, x) if x.len() == 1 && x[0].is_finite() => json!(x[0]),
            Value::Num(_, x) if x.len() == 1 => json!(format!("{}", x[0])),
            other => json!(format!("{other:?}")),
        };
        json!({
            "metric": self.metric,
            "value": value,
            "unit": self.unit(),
            "shown": self.shown,
            "uncertainty": self.uncertainty,
        })
    }
}

/// The outcome of one `check` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub network: String,
    pub lines: Vec<Line>,
    /// Warnings of the block's runs (a run outside the specification), at their `simulate`.
    pub warnings: Vec<Diagnostic>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.lines.iter().filter(|l| l.pass == Some(false)).count()
    }

    pub fn errors(&self) -> usize {
        self.lines.iter().filter(|l| l.pass.is_none()).count()
    }

    /// The report as JSON (docs/checks.md): per expectation its first metric's value as a
    /// number with its unit and the text printed, every metric it measured, and `accuracy`'s
    /// violation as fields.
    pub fn to_json(&self) -> Json {
        json!({
            "network": self.network,
            "expectations": self.lines.iter().map(|l| {
                let first = l.measured.first().map(Measured::to_json);
                let field = |k: &str| first.as_ref().map_or(Json::Null, |f| f[k].clone());
                json!({
                    "expect": l.text,
                    "pass": l.pass,
                    "value": field("value"),
                    "unit": field("unit"),
                    "shown": l.value,
                    "metrics": l.measured.iter().map(Measured::to_json).collect::<Vec<_>>(),
                    "error": l.error,
                    "code": l.diagnostic.as_ref().map(|d| d.code.name),
                    "detail": l.detail,
                    "violation": l.violation.as_ref().map(violation_json),
                    "data": l.data,
                    "outside_spec": l.outside,
                    "warnings": l.warnings.iter().map(|d| d.code.name).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
            "warnings": self.warnings.iter().map(|d| json!({
                "code": d.code.name,
                "message": d.message,
            })).collect::<Vec<_>>(),
        })
    }
}

fn violation_json(v: &crate::task::Violation) -> Json {
    let (rule, tolerance) = match v.kind {
        crate::task::Kind::Within(tol) => ("within", Some(tol)),
        crate::task::Kind::Above => ("above", None),
        crate::task::Kind::Below => ("below", None),
    };
    json!({
        "trial": v.trial,
        "trials": v.trials,
        "name": v.name,
        "condition": v.values.iter().map(|(n, x)| (n.clone(), json!(x))).collect::<serde_json::Map<_, _>>(),
        "output": v.output,
        "value": v.value,
        "time": v.time,
        "period": v.period,
        "period_time": v.period_time,
        "rule": rule,
        "target": v.target,
        "tolerance": tolerance,
    })
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
        violation: RefCell::new(None),
        note: RefCell::new(None),
        data: RefCell::new(None),
        fixed: RefCell::new(None),
        lyap_max: RefCell::new(None),
        uncertainty: RefCell::new(None),
        outside: false,
        latent: match &program.networks[check.network].target {
            crate::sema::model::Target::System(inst) => Some(crate::latent::Latent::new(
                &program.systems[inst.system],
                inst,
            )),
            _ => None,
        },
    };
    let mut lines = Vec::new();
    // The analyses settle and measure over tens of the slowest unit's time constant: a unit
    // whose leak is almost 0 (a weight file's alpha of 1e-12) would make them endless.
    // The same limit as the front end's: at most 10^6 steps in the slowest time constant.
    let per_tau = net.tau_max() / net.dt;
    if per_tau > crate::budget::MAX_STEPS_PER_TAU || !per_tau.is_finite() {
        let message = format!(
            "the slowest unit's leak alpha = {:.1e} gives {per_tau:.1e} steps per time \
             constant, over the limit of {:.0e}",
            net.dt / net.tau_max(),
            crate::budget::MAX_STEPS_PER_TAU
        );
        for step in &check.steps {
            if let CheckStep::Expect { text, span, .. } = step {
                let d = Diagnostic::error(&codes::LIMITS_TOO_LARGE, message.clone())
                    .at(*span, "checking this")
                    .help("the analyses of `rnnc check` settle over tens of time constants");
                lines.push(Line {
                    text: text.clone(),
                    value: None,
                    pass: None,
                    error: Some(message.clone()),
                    diagnostic: Some(d),
                    ..Line::default()
                });
            }
        }
        return Report {
            network: program.networks[check.network].name.clone(),
            lines,
            warnings: Vec::new(),
        };
    }
    let mut warnings = Vec::new();
    let mut sim_error: Option<String> = None;
    let mut too_large: Option<crate::budget::TooLarge> = None;
    for step in &check.steps {
        match step {
            CheckStep::Simulate(sim) => {
                cx.fixed.replace(None);
                cx.lyap_max.replace(None);
                match trace::simulate_network(program, check.network, net, sim) {
                    Ok(t) => {
                        let outside = match &cx.latent {
                            Some(Ok(lat)) => {
                                spec::outside(lat, sim, &t.1, &program.networks[check.network].name)
                            }
                            _ => Vec::new(),
                        };
                        cx.outside = !outside.is_empty();
                        warnings.extend(outside);
                        cx.last = Some(t);
                        cx.last_sim = Some(sim);
                        sim_error = None;
                        too_large = None;
                    }
                    Err(e) => {
                        cx.outside = false;
                        cx.last = None;
                        sim_error = Some(e.to_string());
                        too_large = match e {
                            trace::RunError::TooLarge(t) => Some(t),
                            _ => None,
                        };
                    }
                }
            }
            CheckStep::Expect { expr, text, span } => {
                let mut line = expect(&cx, expr, text, sim_error.as_deref());
                if let Some(d) = &mut line.diagnostic {
                    // A simulation refused for its size says so, with the way out.
                    if let (Some(t), true) = (
                        &too_large,
                        std::ptr::eq(d.code, &codes::CHECK_SIMULATION_FAILED),
                    ) {
                        d.code = &codes::LIMITS_TOO_LARGE;
                        d.help = Some(t.help().into());
                    }
                    *d = std::mem::replace(d, Diagnostic::error(d.code, "")).at(
                        *span,
                        format!(
                            "checking network `{}`",
                            program.networks[check.network].name
                        ),
                    );
                }
                let label = format!(
                    "checking network `{}`",
                    program.networks[check.network].name
                );
                for w in &mut line.warnings {
                    *w = std::mem::replace(w, Diagnostic::warning(w.code, ""))
                        .at(*span, label.clone());
                }
                lines.push(line);
            }
        }
    }
    Report {
        network: program.networks[check.network].name.clone(),
        lines,
        warnings,
    }
}
