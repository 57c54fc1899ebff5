//! The registry of diagnostic codes. Every code is stable: tests and users refer to it, and
//! `rnnc explain CODE` prints its long text. A test checks that names are unique and that
//! every code has a golden test under `tests/ui/`.

/// A stable diagnostic code with its one-line summary and long explanation.
#[derive(Debug, PartialEq, Eq)]
pub struct Code {
    pub name: &'static str,
    pub summary: &'static str,
    pub explanation: &'static str,
}

macro_rules! codes {
    ($( $id:ident = $name:literal, $summary:literal, $explanation:literal; )*) => {
        $( pub static $id: Code = Code { name: $name, summary: $summary, explanation: $explanation }; )*
        /// Every code, in declaration order.
        pub static ALL: &[&Code] = &[ $( &$id, )* ];
    };
}

/// Looks a code up by its full name (`rnnc::units::expected_time`) or its last part.
pub fn lookup(name: &str) -> Option<&'static Code> {
    ALL.iter().copied().find(|c| c.name == name).or_else(|| {
        let mut hits = ALL
            .iter()
            .copied()
            .filter(|c| c.name.ends_with(&format!("::{name}")));
        let first = hits.next()?;
        hits.next().is_none().then_some(first)
    })
}

codes! {
    LEX_INVALID_CHAR = "rnnc::lex::invalid_char", "a character that starts no token",
"The lexer met a character that begins no token of the language. Identifiers are ASCII
letters, digits and `_`; operators are `+ - * / ^ @ < <= > >= == != = ~ .. , ; . ( ) [ ] { }`.
Remove the character or put it inside a string or a comment.

Names and units are ASCII too. A Greek letter is written by its name (`τ` is `tau`, `α` is
`alpha`, `Δ` is `Delta`) and the micro sign of a unit is `u` (`µs` is `us`); the error says
the ASCII spelling, and the rest of the file is read with it, so a name used in several
places is reported once.";
    LEX_UNTERMINATED_STRING = "rnnc::lex::unterminated_string", "a string without its closing quote",
"A string starts with `\"` and must end with `\"` on the same line. Close it.";
    LEX_UNTERMINATED_COMMENT = "rnnc::lex::unterminated_comment", "a block comment without `*/`",
"A block comment `/* ... */` must be closed. Block comments do not nest: the first `*/` ends it.";
    LEX_BAD_ESCAPE = "rnnc::lex::bad_escape", "an escape other than \\\" or \\\\ in a string",
"Strings know only two escapes: `\\\"` (a quote) and `\\\\` (a backslash). Write any other
character as it is.";
    LEX_STRAY_PERCENT = "rnnc::lex::stray_percent", "`%` that does not follow a number",
"`%` is a unit: it divides the number literal right before it by 100 (`70%` is `0.7`). There is
no modulo operator. Put `%` right after a number, or remove it.";
    PARSE_UNEXPECTED = "rnnc::parse::unexpected_token", "a token the grammar does not allow here",
"The parser met a token that cannot continue the construct it was reading. The message lists
what could come instead. The parser skips to the next item (`system`, `task`, `network`,
`check`, `import`) or the next statement and goes on, so later errors are reported too.";
    PARSE_EOF = "rnnc::parse::unexpected_eof", "the file ends in the middle of a construct",
"The file ended while a construct was still open, most often a `{` without its `}`.";
    PARSE_UNCLOSED = "rnnc::parse::unclosed", "a `(` or `[` still open where a `{` or `}` appears",
"Braces delimit blocks and cannot appear inside parentheses or brackets. A `{` or `}` met while a
`(` or `[` is open means that bracket was never closed; the error points at the bracket.";
    PARSE_UNMATCHED = "rnnc::parse::unmatched", "a closing bracket without its opening one",
"A `)`, `]` or `}` closes nothing, or closes a bracket of another kind. Remove it or add the
opening bracket.";
    PARSE_TOO_DEEP = "rnnc::parse::too_deep", "an expression nested more than 256 levels deep",
"Each bracket, unary or binary operator, call, index and `if` adds one level of nesting to an
expression; an expression may nest at most 256 levels deep (`syntax::ast::MAX_DEPTH`), so that
the compiler's recursive passes never run out of stack. A long chain of `+` and `-` does not
count: it is summed pairwise (`a + b + c + d` as `(a + b) + (c + d)` from 64 terms on), so a
generated sum of any length is accepted. Name parts of a deeper expression with `let`.";
    SYNTAX_BAD_FLOW = "rnnc::syntax::bad_flow", "an equation that is neither `dx/dt = ...` nor `next x = ...`",
"Inside a system, an equation is a flow `d<name>/dt = expr` (continuous time) or a map
`next <name> = expr` (discrete time). The leading `d` is stripped once: the state `d` has the
flow `dd/dt`. A vector state `q[2]` has one flow `dq/dt = [...]`, never one per component.
An equation is written with `=`: `dx/dt == -x` is a comparison, which a system cannot hold.";
    UNITS_UNKNOWN = "rnnc::units::unknown", "an unknown unit after a number",
"An identifier right after a number literal is its unit. The units are `s`, `ms`, `us` (time),
`Hz` (per second) and `%`. Units are case-sensitive. If you meant a product, write `*`
(`2 * pi`, not `2 pi`).";
    UNITS_EXPECTED_TIME = "rnnc::units::expected_time", "a bare number where a time is expected",
"Fields and arguments that the language interprets as times (`tau`, `dt`, durations,
`simulate`, `after`, signal times) need a unit, so that `tau = 100` cannot silently mean
100 seconds. Write `100 ms`, `0.1 s` or `100 us`.";
    UNITS_MISMATCH = "rnnc::units::mismatch", "a value with the wrong dimension",
