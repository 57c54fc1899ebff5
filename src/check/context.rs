//! The state a check block accumulates and the guards every metric shares: the most recent
//! simulation (or why it failed), caches of the analyses two metrics share, a replay of the
//! last run, and the failure type that carries a metric's code.

use super::*;
use crate::latent::Latent;

/// The state a check accumulates: the most recent simulation.
pub(super) struct Context<'a> {
    pub(super) program: &'a Program,
    pub(super) index: usize,
    pub(super) net: &'a Net,
    pub(super) last: Option<(Trace, Trace)>,
    pub(super) last_sim: Option<&'a crate::sema::model::Simulate>,
    /// Set by a metric that has more to say than its value.
    pub(super) detail: RefCell<Option<String>>,
    /// `accuracy`'s earliest violation.
    pub(super) violation: RefCell<Option<crate::task::Violation>>,
    /// Set by a metric that reports more than its value, pass or fail (`fixed_points`).
    pub(super) note: RefCell<Option<String>>,
    /// Numbers a metric reports beside its value (`Line::data`).
    pub(super) data: RefCell<Option<serde_json::Value>>,
    pub(super) progress: &'a dyn crate::progress::Progress,
    /// Fixed points found since the most recent simulation (both metrics use one search).
    pub(super) fixed: RefCell<Option<Result<Vec<fixed_points::FixedPoint>, String>>>,
    /// `lyapunov_max` since the most recent simulation (`attractor_distance`'s collapse rule
    /// needs it too).
    pub(super) lyap_max: RefCell<Option<Result<(f64, f64), String>>>,
    /// The convergence figure of the finite-time estimate a line's metric measured (set by
    /// `lyapunov_max` and `lyapunov(k)`): the line shows it and warns when the verdict
    /// depends on it.
    pub(super) uncertainty: RefCell<Option<f64>>,
    /// The most recent simulation ran outside the program's specification (its warnings
    /// were given at the `simulate`): the lines measured on it say so.
    pub(super) outside: bool,
    /// The program's exact model of the target system, built once per check block (`None`
    /// for a network that realizes no system).
    pub(super) latent: Option<Result<Latent<'a>, String>>,
}

impl<'a> Context<'a> {
    /// The exact model of the target system; an error naming `what` when the network
    /// realizes none.
    pub(super) fn latent(&self, what: &str) -> Result<&Latent<'a>, String> {
        match &self.latent {
            Some(Ok(l)) => Ok(l),
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("`{what}` needs a network that realizes a system")),
        }
    }
}

/// Why a metric could not be measured: a registered code and a message.
#[derive(Clone, Debug)]
pub(super) struct Failure {
    pub(super) code: &'static Code,
    pub(super) message: String,
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

pub(super) fn fail(code: &'static Code, message: String) -> Failure {
    Failure { code, message }
}

/// The guards every metric shares, from its declaration (`decl::MetricInfo`): the last
/// simulation failed, there is none, the network realizes no system.
pub(super) fn guards(cx: &Context, m: &Metric, sim_error: Option<&str>) -> Result<(), Failure> {
    let name = m.name();
    let Some(info) = Metric::info(name) else {
        return Ok(());
    };
    if let (true, Some(e)) = (m.reads_last_run(), sim_error) {
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

pub(super) fn needs_sim<'c>(
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

/// `count` network states spread evenly over a run of `steps` updates from `x0`.
pub(super) fn sample_states(
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

/// A simulation to run again: start state, input columns (network input order), steps.
pub(super) type Replay = (Vec<f64>, Vec<Vec<f64>>, usize);

/// The most recent simulation, to run again; `None` when there was none.
pub(super) fn replay(cx: &Context, what: &str) -> Result<Option<Replay>, String> {
    let net = cx.net;
    let (Some((tr, _)), Some(sim)) = (&cx.last, cx.last_sim) else {
        return Ok(None);
    };
    let lat = cx.latent(what)?;
    let x0 = if net.enc.is_none() && net.feedback.is_some() {
        trace::teacher_force(net, lat, &trace::start(lat, sim))
            .map_err(|e| e.to_string())?
            .0
    } else if sim.from.is_empty() {
        net.init_state.clone()
    } else {
        net.encode(&trace::start(lat, sim))
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
