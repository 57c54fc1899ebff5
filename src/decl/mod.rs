//! The declarations: every method, neuron model, constraint and metric of the language, once.
//!
//! Each is one `declare!` block. From it come the table row the front end checks calls
//! against (option names, kinds, defaults), the typed value the back ends consume (a struct
//! with one field per option, SI units, defaults filled), the `rnnc explain`-style text and
//! the rows of `docs/reference.md` (`crate::reference`). A back end matches the family enums
//! ([`Method`], [`Neuron`], [`Constraint`], [`Metric`]) exhaustively; no other module matches
//! one of these names as a string (`tests/it/decl.rs` greps the sources for it).
//!
//! This module sits at the bottom of the crate: it depends on nothing but `span`, so the
//! semantic model, the methods, the numeric IR and the checker can all use it.

/// A power of time: 0 dimensionless, 1 seconds, -1 per second.
pub type Dim = i8;

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
    /// `auto` or a number >= 0 (dimensionless).
    AutoNum,
    /// A distribution call: `uniform(a, b)`.
    Dist,
    /// `random_patterns(count, seed = s)`.
    Patterns,
    /// `space.x`, `space.y`, `space.z`.
    Axis,
    /// The name of an input channel of the target.
    Input,
    /// The name of a state or output of the checked network's target (metrics).
    Name,
    /// The name of a task (metrics).
    Task,
}

impl OptKind {
    /// How the reference describes the kind.
    pub fn describe(self) -> String {
        match self {
            OptKind::Num(0) => "number >= 0".into(),
            OptKind::Num(1) => "time".into(),
            OptKind::Num(-1) => "rate (per second)".into(),
            OptKind::Num(d) => format!("number, time^{d}"),
            OptKind::Real => "number".into(),
            OptKind::Fraction => "fraction (`25%`)".into(),
            OptKind::Int(min) => format!("whole number >= {min}"),
            OptKind::Bool => "`true` or `false`".into(),
            OptKind::Sym(s) => s
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" \\| "),
            OptKind::Str => "string".into(),
            OptKind::Range => "range `lo .. hi`".into(),
            OptKind::IntVec => "list of whole numbers".into(),
            OptKind::AutoInt => "`auto` or whole number".into(),
            OptKind::AutoNum => "`auto` or number >= 0".into(),
            OptKind::Dist => "`uniform(lo, hi)`".into(),
            OptKind::Patterns => "`random_patterns(n, seed = s)`".into(),
            OptKind::Axis => "`space.x` \\| `space.y` \\| `space.z`".into(),
            OptKind::Input => "input name".into(),
            OptKind::Name => "state or output: `x`, `q[1]` (from 0), `[x, y]`".into(),
            OptKind::Task => "task name".into(),
        }
    }
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
    Axis(Axis),
}

impl OptDefault {
    /// The value an absent option takes; `None` for a required or optional one.
    pub fn value(self) -> Option<OptValue> {
        Some(match self {
            OptDefault::Required | OptDefault::Optional => return None,
            OptDefault::Num(x) => OptValue::Num(x),
            OptDefault::Bool(b) => OptValue::Bool(b),
            OptDefault::Sym(s) => OptValue::Sym(s.into()),
            OptDefault::Auto => OptValue::Auto,
            OptDefault::Range(a, b) => OptValue::Range(a, b),
            OptDefault::Uniform(a, b) => OptValue::Uniform(a, b),
            OptDefault::Axis(a) => OptValue::Axis(a),
        })
    }

    /// How the reference writes the default.
    pub fn describe(self, kind: OptKind) -> String {
        match (self, kind) {
            (OptDefault::Required, _) => "required".into(),
            (OptDefault::Optional, _) => "none".into(),
            (OptDefault::Num(x), OptKind::Fraction) => format!("{}%", fmt(100.0 * x)),
            (OptDefault::Num(x), OptKind::Num(1)) => fmt_time(x),
            (OptDefault::Num(x), OptKind::Num(-1)) => format!("{} Hz", fmt(x)),
            (OptDefault::Num(x), _) => fmt(x),
            (OptDefault::Bool(b), _) => b.to_string(),
            (OptDefault::Sym(s), _) => s.into(),
            (OptDefault::Auto, _) => "auto".into(),
            (OptDefault::Range(a, b), _) => format!("{} .. {}", fmt(a), fmt(b)),
            (OptDefault::Uniform(a, b), _) => format!("uniform({}, {})", fmt(a), fmt(b)),
            (OptDefault::Axis(a), _) => format!("space.{}", a.name()),
        }
    }
}