"Dimensions are powers of time. A value has the wrong one: a frequency where a time is
expected, a parameter override whose dimension differs from its default's (`Oscillator(freq =
2)` for `freq = 1 Hz`), or a sum of a time and a number.";
    UNITS_AMBIGUOUS = "rnnc::units::ambiguous", "a unit after a division binds to the literal only",
"A unit binds to the literal it follows: `1/2 ms` is `1 / (2 ms)`, that is 500 per second, not
half a millisecond. Write `0.5 ms` or `(1/2) * 1 ms` if you meant that; write `1 / (2 ms)` to
silence the warning.";
    UNITS_OFF_GRID = "rnnc::units::off_grid", "a duration that is not a whole number of steps",
"A period lasts `round(T / dt)` steps of the network's `dt` (ties away from zero). This
duration is more than 1e-9 relative off the step grid, so it is rounded.";
    NAME_UNKNOWN = "rnnc::name::unknown", "a name that is not defined here",
"The name is not a parameter, state, input, `let`, built-in constant or function visible at
this place. Check its spelling; items from another file need `import`.";
    NAME_DUPLICATE = "rnnc::name::duplicate", "a name defined twice in one scope",
"Two definitions in one scope use the same name. Systems, tasks and networks share one
top-level namespace; inside a system, parameters, inputs, states and `let`s share one.";
    NAME_RESERVED = "rnnc::name::reserved", "a definition that redeclares a built-in",
"`pi`, `e` and `t` are built-in constants and the built-in functions (`sin`, `exp`, `pulse`,
...) are reserved: none can be redeclared. Pick another name.";
    IMPORT_NOT_FOUND = "rnnc::import::not_found", "an import that names no module",
"`import std.NAME` brings `stdlib/NAME.rnn` (embedded in the binary) into scope; `import
\"path.rnn\"` reads a file relative to the importing file. The module was not found.";
    IMPORT_CYCLE = "rnnc::import::cycle", "modules that import each other",
"Imports form a cycle. Move the shared definitions into a third module that both import.";
    IMPORT_CLASH = "rnnc::import::clash", "an imported name that clashes with another definition",
