//! The tables that give `method`, `neuron`, constraint and metric names their meaning.
//! Option values are looked up here, never in expression scope (LANGUAGE.md section 5).

use super::hir::Dim;

/// What kind of value an option takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptKind {
    /// A number >= 0 of the given dimension (bare numbers are accepted for dimension 0).
    Num(Dim),
    /// A plain number of either sign.
    Real,
    /// A number in [0, 1], usually written with `%`.
    Fraction,
    /// A whole number >= the bound.
    Int(i64),
    Bool,
    Sym(&'static [&'static str]),
    Str,
    /// `lo .. hi`
    Range,
    /// `[a, b, ...]` of whole numbers.
    IntVec,
    /// `auto` or a whole number.
    AutoInt,
    /// A distribution call: `uniform(a, b)`.
    Dist,
    /// `random_patterns(count, seed = s)`.
    Patterns,
    /// `space.x`, `space.y`, `space.z`.
    Axis,
    /// The name of an input channel of the target.
    Input,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptDefault {
    Required,
    /// Absent unless given (an alternative to another option).
    Optional,
    Num(f64),
    Bool(bool),
    Sym(&'static str),
    Auto,
    Range(f64, f64),
    Uniform(f64, f64),
    Axis(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub name: &'static str,
    pub kind: OptKind,
    pub default: OptDefault,
}

const fn opt(name: &'static str, kind: OptKind, default: OptDefault) -> Opt {
    Opt {
        name,
        kind,
        default,
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub name: &'static str,
    pub opts: &'static [Opt],
}

use OptDefault as D;
use OptKind as K;

/// What a method can realize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Realizes {
    Systems,
    SystemsAndTasks,
    Nothing,
}

pub const METHODS: &[(Entry, Realizes)] = &[
    (
        Entry {
            name: "nef",
            opts: &[
                opt("reg", K::Num(0), D::Num(1e-3)),
                opt("eval_points", K::AutoInt, D::Auto),
                opt("intercepts", K::Dist, D::Uniform(-1.0, 0.9)),
                opt("mapping", K::Sym(&["exact", "continuous"]), D::Sym("exact")),
            ],
        },
        Realizes::Systems,
    ),
    (
        Entry {
            name: "lowrank",
            opts: &[
                opt("rank", K::AutoInt, D::Auto),
                opt("bulk", K::Num(0), D::Num(0.0)),
                opt("ridge", K::Num(0), D::Num(1e-6)),
            ],
        },
        Realizes::Systems,
    ),
    (
        Entry {
            name: "reservoir",
            opts: &[
                opt("mode", K::Sym(&["drive", "compile"]), D::Sym("drive")),
                opt("spectral_radius", K::Num(0), D::Num(0.9)),
                opt("density", K::Fraction, D::Num(0.1)),
                opt("input_scale", K::Num(0), D::Num(0.1)),
                opt("bias", K::Num(0), D::Num(0.5)),
                opt("ridge", K::Num(0), D::Num(1e-7)),
                opt("washout", K::Num(1), D::Num(10.0)),
                opt("train", K::Num(1), D::Num(200.0)),
                opt("feedback", K::Bool, D::Bool(false)),
                opt("degree", K::Int(1), D::Num(3.0)),
                opt("blocks", K::Bool, D::Bool(false)),
                opt("starts", K::Int(1), D::Num(4.0)),
            ],
        },
        Realizes::SystemsAndTasks,
    ),
    (
        Entry {
            name: "hopfield",
            opts: &[
                opt("rule", K::Sym(&["hebb", "storkey"]), D::Sym("hebb")),
                opt("patterns", K::Patterns, D::Required),
            ],
        },
        Realizes::Nothing,
    ),
    (
        Entry {
            name: "ring",
            opts: &[
                opt("kernel", K::Sym(&["cosine", "gaussian"]), D::Sym("cosine")),
                opt("j0", K::Real, D::Num(-2.0)),
                opt("j1", K::Real, D::Num(12.0)),
            ],
        },
        Realizes::Nothing,
    ),
    (
        Entry {
            name: "sat",
            opts: &[opt("file", K::Str, D::Required)],
        },
        Realizes::Nothing,
    ),
];

pub const NEURONS: &[Entry] = &[
    Entry {
        name: "linear",
        opts: &[],
    },
    Entry {
        name: "tanh",
        opts: &[],
    },
    Entry {
        name: "relu",
        opts: &[],
    },
    Entry {
        name: "sigmoid",
        opts: &[],
    },
    Entry {
        name: "softplus",
        opts: &[],
    },
    Entry {
        name: "lif",
        opts: &[
            opt("tau_rc", K::Num(1), D::Num(0.02)),
            opt("tau_ref", K::Num(1), D::Num(0.002)),
        ],
    },
];

pub const CONSTRAINTS: &[Entry] = &[
    Entry {
        name: "dale",
        opts: &[
            opt("excitatory", K::Fraction, D::Num(0.8)),
            opt("readout", K::Bool, D::Bool(false)),
        ],
    },
    Entry {
        name: "sparsity",
        opts: &[opt("density", K::Fraction, D::Required)],
    },
    Entry {
        name: "prune",
        opts: &[
            opt("fraction", K::Fraction, D::Required),
            opt("refit", K::Bool, D::Bool(true)),
        ],
    },
    Entry {
        name: "space",
        opts: &[
            opt("grid", K::IntVec, D::Optional),
            opt("positions", K::Str, D::Optional),
            opt("wiring", K::Num(0), D::Num(0.0)),
            opt("communicability", K::Bool, D::Bool(false)),
        ],
    },
    Entry {
        name: "timescales",
        opts: &[
            opt("from", K::Num(1), D::Required),
            opt("to", K::Num(1), D::Required),
            opt("along", K::Axis, D::Axis("x")),
        ],
    },
    Entry {
        name: "energy",
        opts: &[opt("weight", K::Num(0), D::Required)],
    },
    Entry {
        name: "gain",
        opts: &[
            opt("by", K::Input, D::Required),
            opt("range", K::Range, D::Range(0.5, 2.0)),
        ],
    },
];

/// What a metric's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    Num(Dim),
    Bool,
}

#[derive(Clone, Copy, Debug)]
pub struct Metric {
    pub name: &'static str,
    pub ty: MetricType,
    /// Named options; a single positional argument fills the first one.
    pub opts: &'static [Opt],
    /// The positional argument is required (`accuracy(Task)`, `lyapunov(k)`).
    pub needs_arg: bool,
}

const fn metric(
    name: &'static str,
    ty: MetricType,
    opts: &'static [Opt],
    needs_arg: bool,
) -> Metric {
    Metric {
        name,
        ty,
        opts,
        needs_arg,
    }
}

use MetricType as M;

/// The metrics of CHECKS.md, all of them.
pub const METRICS: &[Metric] = &[
    metric(
        "nrmse",
        M::Num(0),
        &[
            opt("output", K::Str, D::Optional),
            opt("skip", K::Num(1), D::Num(0.0)),
        ],
        false,
    ),
    metric("drift", M::Num(-1), &[], false),
    metric("divergence_time", M::Num(1), &[], false),
    metric("attractor_distance", M::Num(0), &[], false),
    metric("lyapunov_max", M::Num(-1), &[], false),
    metric(
        "lyapunov",
        M::Num(-1),
        &[opt("k", K::Int(1), D::Required)],
        true,
    ),
    metric("fixed_points", M::Num(0), &[], false),
    metric("stable_fixed_points", M::Num(0), &[], false),
    metric("vector_field_error", M::Num(-1), &[], false),
    metric("spectral_radius", M::Num(0), &[], false),
    metric("dale", M::Bool, &[], false),
    metric("density", M::Num(0), &[], false),
    metric("wiring_cost", M::Num(0), &[], false),
    metric("modularity", M::Num(0), &[], false),
    metric("small_worldness", M::Num(0), &[], false),
    metric("memory_capacity", M::Num(0), &[], false),
    metric(
        "accuracy",
        M::Num(0),
        &[opt("task", K::Str, D::Required)],
        true,
    ),
    metric(
        "recall",
        M::Num(0),
        &[opt("noise", K::Fraction, D::Num(0.1))],
        false,
    ),
    metric("solved", M::Bool, &[], false),
    metric("sync_error", M::Num(0), &[], false),
    metric("mean_rate", M::Num(0), &[], false),
    metric("timescale_gradient", M::Num(0), &[], false),
];

pub fn method(name: &str) -> Option<&'static (Entry, Realizes)> {
    METHODS.iter().find(|(e, _)| e.name == name)
}

pub fn neuron(name: &str) -> Option<&'static Entry> {
    NEURONS.iter().find(|e| e.name == name)
}

pub fn constraint(name: &str) -> Option<&'static Entry> {
    CONSTRAINTS.iter().find(|e| e.name == name)
}

pub fn metric_named(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}