fn fmt(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
        format!("{x:e}")
    } else {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn fmt_time(x: f64) -> String {
    if x != 0.0 && x < 1.0 {
        format!("{} ms", fmt(x * 1e3))
    } else {
        format!("{} s", fmt(x))
    }
}

/// One option of a method, neuron model, constraint or metric.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub name: &'static str,
    pub kind: OptKind,
    pub default: OptDefault,
    /// What it means, for the reference.
    pub doc: &'static str,
}

/// One row of a family's table: a name and its options.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub name: &'static str,
    pub opts: &'static [Opt],
    /// What it is, for the reference.
    pub doc: &'static str,
}

/// An option value as the front end checked it, in SI units.
#[derive(Clone, Debug, PartialEq)]
pub enum OptValue {
    Num(f64),
    Bool(bool),
    Sym(String),
    Str(String),
    Range(f64, f64),
    Ints(Vec<i64>),
    Auto,
    Uniform(f64, f64),
    Patterns {
        count: usize,
        seed: u64,
    },
    Axis(Axis),
    /// A task, by index into the program's tasks.
    Task(usize),
    /// States or outputs of the checked network's target, resolved by the front end.
    Components(Components),
}

/// Conversion of a checked option value into a typed field. `None` means the value does not
/// fit the field: a disagreement between a declaration and the front end, which a unit test
/// rules out for every default.
pub trait FromOpt: Sized {
    fn from_opt(v: Option<&OptValue>) -> Option<Self>;
}

impl FromOpt for f64 {
    fn from_opt(v: Option<&OptValue>) -> Option<f64> {
        match v? {
            OptValue::Num(x) => Some(*x),
            _ => None,
        }
    }
}

impl FromOpt for usize {
    fn from_opt(v: Option<&OptValue>) -> Option<usize> {
        match v? {
            OptValue::Num(x) if *x >= 0.0 && x.fract() == 0.0 => Some(*x as usize),
            _ => None,
        }
    }
}