"Every top-level name of an imported module becomes visible unqualified, so it must not clash
with a local definition or with a name from another import. Rename one of them.";
    SYSTEM_NO_DOMAIN = "rnnc::system::no_domain", "a state without a domain",
"Every state needs the region the network must represent: `state x in [lo, hi]`, `in [[lo0,
hi0], ...]` or `in radius r (around c)`.";
    SYSTEM_BAD_DOMAIN = "rnnc::system::bad_domain", "a domain or range with the wrong shape or an empty interior",
"A box is `[lo, hi]` with `lo < hi` (for every component) or one row `[lo, hi]` per
component; a ball has a positive radius and a centre with one entry per component.";
    SYSTEM_NO_STATE = "rnnc::system::no_state", "a system without a state",
"A system describes latent dynamics and needs at least one `state`.";
    SYSTEM_MISSING_EQUATION = "rnnc::system::missing_equation", "a state without an equation",
"Every state has exactly one equation: a flow `dx/dt = ...` or a map `next x = ...`.";
    SYSTEM_DUPLICATE_EQUATION = "rnnc::system::duplicate_equation", "a state with two equations",
"Every state has exactly one equation; this one has a second. Remove one.";
    SYSTEM_MIXED_TIME = "rnnc::system::mixed_time", "flows and maps in one system",
"A system is all flows (continuous time, `dx/dt`) or all maps (discrete time, `next x`), never
both.";
    SYSTEM_NOT_A_STATE = "rnnc::system::not_a_state", "an equation for a name that is not a state",
"The left side of a flow or map must name a state of this system.";
    SYSTEM_INIT_OUTSIDE = "rnnc::system::init_outside", "an initial state outside the domain",
"`init` must lie inside the state's domain, which is all the network represents.";
    SYSTEM_OUTPUT_VALUE = "rnnc::system::output_value", "a system output without its value",
"A system's `output name = expr` is a function of state and input that the network must
decode; it needs the `= expr`. (Tasks declare outputs without a value.)";
    SYSTEM_TIME = "rnnc::system::time", "`t` inside a system",
"A system is autonomous up to its inputs: time-varying forcing comes in through an `input`,
driven from a check or a task. `t` exists only in drives and trial periods.";
    SHAPE_MISMATCH = "rnnc::shape::mismatch", "values of incompatible shapes",
"Vectors and matrices combine only when their shapes agree: `+ -` and comparisons need equal
shapes (or a scalar), `@` needs the inner dimensions to agree, an equation's right side has the
shape of its state.";
    SHAPE_INDEX = "rnnc::shape::index", "an index out of range or not constant",
"Indices start at 0, must be constant whole numbers and must be smaller than the vector's
length.";
    SHAPE_SIZE = "rnnc::shape::size", "a vector size that is not a positive whole number",
"`u[k]` declares a vector of `k` components; `k` must be a constant positive whole number.";
    EXPR_UNKNOWN_FUNCTION = "rnnc::expr::unknown_function", "a call of something that is not a function",
"The built-in functions are `sin cos tan atan2 exp log sqrt abs tanh sigmoid relu sign min max
clip norm dot` and the signals `step pulse ramp sine noise smooth_noise`.";
    EXPR_ARITY = "rnnc::expr::arity", "a call with the wrong arguments",
"The function takes a different number of arguments, or a named argument it does not know.";
    EXPR_TYPE = "rnnc::expr::type", "a value of the wrong kind",
"A number was expected where a boolean, string or range appears, or the other way round
(`if` needs a condition, `and`/`or`/`not` need booleans).";
    EXPR_NOT_CONSTANT = "rnnc::expr::not_constant", "a value that must be known when compiling",
"Parameter defaults, domains, sizes, indices, network fields and durations must be constants:
they cannot depend on states, inputs or `t`.";
    EXPR_INVALID_VALUE = "rnnc::expr::invalid_value", "a constant that is not a finite number",
"The constant evaluates to NaN or infinity (a division by zero, `log` of a negative number).";
    EXPR_SIGNAL_CONTEXT = "rnnc::expr::signal_context", "a signal outside a drive or a trial period",
"Signals (`step pulse ramp sine noise smooth_noise`) are functions of time: they drive inputs
in a check's `simulate ... with` or in a task's periods, never a system's equations.";
    CALL_UNKNOWN_ARG = "rnnc::call::unknown_arg", "a named argument the callee does not take",
"The method, neuron, constraint or system has no option of that name. The message lists the
options it takes.";
    CALL_MISSING_ARG = "rnnc::call::missing_arg", "a required argument is missing",
"The method or constraint needs this option; it has no default.";
    CALL_DUPLICATE_ARG = "rnnc::call::duplicate_arg", "an argument given twice",
"Each named argument may appear once in a call.";
    CALL_BAD_ARG = "rnnc::call::bad_value", "an argument or field value out of its allowed set or range",
"The value is of the wrong kind (a number where a symbol is expected) or out of range (a
density above 100 %, a negative number of neurons).";
    TASK_ZERO_STEPS = "rnnc::task::zero_steps", "a period that lasts zero steps",
"A period lasts `round(T / dt)` steps of the network's `dt`; this one rounds to zero steps.
Make it longer or make `dt` smaller.";
    TASK_NO_TRIAL = "rnnc::task::no_trial", "a task without trials",
"A task needs at least one `trial { period ... }`, and every trial at least one period.";
    TASK_NOT_INPUT = "rnnc::task::not_input", "a period assigns something that is not an input",
"Inside a period, `name = expr` sets an input channel of the task. Declare it with `input`.";
    TASK_NOT_OUTPUT = "rnnc::task::not_output", "an expectation on something that is not an output",
"`expect name = ...` inside a period constrains an output channel of the task. Declare it
with `output`.";
    TASK_BAD_EXPECT = "rnnc::task::bad_expect", "an expectation of a form periods do not allow",
"Inside a period, `expect` has two forms: `expect out = expr within tol (after d)` and the
sign rules `expect out > expr (after d)` / `expect out < expr (after d)`.";
    TASK_BAD_DISTRIBUTION = "rnnc::task::bad_distribution", "an unknown distribution in `draw`",
"`draw v ~ dist` knows `uniform(a, b)`, `normal(mean, sd)`, `exponential(mean, max = m)` and
`choice([v0, v1, ...])`.";
    NETWORK_NO_TARGET = "rnnc::network::no_target", "a network with neither a target nor a direct method",
"A network realizes a system or task (`network n for Target`) or is a direct construction
(`hopfield`, `ring`, `sat`).";
    NETWORK_UNEXPECTED_TARGET = "rnnc::network::unexpected_target", "a direct construction with a target",
"`hopfield`, `ring` and `sat` build their weights directly and realize no system or task.
Remove `for ...`.";
    NETWORK_BAD_TARGET = "rnnc::network::bad_target", "a target that is not a system or a task",
"`network n for T`: T must be a system (optionally with parameter overrides) or a task.";
    NETWORK_UNKNOWN_FIELD = "rnnc::network::unknown_field", "an unknown network field",
"A network's fields are `method`, `neurons`, `neuron`, `tau`, `dt` and `seed`, and a
`constraints { ... }` block.";
    NETWORK_DUPLICATE_FIELD = "rnnc::network::duplicate_field", "a network field set twice",
"Each field may be set once.";
    NETWORK_MISSING_NEURONS = "rnnc::network::missing_neurons", "a network without `neurons`",
"`neurons` is required, except for `sat`, which takes its size from its file.";
    NETWORK_UNKNOWN_METHOD = "rnnc::network::unknown_method", "an unknown method",
"The methods are `nef`, `lowrank`, `reservoir`, `hopfield`, `ring` and `sat`.";
    NETWORK_UNKNOWN_NEURON = "rnnc::network::unknown_neuron", "an unknown neuron model",
"The neuron models are `linear`, `tanh`, `relu`, `sigmoid`, `softplus` and `lif(tau_rc,
tau_ref)` (rate LIF).";
    NETWORK_UNKNOWN_CONSTRAINT = "rnnc::network::unknown_constraint", "an unknown constraint",
"The constraints are `dale`, `sparsity`, `prune`, `space`, `timescales`, `energy` and `gain`,
each a call with named arguments.";
    NETWORK_METHOD_TARGET = "rnnc::network::method_target", "a method that cannot realize this target",
"`nef` and `lowrank` realize systems; `reservoir` realizes systems and tasks.";
    NOT_IMPLEMENTED = "rnnc::feature::not_implemented", "a method, option, constraint or metric the language declares but rnnc does not build yet",
"The language declares more than this version builds. Today: methods `nef` (with every
constraint except `space(positions = ...)`, `space(communicability = true)` and
`dale(readout = true)`), `lowrank` (rank = d, no constraints) and `reservoir` (drive and
compile modes, no constraints); every metric except `recall` and `solved`. The direct
constructions `hopfield`, `ring` and `sat` are not built yet. The message names what was asked
for and points at it; nothing is written.";
    BUILD_UNSUPPORTED = "rnnc::build::unsupported", "a combination a method does not build",
"The method exists, but not for this combination: `lowrank` builds rank = d only and needs
`tau` for a map; a reservoir runs `tanh` units; `reservoir(mode = compile)` compiles systems,
not tasks; `nef` and `lowrank` realize systems. The message says which; change the network or
pick another method.";
    BUILD_FAILED = "rnnc::build::failed", "a network whose build failed on its numbers",
"The front end accepted the program, but building the network failed numerically: the
system's flow is not finite somewhere in its domain, the exact solution leaves every bound
while training data is generated, a least-squares solve is singular, or a task gives a readout
no training samples. The message names the network and the reason. Check the system's domain
and equations (a flow must be finite over the whole domain), the task's periods and
expectations, or raise a regularization option (`reg`, `ridge`).";
    LIMITS_TOO_LARGE = "rnnc::limits::too_large", "work over the memory budget or the step limit",
"Sizes that come from a program or a weight file are priced before anything is allocated.
Memory: building a network holds a few dense N x N matrices (N = `neurons`), a `simulate`
holds its trace (steps x columns, twice: the network and the exact solution), a task holds
its trials. When the estimate is over the budget, rnnc stops with this error instead of
running out of memory. The budget is a share of the machine's available memory (at most
8 GB, at most half of a `ulimit -v`); raise or lower it with `--memory 16GB`.
Time: one run takes at most 10^9 steps and one time constant at most 10^6 steps of `dt`
(the analyses of `rnnc check` settle over tens of time constants), so a tiny `dt` or an
enormous duration is an error, not a run that never ends. Make the duration shorter, `dt`
larger, or the network smaller.";
    BUILD_WARNING = "rnnc::build::domain_corners", "a box domain whose corners the network does not represent",
"NEF represents a d-dimensional box domain by mapping the unit ball into it, inscribed: the
corners of the box lie outside what the population encodes, and the decoded state is accurate
only inside the inscribed ellipsoid. Declare a ball (`state q[2] in ball(1)`) or a box that
the trajectories do not leave through its corners.";
    BUILD_CONSTRAINT_COST = "rnnc::build::constraint_cost", "synapse-level constraints that raise the decoding error",
"Dale's law, sparsity, pruning and wiring cost are imposed row by row on the recurrent
weights, which makes the recurrent decoding less accurate than the unconstrained solution. The
warning gives the relative increase of the decoding error (in function space) and, where the
latent flow moves, how much the constraints change the network's one-step map relative to the
step: a change `e` changes the flow's speed by about `e` (an oscillator's phase drifts `e` rad
per rad), and above 1 % the help says the dynamics will suffer. It is a figure,
not a verdict: `rnnc check` measures what the constrained network does (`nrmse`, `drift`,
`dale`, `density`, `wiring_cost`). Raise `neurons` or loosen the constraint if the checks fail.";
    CHECK_DEGENERATE_REFERENCE = "rnnc::check::degenerate_reference", "an NRMSE against an exact solution that does not vary",
"`nrmse` divides the RMS error by the standard deviation of the exact solution over the run.
When the exact solution is constant (a system at rest at its initial state with no input, or a
simulation too short to move) that spread is zero and the ratio means nothing. Start the
simulation away from the fixed point (`simulate 2 s from x = 0.5`), drive an input (`with u =
...`), or measure an absolute figure such as `drift` instead.";
    CHECK_NEEDS_SIMULATION = "rnnc::check::needs_simulation", "a metric of a run with no `simulate` step before it",
"`nrmse`, `drift`, `divergence_time` and `attractor_distance` measure the most recent
`simulate` step of the same check block. Add `simulate 2 s ...` before the `expect`.";
    CHECK_SIMULATION_FAILED = "rnnc::check::simulation_failed", "a `simulate` step that could not run",
"The network's state or the exact solution stopped being finite (the run diverged), or the
start state cannot be reached. Every `expect` that needs that simulation is reported with
this error instead of a verdict; none passes. A diverging network fails its specification:
rebuild it with more neurons or a smaller `dt`, or check the system's domain.";
    CHECK_METRIC_FAILED = "rnnc::check::metric_failed", "a metric that cannot be measured on this network",
"The metric exists but cannot be measured here: it needs a network that realizes a system
(`drift`, `vector_field_error`), an encoder `W_enc`, neuron positions (`wiring_cost`), a
`timescales` constraint (`timescale_gradient`), or its numerical procedure failed. The line is
reported as an error (exit status 2), never as a pass.";
    CLI_BAD_ARGUMENT = "rnnc::cli::bad_argument", "a command-line value that is not what its flag takes",
"Command-line values are read by the language's own parser as sources of their own, named by
their flag (`--for`, `--from`, `--with`, `--dt`, `--tau`): `--for` is a time (`5 s`), `--from`
and `--with` are lists of `name = expression` separated by commas (`--from \"q = [0.8, 0]\"`,
`--with \"u = pulse(200 ms, 100 ms)\"`), `--dt` and `--tau` are positive times. A value can
only be what its flag means: it is never pasted into the program. The diagnostic points into
the argument.";
    CLI_NETWORK = "rnnc::cli::network", "a `--network` that the program does not define, or none where several could be meant",
