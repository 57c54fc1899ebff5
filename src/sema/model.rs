//! The semantic model: what lowering, the simulator and the checker consume. Every value is
//! in SI units; names are resolved to indices; expressions are [`HExpr`]s.

use super::hir::{Dim, HExpr, Value};
use crate::span::{FileId, Span};

#[derive(Clone, Debug, Default)]
pub struct Program {
    pub systems: Vec<System>,
    pub tasks: Vec<Task>,
    pub networks: Vec<Network>,
    pub checks: Vec<Check>,
    /// The file the compilation started from; `rnnc build` emits its networks.
    pub root: FileId,
}

impl Program {
    pub fn network(&self, name: &str) -> Option<&Network> {
        self.networks.iter().find(|n| n.name == name)
    }

    pub fn system(&self, name: &str) -> Option<&System> {
        self.systems.iter().find(|s| s.name == name)
    }

    pub fn task(&self, name: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// Networks defined in the root file, in source order.
    pub fn root_networks(&self) -> impl Iterator<Item = &Network> {
        self.networks
            .iter()
            .filter(move |n| n.span.file == self.root)
    }
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub default: Value,
    pub dim: Dim,
    pub span: Span,
}

/// A declared input or output channel, scalar or vector.
#[derive(Clone, Debug)]
pub struct Channel {
    pub name: String,
    /// `None` for a scalar, `Some(k)` for `u[k]`.
    pub size: Option<usize>,
    pub range: Option<RegionExpr>,
    pub span: Span,
}

impl Channel {
    pub fn len(&self) -> usize {
        self.size.unwrap_or(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A region as written, before its parameters are known.
#[derive(Clone, Debug)]
pub enum RegionExpr {
    Box(HExpr),
    Ball {
        radius: HExpr,
        center: Option<HExpr>,
    },
}

/// A region with numbers: the domain of a state line or the range of an input.
#[derive(Clone, Debug, PartialEq)]
pub enum Region {
    /// Per component `lo[i] <= z[i] <= hi[i]`.
    Box { lo: Vec<f64>, hi: Vec<f64> },
    /// `|z - center| <= radius`.
    Ball { radius: f64, center: Vec<f64> },
}

impl Region {
    pub fn contains(&self, z: &[f64]) -> bool {
        match self {
            Region::Box { lo, hi } => z
                .iter()
                .zip(lo.iter().zip(hi))
                .all(|(x, (l, h))| *x >= l - 1e-12 && *x <= h + 1e-12),
            Region::Ball { radius, center } => {
                let r2: f64 = z.iter().zip(center).map(|(x, c)| (x - c) * (x - c)).sum();
                r2.sqrt() <= radius * (1.0 + 1e-12)
            }
        }
    }

    pub fn center(&self) -> Vec<f64> {
        match self {
            Region::Box { lo, hi } => lo.iter().zip(hi).map(|(l, h)| 0.5 * (l + h)).collect(),
            Region::Ball { center, .. } => center.clone(),
        }
    }

    /// Half-widths per component (the radius for a ball).
    pub fn half_widths(&self) -> Vec<f64> {
        match self {
            Region::Box { lo, hi } => lo.iter().zip(hi).map(|(l, h)| 0.5 * (h - l)).collect(),
            Region::Ball { radius, center } => vec![*radius; center.len()],
        }
    }
}

/// Continuous (`dx/dt`) or discrete (`next x`) time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeKind {
    Flow,
    Map,
}

#[derive(Clone, Debug)]
pub struct StateVar {
    pub name: String,
    pub size: Option<usize>,
    /// Which `state` line declared it (its domain).
    pub line: usize,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct System {
    pub name: String,
    pub span: Span,
    pub params: Vec<Param>,
    pub inputs: Vec<Channel>,
    pub states: Vec<StateVar>,
    /// One domain per `state` line.
    pub domains: Vec<(RegionExpr, Span)>,
    pub lets: Vec<(String, HExpr)>,
    /// `init` values per state variable (by index), where given.
    pub init: Vec<(usize, HExpr)>,
    pub kind: TimeKind,
    /// One right-hand side per state variable, in state order.
    pub equations: Vec<HExpr>,
    pub outputs: Vec<(String, HExpr)>,
}

impl System {
    pub fn state_dim(&self) -> usize {
        self.states.iter().map(|s| s.size.unwrap_or(1)).sum()
    }

    pub fn input_dim(&self) -> usize {
        self.inputs.iter().map(Channel::len).sum()
    }

    /// Component names in array order: `x`, `y`, `q[0]`, `q[1]`.
    pub fn state_names(&self) -> Vec<String> {
        expand(self.states.iter().map(|s| (s.name.as_str(), s.size)))
    }

    pub fn input_names(&self) -> Vec<String> {
        expand(self.inputs.iter().map(|s| (s.name.as_str(), s.size)))
    }
}

pub fn expand<'a>(items: impl Iterator<Item = (&'a str, Option<usize>)>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, size) in items {
        match size {
            None => out.push(name.to_string()),
            Some(k) => out.extend((0..k).map(|i| format!("{name}[{i}]"))),
        }
    }
    out
}

/// A system with its parameters fixed: numbers everywhere a network builder needs them.
#[derive(Clone, Debug)]
pub struct SystemInstance {
    /// Index into `Program::systems`.
    pub system: usize,
    pub params: Vec<Value>,
    /// Domain of each state line, with the state components it covers.
    pub domains: Vec<(Vec<usize>, Region)>,
    /// Range of each input component.
    pub input_ranges: Vec<(Vec<usize>, Region)>,
    pub init: Vec<f64>,
}

#[derive(Clone, Debug)]
pub enum Dist {
    Uniform(f64, f64),
    Normal(f64, f64),
    Exponential { mean: f64, max: Option<f64> },
    Choice(Vec<f64>),
}

#[derive(Clone, Debug)]
pub enum LocalKind {
    Vary(Vec<f64>),
    Draw(Dist),
}

#[derive(Clone, Debug)]
pub struct Local {
    pub name: String,
    pub kind: LocalKind,
    pub dim: Dim,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Duration {
    /// A time, constant or depending on `vary`/`draw` values.
    Expr(HExpr),
    /// A fresh draw per trial.
    Dist(Dist),
}

#[derive(Clone, Debug)]
pub enum Rule {
    /// `|out - target| <= tol`
    Within { target: HExpr, tol: f64 },
    /// `out > target`
    Above(HExpr),
    /// `out < target`
    Below(HExpr),
}

#[derive(Clone, Debug)]
pub struct Expectation {
    pub output: usize,
    pub rule: Rule,
    /// Seconds after the period's start from which the rule holds.
    pub after: f64,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Period {
    pub name: String,
    pub duration: Duration,
    /// Input channel index and its value (a function of `t`, locals, signals).
    pub assigns: Vec<(usize, HExpr)>,
    pub expects: Vec<Expectation>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Trial {
    pub name: Option<String>,
    pub periods: Vec<Period>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub name: String,
    pub span: Span,
    pub params: Vec<Param>,
    pub inputs: Vec<Channel>,
    pub outputs: Vec<Channel>,
    pub locals: Vec<Local>,
    /// Repetitions of each condition (`trials n`).
    pub repeats: usize,
    pub trials: Vec<Trial>,
}

impl Task {
    /// Input component names in array order (`u`, `v[0]`, `v[1]`).
    pub fn input_names(&self) -> Vec<String> {
        expand(self.inputs.iter().map(|c| (c.name.as_str(), c.size)))
    }

    pub fn output_names(&self) -> Vec<String> {
        expand(self.outputs.iter().map(|c| (c.name.as_str(), c.size)))
    }
}

pub use crate::decl::{Call, OptValue, Spec};
use crate::decl::{Constraint, Method, Neuron};

#[derive(Clone, Debug)]
pub enum Target {
    System(SystemInstance),
    Task(usize),
    /// A direct construction.
    None,
}

#[derive(Clone, Debug)]
pub struct Network {
    pub name: String,
    pub span: Span,
    pub target: Target,
    pub method: Spec<Method>,
    pub neurons: Option<usize>,
    pub neuron: Spec<Neuron>,
    /// Design time constant; `None` when not given (`100 ms` for flows, `alpha = 1` for maps).
    pub tau: Option<f64>,
    pub dt: f64,
    pub seed: u64,
    pub constraints: Vec<Spec<Constraint>>,
}

#[derive(Clone, Debug)]
pub struct Simulate {
    pub duration: f64,
    /// State variable index and its starting value.
    pub from: Vec<(usize, Value)>,
    /// Input channel index and its drive (a function of `t`).
    pub with: Vec<(usize, HExpr)>,
    pub span: Span,
    /// Where each `from` and `with` assignment is written (parallel to `from` and `with`),
    /// for the warnings of a run outside what the program specifies.
    pub from_spans: Vec<Span>,
    pub with_spans: Vec<Span>,
}

#[derive(Clone, Debug)]
pub enum CheckStep {
    Simulate(Simulate),
    Expect {
        expr: HExpr,
        text: String,
        span: Span,
    },
}

#[derive(Clone, Debug)]
pub struct Check {
    /// Index into `Program::networks`.
    pub network: usize,
    pub steps: Vec<CheckStep>,
    pub span: Span,
}