impl FromOpt for bool {
    fn from_opt(v: Option<&OptValue>) -> Option<bool> {
        match v? {
            OptValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl FromOpt for (f64, f64) {
    fn from_opt(v: Option<&OptValue>) -> Option<(f64, f64)> {
        match v? {
            OptValue::Range(a, b) | OptValue::Uniform(a, b) => Some((*a, *b)),
            _ => None,
        }
    }
}

impl FromOpt for String {
    fn from_opt(v: Option<&OptValue>) -> Option<String> {
        match v? {
            OptValue::Str(s) | OptValue::Sym(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl FromOpt for Vec<i64> {
    fn from_opt(v: Option<&OptValue>) -> Option<Vec<i64>> {
        match v? {
            OptValue::Ints(x) => Some(x.clone()),
            _ => None,
        }
    }
}

/// `auto` or a whole number: `None` is `auto`.
impl FromOpt for Option<usize> {
    fn from_opt(v: Option<&OptValue>) -> Option<Option<usize>> {
        match v? {
            OptValue::Auto => Some(None),
            other => usize::from_opt(Some(other)).map(Some),
        }
    }
}

/// `auto` or a number: `None` is `auto`.
impl FromOpt for Option<f64> {
    fn from_opt(v: Option<&OptValue>) -> Option<Option<f64>> {
        match v? {
            OptValue::Auto => Some(None),
            OptValue::Num(x) => Some(Some(*x)),
            _ => None,
        }
    }
}

/// An option that may be absent (`OptDefault::Optional`).
impl FromOpt for Option<String> {
    fn from_opt(v: Option<&OptValue>) -> Option<Option<String>> {
        match v {
            None => Some(None),
            some => String::from_opt(some).map(Some),
        }
    }
}

impl FromOpt for Option<Vec<i64>> {
    fn from_opt(v: Option<&OptValue>) -> Option<Option<Vec<i64>>> {
        match v {
            None => Some(None),
            some => Vec::<i64>::from_opt(some).map(Some),
        }
    }
}

/// The state or output components a metric measures (`nrmse(q)`, `nrmse(q[1])`,
/// `nrmse([x, y])`), resolved by the front end against the program's declaration of the checked
/// network's target, never against the names a weight file gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Components {
    /// As written in the program.
    pub text: String,
    /// Positions in the target's readout: the state components in declaration order, then the
    /// output components (`q[0]`, `q[1]` for a state `q[2]`), in the order written.
    pub index: Vec<usize>,
}

impl FromOpt for Option<Components> {
    fn from_opt(v: Option<&OptValue>) -> Option<Option<Components>> {
        match v {
            None => Some(None),
            Some(OptValue::Components(c)) => Some(Some(c.clone())),
            Some(_) => None,
        }
    }
}

/// A task argument, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskRef(pub usize);

impl FromOpt for TaskRef {
    fn from_opt(v: Option<&OptValue>) -> Option<TaskRef> {
        match v? {
            OptValue::Task(i) => Some(TaskRef(*i)),
            _ => None,
        }
    }
}

/// Patterns of a Hopfield network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patterns {
    pub count: usize,
    pub seed: u64,
}

impl FromOpt for Patterns {
    fn from_opt(v: Option<&OptValue>) -> Option<Patterns> {
        match v? {
            OptValue::Patterns { count, seed } => Some(Patterns {
                count: *count,
                seed: *seed,
            }),
            _ => None,
        }
    }
}

/// A symbol option's values: an enum with the names the language writes.
macro_rules! symbols {
    ($(#[doc = $doc:literal])* $Name:ident { $($Var:ident = $s:literal),* $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $Name { $($Var),* }

        impl $Name {
            pub const NAMES: &'static [&'static str] = &[$($s),*];

            pub const fn name(self) -> &'static str {
                match self { $($Name::$Var => $s),* }
            }

            pub fn from_name(s: &str) -> Option<$Name> {
                match s { $($s => Some($Name::$Var),)* _ => None }
            }
        }

        impl FromOpt for $Name {
            fn from_opt(v: Option<&OptValue>) -> Option<$Name> {
                match v? {
                    OptValue::Sym(s) => $Name::from_name(s),
                    OptValue::Axis(a) => $Name::from_name(a.name()),
                    _ => None,
                }
            }
        }
    };
}

symbols! {
    /// A spatial axis of neuron positions (`space.x`).
    Axis { X = "x", Y = "y", Z = "z" }
}

impl Axis {
    /// The column of the positions array.
    pub fn column(self) -> usize {
        match self {
            Axis::X => 0,
            Axis::Y => 1,
            Axis::Z => 2,
        }
    }

    /// `space.x` as written: the base name and the member.
    pub fn from_member(base: &str, member: &str) -> Option<Axis> {
        if base == "space" {
            Axis::from_name(member)
        } else {
            None
        }
    }
}

symbols! {
    /// `reservoir(mode = ...)`.
    ReservoirMode { Drive = "drive", Compile = "compile" }
}

symbols! {
    /// `nef(mapping = ...)`: how the continuous dynamics become the recurrent weights.
    Mapping { Exact = "exact", Continuous = "continuous" }
}

symbols! {
    /// `fixed_points(domain = ...)`: which fixed points are counted.
    FixedPointDomain { Inside = "inside", All = "all" }
}

symbols! {
    /// `hopfield(rule = ...)`.
    HopfieldRule { Hebb = "hebb", Storkey = "storkey" }
}

symbols! {
    /// `ring(kernel = ...)`.
    RingKernel { Cosine = "cosine", Gaussian = "gaussian" }
}

/// A call as the front end checked it: its options in declaration order with defaults filled
/// (an `Optional` option absent when not given). The manifest writes it as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: &'static str,
    pub options: Vec<(&'static str, OptValue)>,
}

impl Call {
    pub fn get(&self, name: &str) -> Option<&OptValue> {
        self.options
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

/// Declares one method, neuron model, constraint or metric: a struct of typed options, its
/// table row and its documentation.
macro_rules! declare {
    (
        $(#[doc = $doc:literal])*
        $Name:ident = $key:literal {
            $(
                $(#[doc = $odoc:literal])*
                $field:ident : $ty:ty = $kind:expr, $default:expr;
            )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $Name {
            $( $(#[doc = $odoc])* pub $field: $ty, )*
        }

        impl $Name {
            pub const NAME: &'static str = $key;
            pub const OPTS: &'static [Opt] = &[
                $( Opt {
                    name: stringify!($field),
                    kind: $kind,
                    default: $default,
                    doc: concat!($($odoc, "\n"),*),
                }, )*
            ];
            pub const ENTRY: Entry = Entry {
                name: $key,
                opts: Self::OPTS,
                doc: concat!($($doc, "\n"),*),
            };

            #[allow(unused_variables)]
            pub fn from_call(c: &Call) -> Option<$Name> {
                Some($Name {
                    $( $field: FromOpt::from_opt(c.get(stringify!($field)))?, )*
                })
            }
        }
    };
}

/// A family (methods, neuron models, constraints, metrics): an enum over its declarations.
macro_rules! family {
    ($(#[doc = $doc:literal])* $Family:ident { $($Var:ident($S:ident)),* $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub enum $Family { $($Var($S)),* }

        impl $Family {
            /// The table rows, in declaration order.
            pub const ALL: &'static [Entry] = &[$($S::ENTRY),*];

            pub fn name(&self) -> &'static str {
                match self { $($Family::$Var(_) => $S::NAME),* }
            }

            /// The table row of `name`.
            pub fn entry(name: &str) -> Option<&'static Entry> {
                Self::ALL.iter().find(|e| e.name == name)
            }

            /// The typed value of a checked call (`None` for a name not in the family).
            pub fn from_call(c: &Call) -> Option<$Family> {
                $( if c.name == $S::NAME {
                    return $S::from_call(c).map($Family::$Var);
                } )*
                None
            }
        }
    };
}

use OptDefault as D;
use OptKind as K;

// ---------------------------------------------------------------------------------------
// Methods

declare! {
    /// The Neural Engineering Framework: random tuning, decoders by regularized least
    /// squares, the recurrent weights from the exact discrete mapping of the system's flow.
    Nef = "nef" {
        /// Ridge regularization of the decoders, relative to the largest activity squared.
        reg: f64 = K::Num(0), D::Num(1e-3);
        /// Evaluation points for the decoders (`auto`: `max(clip(500 d, 750, 2500), 2N)` for a
        /// represented dimension d).
        eval_points: Option<usize> = K::AutoInt, D::Auto;
        /// Distribution of the intercepts along each neuron's encoder.
        intercepts: (f64, f64) = K::Dist, D::Uniform(-1.0, 0.9);
        /// `exact`: the zero-order-hold discrete map of the flow; `continuous`: Nengo's
        /// `tau f(x) + x`.
        mapping: Mapping = K::Sym(Mapping::NAMES), D::Sym(Mapping::Exact.name());
    }
}

declare! {
    /// Low-rank connectivity: `W_rec = bulk chi + M L^T / N`, loadings fitted by teacher
    /// forcing to the exact discrete flow.
    Lowrank = "lowrank" {
        /// Rank of the structured part: `auto` is the system's dimension d, the only rank built
        /// today (another value is an error).
        rank: Option<usize> = K::AutoInt, D::Auto;
        /// Strength of the random bulk `chi` (its spectral radius).
        bulk: f64 = K::Num(0), D::Num(0.0);
        /// Ridge regularization of the loadings.
        ridge: f64 = K::Num(0), D::Num(1e-6);
    }
}

declare! {
    /// Reservoir programming: a random sparse tanh reservoir with a trained linear readout
    /// (`drive`), or a data-free compile of a polynomial flow (`compile`).
    Reservoir = "reservoir" {
        /// `drive`: fit a readout on driven trajectories; `compile`: solve the weights from
        /// the system's equations, with no data.
        mode: ReservoirMode = K::Sym(ReservoirMode::NAMES), D::Sym(ReservoirMode::Drive.name());
        /// Spectral radius of the random recurrent matrix. `auto`: a system's drive chooses
        /// it by a validation search (docs/methods.md); a task uses 0.9.
        spectral_radius: Option<f64> = K::AutoNum, D::Auto;
        /// Fraction of nonzero recurrent weights.
        density: f64 = K::Fraction, D::Num(0.1);
        /// Scale of the uniform input weights (of the z-scored fed-back state in a system's
        /// drive). `auto`: chosen by the validation search; a task uses 0.1.
        input_scale: Option<f64> = K::AutoNum, D::Auto;
        /// Scale of the uniform biases. `auto`: chosen by the validation search; a task
        /// uses 0.5.
        bias: Option<f64> = K::AutoNum, D::Auto;
        /// Ridge regularization of the readout. `auto`: chosen by the validation search
        /// (relative to the Gram matrix's mean eigenvalue); a task uses 1e-7.
        ridge: Option<f64> = K::AutoNum, D::Auto;
        /// Driven time discarded before fitting, at the start of each start's trajectory.
        washout: f64 = K::Num(1), D::Num(10.0);
        /// Driven time fitted (shared by the starts).
        train: f64 = K::Num(1), D::Num(200.0);
        /// Tasks: feed the outputs back (`W_fb`), fitted with a teacher.
        feedback: bool = K::Bool, D::Bool(false);
        /// `compile`: degree of the polynomial flow map; `auto`: the smallest whose one-step
        /// error is within 1e-5 of a step with two neurons per monomial.
        degree: Option<usize> = K::AutoInt, D::Auto;
        /// `compile`: one block per state, wired by `b_i W_j`.
        blocks: bool = K::Bool, D::Bool(false);
        /// `drive`, systems: initial conditions spread over the domain.
        starts: usize = K::Int(1), D::Num(4.0);
    }
}

declare! {
    /// A Hopfield memory whose attractors are stored patterns (not implemented yet).
    Hopfield = "hopfield" {
        /// The learning rule that stores the patterns.
        rule: HopfieldRule = K::Sym(HopfieldRule::NAMES), D::Sym(HopfieldRule::Hebb.name());
        /// The patterns to store (`random_patterns(n, seed = s)`).
        patterns: Patterns = K::Patterns, D::Required;
    }
}

declare! {
    /// A ring (bump) attractor (not implemented yet).
    Ring = "ring" {
        /// The connectivity kernel.
        kernel: RingKernel = K::Sym(RingKernel::NAMES), D::Sym(RingKernel::Cosine.name());
        /// Uniform part of the kernel.
        j0: f64 = K::Real, D::Num(-2.0);
        /// Cosine part of the kernel.
        j1: f64 = K::Real, D::Num(12.0);
    }
}

declare! {
    /// Analog SAT solving of a DIMACS CNF file (not implemented yet).
    Sat = "sat" {
        /// The `.cnf` file, relative to the program.
        file: String = K::Str, D::Required;
    }
}

family! {
    /// How a network is built (`method = ...`).
    Method {
        Nef(Nef),
        Lowrank(Lowrank),
        Reservoir(Reservoir),
        Hopfield(Hopfield),
        Ring(Ring),
        Sat(Sat),
    }
}

/// What a method can realize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Realizes {
    Systems,
    SystemsAndTasks,
    /// A direct construction: the network is the computation.
    Nothing,
}

impl Method {
    /// What the method named `name` realizes.
    pub fn realizes(name: &str) -> Option<Realizes> {
        Some(match name {
            Nef::NAME | Lowrank::NAME => Realizes::Systems,
            Reservoir::NAME => Realizes::SystemsAndTasks,
            Hopfield::NAME | Ring::NAME | Sat::NAME => Realizes::Nothing,
            _ => return None,
        })
    }

    /// The method a network gets when it names none: `nef` for a system, `reservoir` for a
    /// task.
    pub fn default_for(task: bool) -> &'static Entry {
        if task {
            &Reservoir::ENTRY
        } else {
            &Nef::ENTRY
        }
    }

    /// Whether a network of this method needs `neurons = N`.
    pub fn needs_neurons(name: &str) -> bool {
        name != Sat::NAME
    }
}

// ---------------------------------------------------------------------------------------
// Neuron models

declare! {
    /// `phi(x) = x`.
    Linear = "linear" {}
}
declare! {
    /// `phi(x) = tanh(x)`, the default.
    Tanh = "tanh" {}
}
declare! {
    /// `phi(x) = max(x, 0)`.
    Relu = "relu" {}
}
declare! {
    /// The logistic function `1 / (1 + e^-x)`.
    Sigmoid = "sigmoid" {}
}
declare! {
    /// `phi(x) = ln(1 + e^x)`.
    Softplus = "softplus" {}
}
declare! {
    /// The rate of a leaky integrate-and-fire neuron (Nengo's LIFRate).
    Lif = "lif" {
        /// Membrane time constant.
        tau_rc: f64 = K::Num(1), D::Num(0.02);
        /// Refractory period.
        tau_ref: f64 = K::Num(1), D::Num(0.002);
    }
}

family! {
    /// The rate function of a network's units (`neuron = ...`).
    Neuron {
        Linear(Linear),
        Tanh(Tanh),
        Relu(Relu),
        Sigmoid(Sigmoid),
        Softplus(Softplus),
        Lif(Lif),
    }
}

impl Neuron {
    /// The default neuron model.
    pub const DEFAULT: &'static Entry = &Tanh::ENTRY;

    /// A neuron model named in a weight file's manifest (which also accepts `logistic`),
    /// with its parameters (absent ones take the declared defaults).
    pub fn from_manifest(name: &str, param: &dyn Fn(&str) -> Option<f64>) -> Option<Neuron> {
        let name = if name == "logistic" {
            Sigmoid::NAME
        } else {
            name
        };
        let entry = Neuron::entry(name)?;
        let options = entry
            .opts
            .iter()
            .map(|o| {
                let v = match (param(o.name), o.default) {
                    (Some(x), _) | (None, OptDefault::Num(x)) => OptValue::Num(x),
                    _ => OptValue::Auto,
                };
                (o.name, v)
            })
            .collect();
        Neuron::from_call(&Call {
            name: entry.name,
            options,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Constraints

declare! {
    /// Dale's law: every neuron is excitatory or inhibitory (all its outgoing weights share
    /// a sign).
    Dale = "dale" {
        /// Fraction of excitatory neurons.
        excitatory: f64 = K::Fraction, D::Num(0.8);
        /// Apply the signs to the readout too (not implemented yet).
        readout: bool = K::Bool, D::Bool(false);
    }
}

declare! {
    /// A budget of recurrent synapses per neuron.
    Sparsity = "sparsity" {
        /// Fraction of possible partners each neuron keeps.
        density: f64 = K::Fraction, D::Required;
    }
}

declare! {
    /// Magnitude pruning of the recurrent weights.
    Prune = "prune" {
        /// Fraction of weights removed.
        fraction: f64 = K::Fraction, D::Required;
        /// Re-solve each row on the weights kept.
        refit: bool = K::Bool, D::Bool(true);
    }
}

declare! {
    /// Neurons placed in space, with a wiring cost on long connections.
    Space = "space" {
        /// Neurons on a regular grid (its cells multiply to `neurons`).
        grid: Option<Vec<i64>> = K::IntVec, D::Optional;
        /// Positions from a file (not implemented yet).
        positions: Option<String> = K::Str, D::Optional;
        /// Weight of the wiring cost `sum |W_ij| D_ij`.
        wiring: f64 = K::Num(0), D::Num(0.0);
        /// Weight the cost by communicability (not implemented yet).
        communicability: bool = K::Bool, D::Bool(false);
    }
}

declare! {
    /// A gradient of time constants along an axis of the positions (geometric from `from`
    /// to `to`; along the neuron index without `space`).
    Timescales = "timescales" {
        /// Time constant at the start of the axis.
        from: f64 = K::Num(1), D::Required;
        /// Time constant at the end of the axis.
        to: f64 = K::Num(1), D::Required;
        /// The axis of the positions along which the time constants grow.
        along: Axis = K::Axis, D::Axis(Axis::X);
    }
}

declare! {
    /// A penalty on firing rates in the decoder solve.
    Energy = "energy" {
        /// Weight of the rate penalty.
        weight: f64 = K::Num(0), D::Required;
    }
}

declare! {
    /// Neuromodulated gain: an input scales every neuron's gain.
    Gain = "gain" {
        /// The input that sets the gain.
        by: String = K::Input, D::Required;
        /// The gain's range over the input's range.
        range: (f64, f64) = K::Range, D::Range(0.5, 2.0);
    }
}

family! {
    /// A biological constraint (`constraints { ... }`).
    Constraint {
        Dale(Dale),
        Sparsity(Sparsity),
        Prune(Prune),
        Space(Space),
        Timescales(Timescales),
        Energy(Energy),
        Gain(Gain),
    }
}

// ---------------------------------------------------------------------------------------
// Metrics

/// How a metric's value is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// A fraction printed in percent with this many decimals (`0.0312 %`).
    Percent(usize),
    /// A rate, `1.2e-3 per s`.
    PerSecond,
    Seconds,
    Count,
    /// A plain number, six decimals.
    Plain,
    /// Scientific notation.
    Sci,
    Bool,
}

declare! {
    /// Normalized RMS error of the decoded states (or one named state or output) against the
    /// exact solution, over the last `simulate`.
    Nrmse = "nrmse" {
        /// Only these states or outputs: a name (every component of a vector), one component
        /// (`q[1]`, from 0), or a list (`[x, y]`), as the program declares them.
        output: Option<Components> = K::Name, D::Optional;
        /// Time skipped at the start.
        skip: f64 = K::Num(1), D::Num(0.0);
    }
}
declare! {
    /// Drift of the decoded state per second while the input is zero.
    Drift = "drift" {}
}
declare! {
    /// First time the decoded state leaves the exact solution by more than the tolerance.
    DivergenceTime = "divergence_time" {}
}
declare! {
    /// Distance between the network's and the system's attractors (occupancy of the domain).
    AttractorDistance = "attractor_distance" {}
}
declare! {
    /// The largest Lyapunov exponent of the network (per second), by QR steps along the most
    /// recent simulation, or a zero-input run when there is none.
    LyapunovMax = "lyapunov_max" {}
}
declare! {
    /// The k-th Lyapunov exponent.
    Lyapunov = "lyapunov" {
        /// Which exponent (1 is the largest).
        k: usize = K::Int(1), D::Required;
    }
}
declare! {
    /// Number of fixed points with zero input (Newton from seeded starts), those whose decoded
    /// state lies in the system's domain unless `domain = all`.
    FixedPoints = "fixed_points" {
        /// `inside`: only points whose decoded state lies in the domain (a task network has
        /// none: every point); `all`: every point found.
        domain: FixedPointDomain = K::Sym(FixedPointDomain::NAMES), D::Sym(FixedPointDomain::Inside.name());
    }
}
declare! {
    /// Number of stable fixed points with zero input (in the domain unless `domain = all`).
    StableFixedPoints = "stable_fixed_points" {
        /// `inside` or `all`, as for `fixed_points`.
        domain: FixedPointDomain = K::Sym(FixedPointDomain::NAMES), D::Sym(FixedPointDomain::Inside.name());
    }
}
declare! {
    /// RMS error (per second) of the latent one-step map the weights implement against the
    /// system's exact flow over one step, at 1000 seeded points of the domain, divided by dt.
    VectorFieldError = "vector_field_error" {}
}
declare! {
    /// Spectral radius of `W_rec`.
    SpectralRadius = "spectral_radius" {}
}
declare! {
    /// Whether `W_rec` obeys Dale's law (one sign per presynaptic neuron).
    DaleMetric = "dale" {}
}
declare! {
    /// Fraction of nonzero recurrent weights.
    Density = "density" {}
}
declare! {
    /// `sum |W_ij| D_ij` over the neurons' positions.
    WiringCost = "wiring_cost" {}
}
declare! {
    /// Newman's modularity Q of the strongest 10 % of connections (Louvain).
    Modularity = "modularity" {}
}
declare! {
    /// Humphries' small-world sigma of the strongest 10 % of connections.
    SmallWorldness = "small_worldness" {}
}
declare! {
    /// Linear memory capacity (Jaeger) of the network driven by white noise.
    MemoryCapacity = "memory_capacity" {}
}
declare! {
    /// Fraction of the task's check trials the network passes.
    Accuracy = "accuracy" {
        /// The task whose check trials are scored (`accuracy(FlipFlop)`).
        task: TaskRef = K::Task, D::Required;
    }
}
declare! {
    /// Fraction of stored patterns recalled from noisy cues (not implemented yet).
    Recall = "recall" {
        /// Fraction of flipped signs in a cue.
        noise: f64 = K::Fraction, D::Num(0.1);
    }
}
declare! {
    /// Whether the SAT network found a satisfying assignment (not implemented yet).
    Solved = "solved" {}
}
declare! {
    /// Distance between two copies of the open loop driven by the most recent simulation from
    /// different starts (synchronization; networks with `W_fb`).
    SyncError = "sync_error" {}
}
declare! {
    /// Mean rate of the units over the most recent simulation (replayed).
    MeanRate = "mean_rate" {}
}
declare! {
    /// Spearman correlation of the units' measured time constants with their position.
    TimescaleGradient = "timescale_gradient" {}
}

family! {
    /// A metric of a check's `expect` (CHECKS.md).
    Metric {
        Nrmse(Nrmse),
        Drift(Drift),
        DivergenceTime(DivergenceTime),
        AttractorDistance(AttractorDistance),
        LyapunovMax(LyapunovMax),
        Lyapunov(Lyapunov),
        FixedPoints(FixedPoints),
        StableFixedPoints(StableFixedPoints),
        VectorFieldError(VectorFieldError),
        SpectralRadius(SpectralRadius),
        Dale(DaleMetric),
        Density(Density),
        WiringCost(WiringCost),
        Modularity(Modularity),
        SmallWorldness(SmallWorldness),
        MemoryCapacity(MemoryCapacity),
        Accuracy(Accuracy),
        Recall(Recall),
        Solved(Solved),
        SyncError(SyncError),
        MeanRate(MeanRate),
        TimescaleGradient(TimescaleGradient),
    }
}

/// What a metric's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// A number of this dimension.
    Num(Dim),
    Bool,
}

/// What a metric needs and gives, beside its options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricInfo {
    pub ty: MetricType,
    pub show: Show,
    /// The first option must be given (`accuracy(Task)`, `lyapunov(k)`).
    pub needs_arg: bool,
    /// Measured on a simulation (after a `simulate` step).
    pub needs_sim: bool,
    /// Only for networks that realize a system.
    pub system_only: bool,
}

impl Metric {
    /// The facts of the metric named `name`.
    pub fn info(name: &str) -> Option<MetricInfo> {
        let i = |ty, show, needs_arg, needs_sim, system_only| MetricInfo {
            ty,
            show,
            needs_arg,
            needs_sim,
            system_only,
        };
        use MetricType::{Bool, Num};
        Some(match name {
            Nrmse::NAME => i(Num(0), Show::Percent(4), false, true, true),
            Drift::NAME => i(Num(-1), Show::PerSecond, false, true, true),
            DivergenceTime::NAME => i(Num(1), Show::Seconds, false, true, true),
            AttractorDistance::NAME => i(Num(0), Show::Plain, false, true, true),
            LyapunovMax::NAME => i(Num(-1), Show::Plain, false, false, false),
            Lyapunov::NAME => i(Num(-1), Show::Plain, true, false, false),
            FixedPoints::NAME => i(Num(0), Show::Count, false, false, false),
            StableFixedPoints::NAME => i(Num(0), Show::Count, false, false, false),
            VectorFieldError::NAME => i(Num(-1), Show::Plain, false, false, true),
            SpectralRadius::NAME => i(Num(0), Show::Plain, false, false, false),
            DaleMetric::NAME => i(Bool, Show::Bool, false, false, false),
            Density::NAME => i(Num(0), Show::Percent(2), false, false, false),
            WiringCost::NAME => i(Num(0), Show::Plain, false, false, false),
            Modularity::NAME => i(Num(0), Show::Plain, false, false, false),
            SmallWorldness::NAME => i(Num(0), Show::Plain, false, false, false),
            MemoryCapacity::NAME => i(Num(0), Show::Plain, false, false, false),
            Accuracy::NAME => i(Num(0), Show::Percent(2), true, false, false),
            Recall::NAME => i(Num(0), Show::Percent(2), false, false, false),
            Solved::NAME => i(Bool, Show::Bool, false, false, false),
            SyncError::NAME => i(Num(0), Show::Sci, false, false, false),
            MeanRate::NAME => i(Num(0), Show::Plain, false, false, false),
            TimescaleGradient::NAME => i(Num(0), Show::Plain, false, false, false),
            _ => return None,
        })
    }

    /// Whether the metric measures the most recent `simulate` when there is one (those that
    /// need one, and those that fall back to a run of their own without one): a failed
    /// simulation makes it an error.
    pub fn reads_last_run(&self) -> bool {
        Metric::info(self.name()).is_some_and(|i| i.needs_sim)
            || matches!(
                self,
                Metric::LyapunovMax(_)
                    | Metric::Lyapunov(_)
                    | Metric::SyncError(_)
                    | Metric::MeanRate(_)
            )
    }

    pub fn show(&self) -> Show {
        Metric::info(self.name()).map_or(Show::Plain, |i| i.show)
    }
}

/// The typed value of a checked call in a family, with the call as written and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec<T> {
    pub kind: T,
    pub call: Call,
    pub span: crate::span::Span,
}

impl<T> std::ops::Deref for Spec<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults(e: &Entry) -> Call {
        let options = e
            .opts
            .iter()
            .filter_map(|o| {
                let v = match o.default {
                    OptDefault::Required => match o.kind {
                        OptKind::Num(_) | OptKind::Fraction | OptKind::Real => OptValue::Num(1.0),
                        OptKind::Int(_) => OptValue::Num(2.0),
                        OptKind::Str | OptKind::Input => OptValue::Str("a".into()),
                        OptKind::Name => OptValue::Components(Components {
                            text: "a".into(),
                            index: vec![0],
                        }),
                        OptKind::Task => OptValue::Task(0),
                        OptKind::Patterns => OptValue::Patterns { count: 2, seed: 0 },
                        _ => return None,
                    },
                    other => other.value()?,
                };
                Some((o.name, v))
            })
            .collect();
        Call {
            name: e.name,
            options,
        }
    }

    /// Every declaration's defaults convert to its typed value (the table and the struct
    /// cannot disagree), and every name has documentation.
    #[test]
    fn defaults_convert() {
        for e in Method::ALL {
            let m = Method::from_call(&defaults(e)).unwrap_or_else(|| panic!("{}", e.name));
            assert_eq!(m.name(), e.name);
        }
        for e in Neuron::ALL {
            assert!(Neuron::from_call(&defaults(e)).is_some(), "{}", e.name);
        }
        for e in Constraint::ALL {
            assert!(Constraint::from_call(&defaults(e)).is_some(), "{}", e.name);
        }
        for e in Metric::ALL {
            let m = Metric::from_call(&defaults(e)).unwrap_or_else(|| panic!("{}", e.name));
            assert!(Metric::info(m.name()).is_some(), "{}", e.name);
        }
        for e in [Method::ALL, Neuron::ALL, Constraint::ALL, Metric::ALL].concat() {
            assert!(!e.doc.trim().is_empty(), "{} has no doc", e.name);
            for o in e.opts {
                assert!(!o.doc.trim().is_empty(), "{}.{} has no doc", e.name, o.name);
            }
        }
        for e in Method::ALL {
            assert!(Method::realizes(e.name).is_some(), "{}", e.name);
        }
    }

    #[test]
    fn defaults_are_typed() {
        let r = Reservoir::from_call(&defaults(&Reservoir::ENTRY)).expect("converts");
        assert_eq!(r.mode, ReservoirMode::Drive);
        assert_eq!(r.starts, 4);
        assert_eq!(r.density, 0.1);
        let n = Nef::from_call(&defaults(&Nef::ENTRY)).expect("converts");
        assert_eq!(n.eval_points, None);
        assert_eq!(n.intercepts, (-1.0, 0.9));
        assert_eq!(
            Neuron::from_manifest("logistic", &|_| None),
            Some(Neuron::Sigmoid(Sigmoid {}))
        );
        assert_eq!(
            Neuron::from_manifest("lif", &|p| (p == "tau_rc").then_some(0.05)),
            Some(Neuron::Lif(Lif {
                tau_rc: 0.05,
                tau_ref: 0.002
            }))
        );
    }
}