"`--network NAME` picks one network of the program. It is optional when the program's root
file defines exactly one network. With several, say which; `rnnc build --no-emit FILE` lists
them. `rnnc check --weights` binds a weight file to one network's target and so needs to
know which when there are several.";
    CLI_IO = "rnnc::cli::io", "a file that cannot be read or written",
"rnnc could not read the program or weight file, or could not create or write an output
(a weight file, a trace, a plot). The message gives the path and the system's reason. Nothing
partial is left behind: outputs are written to a temporary file and renamed when complete.";
    WEIGHTS_INVALID = "rnnc::weights::invalid", "a weight file that cannot be read as a network",
"`rnnc check --weights FILE.npz` reads the arrays of the weight format (`W_rec` or its factors,
`W_in`, `b_rec`, `W_out`, `b_out`, `alpha`, and the optional ones) and the manifest. The file
is not a zip archive of `.npy` members, an array has a type or layout that cannot be read, an
array's shape disagrees with `N`, or a value is not finite. The message names the array and
both shapes.";
    WEIGHTS_MISMATCH = "rnnc::weights::mismatch", "a weight file whose arrays do not fit the program's target",
"A foreign weight file is bound to the program by the program's declarations: `W_in` has one
column per input of the target, `W_out` one row per latent state of a system (then per output)
or per output of a task, `W_enc` one column per latent state, and N (the rows of every array)
equals the network's `neurons` when the program declares it. A manifest's state, input and
output names must be the program's, in order. The message names the array, its shape and the
shape the program needs (or both lists of names). Check that the file is for this program's network, or pass `--network` for the right
one.";
    WEIGHTS_MISSING_OUTPUT = "rnnc::weights::missing_output", "a weight file without rows for the outputs its program declares",
