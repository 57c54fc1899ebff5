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
    /// What a failing metric found (`accuracy`: the first failing trial), or what a metric
    /// always reports (`fixed_points`: where each point is and its leading eigenvalues).
    pub detail: Option<String>,
    /// Numbers a metric reports beside its value (`fixed_points`: one object per point with
    /// its decoded state, stability, domain and eigenvalues); `"data"` in JSON.
    pub data: Option<Json>,
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
                "data": l.data,
            })).collect::<Vec<_>>(),
        })
    }
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
        note: RefCell::new(None),
        data: RefCell::new(None),
        fixed: RefCell::new(None),
        lyap_max: RefCell::new(None),
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
                    detail: None,
                    data: None,
                });
            }
        }
        return Report {
            network: program.networks[check.network].name.clone(),
            lines,
        };
    }
    let mut sim_error: Option<String> = None;
    let mut too_large: Option<crate::budget::TooLarge> = None;
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
                        too_large = None;
                    }
                    Err(e) => {
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
                lines.push(line);
            }
        }
    }
    Report {
        network: program.networks[check.network].name.clone(),
        lines,
    }
}