"A system's `W_out` is bound by declaration: one row per latent state, in the program's order,
then one row per `output`. A file with only the state rows (the usual trained network, whose
readout is its state) is read as states, whatever the counts: a system with two states and
two outputs never has its states read as outputs. The states are checked; the outputs are not
compared, and a metric that names one (`nrmse(phase)`) is an error with this code. A
manifest that names the outputs while `W_out` lacks their rows is `rnnc::weights::mismatch`.
Add the output rows after the state rows to have them checked.";
    CHECK_START_OUTSIDE_DOMAIN = "rnnc::check::start_outside_domain", "a `simulate` that starts outside the system's domain",
"A network is built for its system's domain (`state x in [-1, 1]`): it represents and computes
the flow there and nowhere else. A `simulate ... from` a state outside the domain measures the
network where its program asks nothing of it, so a failure says little and a pass promises
nothing. The run still happens and its lines are measured; each line that reads the run says
it was measured outside the specification (`--format json`: `\"outside_spec\": true`).
Start inside the domain, or widen the domain and rebuild.";
    CHECK_INPUT_OUT_OF_RANGE = "rnnc::check::input_out_of_range", "a `simulate` drive beyond its input's declared range",
"An input may declare its range (`input u in [-1, 1]`); a network is built for drives within it.
A `simulate ... with` a drive that leaves the range (the sampled values the run uses, noise
included) measures the network outside its specification. The warning says when the drive
first leaves the range and its largest excursion; the lines that read the run say they were
measured outside the specification. Inputs without a declared range are not checked.";
    CHECK_LEAVES_DOMAIN = "rnnc::check::leaves_domain", "an exact solution that leaves the system's domain during a `simulate`",
"The exact solution of the program, run beside the network, left the system's domain: from
then on the network is compared with values it was never built to represent. The warning
gives the first time and the state there (values within 1e-6 of a half-width past the
boundary count as inside). Shorten the run, weaken its drive, or widen the domain and rebuild.
The lines that read the run say they were measured outside the specification.";
    CHECK_UNCONVERGED = "rnnc::check::unconverged", "a verdict that depends on an unconverged finite-time estimate",
"A Lyapunov exponent is a limit over infinite time; `rnnc check` measures it over the run and
shows the estimate with a convergence figure (`-1.23e0 per s (+- 2.30e-1)`): the larger of
the distance between the estimates of the run's two halves (the transient's share, which
shrinks like 1/T) and the standard error over ten blocks (the fluctuation of a chaotic
run). When the expectation's verdict changes with the estimate moved to either end of that
range, the bound lies within the uncertainty and the verdict is not to be trusted: simulate
longer.";
    CHECK_USE_EQ = "rnnc::check::use_eq", "`=` in a check's `expect`",
"In a check, `expect` takes a boolean expression over metrics; equality is `==`
(`expect stable_fixed_points == 2`).";
    CHECK_UNKNOWN_NETWORK = "rnnc::check::unknown_network", "a check of a network that does not exist",
"`check NAME { ... }` names a network defined in this file or an imported one.";
    CHECK_UNKNOWN_METRIC = "rnnc::check::unknown_metric", "an unknown metric",
"The metrics are those of CHECKS.md: nrmse, drift, divergence_time, attractor_distance,
lyapunov_max, lyapunov(k), fixed_points, stable_fixed_points, vector_field_error,
spectral_radius, dale, density, wiring_cost, modularity, small_worldness, memory_capacity,
accuracy(Task), recall(noise = p), solved, sync_error, mean_rate, timescale_gradient.";
    CHECK_NOT_BOOLEAN = "rnnc::check::not_boolean", "an expectation that is not a yes/no question",
"`expect` in a check needs a boolean: a comparison (`nrmse < 2%`) or a boolean metric
(`dale`, `solved`).";
    CHECK_BAD_SIMULATE = "rnnc::check::bad_simulate", "a `simulate` line that does not fit its network",
"`simulate T from state = v with input = expr`: `from` names states of the network's system,
`with` names its inputs, each at most once, and `from`/`with` appear at most once each.";
    TASK_AFTER_PAST_END = "rnnc::task::after_past_end", "an `expect ... after d` that starts when its period is over",
"`after d` delays an expectation by `d` from the start of its own period (not of the trial):
the rule holds from step `ceil(d / dt)` to the period's last step. When `d` is at least the
period's duration, that range is empty, so the expectation constrains nothing: a reservoir
has no sample to fit the output on and `accuracy` cannot judge it.

When the duration is a constant this is an error. When it varies per trial (a `vary` or
`draw` name, or a distribution), it is a warning if even the longest possible duration is
too short, since then no trial ever checks the expectation.

Shorten the delay, lengthen the period, or move the `expect` into the period where the
output should hold:

    period delay 500 ms { }
    period respond 300 ms { expect y = 1 within 0.2 after 100 ms }";
    CHECK_BARE_FRACTION = "rnnc::check::bare_fraction", "a bare number of 1 or more compared with a metric that is a fraction",
"`nrmse`, `density`, `accuracy` and `recall` are fractions, printed in percent: a bare number
compared with one is a fraction too, so `expect nrmse < 0.05` means 5 %, and `expect nrmse < 5`
means 500 %, which almost any network passes. A bare number of 1 or more (100 % or more) on
such a metric is almost always a percentage written without its unit: write `nrmse < 5%`.
To mean the whole (`accuracy == 1`), write `100%`. A bare number below 1 is read as a fraction
without a warning.";
    BUILD_FLOW_ERROR = "rnnc::build::flow_error", "a built network whose one-step map is far from its system's",
"Every build of a network that realizes a system measures the network itself: from points
spread over the domain (inputs drawn over their ranges and held), it puts the network in the
state that encodes each point, takes one step of `dt`, and compares what it decodes with the
system's exact one-step map from the same decoded point. The build line prints that error as
a fraction of the system's own step (`flow error`). Above 10 % the network does not follow
its system, whatever the decoder error says: a decoder can be accurate on the states it
decodes and still step wrongly.

Likely causes: for `reservoir(mode = compile)`, a polynomial degree too low for the flow map
over the domain; for `nef`, too few neurons or synapse-level constraints (Dale's law on a
100-unit integrator gives 5 %). Raise `degree` or `neurons`, loosen the constraint, or
shrink the domain; `rnnc check` measures what the error does to trajectories.";
    BUILD_DEGREE = "rnnc::build::degree", "an automatic compile degree that falls short of its accuracy target",
"`reservoir(mode = compile)` without `degree` picks the smallest polynomial degree whose
one-step flow map is within 1e-5 of a step (rms over the domain) with two neurons per
monomial. When the neurons run out first, it compiles the best degree they allow and says
how far that degree is from the target and how many neurons the next degree needs. Give
more `neurons`, or state `degree` (at least one neuron per monomial) to choose yourself.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for c in ALL {
            assert!(seen.insert(c.name), "duplicate code {}", c.name);
            assert!(
                c.name.starts_with("rnnc::") && c.name.split("::").count() == 3,
                "{}",
                c.name
            );
            assert!(
                !c.summary.is_empty() && c.explanation.len() > 20,
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn lookup_by_suffix() {
        assert_eq!(
            lookup("expected_time").map(|c| c.name),
            Some("rnnc::units::expected_time")
        );
        assert_eq!(
            lookup("rnnc::check::use_eq").map(|c| c.name),
            Some("rnnc::check::use_eq")
        );
        assert!(lookup("nope").is_none());
    }
}
