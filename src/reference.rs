//! `docs/reference.md`, generated: every keyword, unit, built-in function, network field,
//! method, neuron model, constraint, metric and diagnostic code, from the lists the compiler
//! itself uses (`syntax::lexer::Kw`, `sema::lower::UNITS`, `sema::hir::Func`, the `decl`
//! families, `diag::codes`). `tests/it/reference.rs` fails when the committed file differs from
//! [`markdown`] or lacks a row ([`missing_rows`]); `RNNC_BLESS=1 cargo test --test it reference`
//! rewrites it.
//!
//! The meanings of keywords and built-in functions are written here, one `match` arm each, so a
//! new keyword or function does not compile until it has its row.

use crate::decl::{
    Constraint, Entry, Method, Metric, MetricType, Neuron, OptDefault, OptKind, Realizes, Show,
};
use crate::diag::codes;
use crate::sema::hir::Func;
use crate::sema::lower::UNITS;
use crate::sema::{DEFAULT_DT, DEFAULT_SEED, DEFAULT_TAU};
use crate::syntax::lexer::Kw;
use std::fmt::Write;

/// The whole reference, as `docs/reference.md` holds it.
pub fn markdown() -> String {
    let mut out = String::new();
    intro(&mut out);
    keywords(&mut out);
    units(&mut out);
    functions(&mut out);
    network_fields(&mut out);
    family(
        &mut out,
        "Methods",
        "How a network is built: `method = name` or `method = name(option = value, ...)` in a \
         `network`. Options are named; any not given takes its default.",
        Method::ALL,
        method_note,
    );
    family(
        &mut out,
        "Neuron models",
        "The rate function `phi` of a network's units: `neuron = name` or \
         `neuron = name(option = value, ...)`.",
        Neuron::ALL,
        |_| None,
    );
    family(
        &mut out,
        "Constraints",
        "Biological constraints, one call each inside a network's `constraints { ... }`. Each is \
         enforced by construction; `dale`, `sparsity` and `prune` also add an implicit \
         expectation to every check of their network, the others are reported.",
        Constraint::ALL,
        |_| None,
    );
    metrics(&mut out);
    diagnostics(&mut out);
    out
}

/// Every declared name the reference `md` has no row for: keywords, units, functions,
/// methods, neuron models, constraints and metrics with each of their options, and diagnostic
/// codes. Empty for a complete reference.
pub fn missing_rows(md: &str) -> Vec<String> {
    let mut missing = Vec::new();
    let mut need = |haystack: &str, row: String, what: String| {
        if !haystack.contains(&row) {
            missing.push(what);
        }
    };
    let sec = |title| md_section(md, title);
    for k in Kw::ALL {
        let k = k.as_str();
        need(
            sec("Keywords"),
            format!("\n| `{k}` |"),
            format!("keyword {k}"),
        );
    }
    for (u, ..) in UNITS {
        need(sec("Units"), format!("\n| `{u}` |"), format!("unit {u}"));
    }
    for (f, _) in Func::ALL {
        need(
            sec("Built-in functions"),
            format!("\n| `{f}` |"),
            format!("function {f}"),
        );
    }
    for (title, all) in [
        ("Methods", Method::ALL),
        ("Neuron models", Neuron::ALL),
        ("Constraints", Constraint::ALL),
    ] {
        for e in all {
            // The entry's own subsection, up to the next one.
            let head = format!("\n### `{}`\n", e.name);
            let body = sec(title).split_once(&head).map_or("", |(_, rest)| {
                rest.split_once("\n### ").map_or(rest, |(body, _)| body)
            });
            // An absent subsection is empty; a present one has at least its paragraph.
            need(body, "\n".into(), format!("{title}: {}", e.name));
            for o in e.opts {
                let what = format!("{title}: {}.{}", e.name, o.name);
                need(body, format!("\n| `{}` |", o.name), what);
            }
        }
    }
    let (summary, options) = sec("Metrics")
        .split_once(METRIC_OPTIONS)
        .unwrap_or_default();
    for e in Metric::ALL {
        need(
            summary,
            format!("\n| `{}` |", e.name),
            format!("metric {}", e.name),
        );
        for o in e.opts {
            let row = format!("\n| `{}` | `{}` |", e.name, o.name);
            need(options, row, format!("metric {}.{}", e.name, o.name));
        }
    }
    for c in codes::ALL {
        let row = format!("\n| `{}` |", c.name);
        need(sec("Diagnostic codes"), row, format!("code {}", c.name));
    }
    missing
}

/// The line between the metrics' table and their options' table.
const METRIC_OPTIONS: &str = "\nMetric options:\n";

/// The text of `## title` up to the next `## ` heading (empty when there is none).
fn md_section<'a>(md: &'a str, title: &str) -> &'a str {
    let head = format!("\n## {title}\n");
    let Some(at) = md.find(&head) else {
        return "";
    };
    let rest = &md[at + head.len()..];
    &rest[..rest.find("\n## ").map_or(rest.len(), |i| i + 1)]
}

fn intro(out: &mut String) {
    out.push_str(
        "# rnnc language reference

<!-- Generated by `cargo test` from the compiler's declarations (src/reference.rs); do not
edit. Regenerate with `RNNC_BLESS=1 cargo test --test it reference`. -->

`rnnc` is a language and compiler for programming the latent dynamics of recurrent neural
networks. A `.rnn` program states a latent dynamical system (`system`) or a task of input and
output rules over trials (`task`), the network that should realize it (`network`: a method, a
size, a neuron model, biological constraints), and what the built network must show
(`check`). `rnnc build` lowers each network to connectivity matrices; `rnnc check` measures
the checks on the networks it builds or on any weight file.

This page lists every keyword, unit, built-in function, network field, method, neuron model,
constraint, metric and diagnostic code, with every option's kind, default and meaning. It is
generated from the declarations the compiler itself checks programs against, and a test fails
when it is out of date or lacks a row. Regenerate it with
`RNNC_BLESS=1 cargo test --test it reference`. For how methods and metrics work and the
choices behind them, see [methods.md](methods.md), [checks.md](checks.md) and
[language.md](language.md).

Contents: [Keywords](#keywords) · [Units](#units) · [Built-in functions](#built-in-functions)
· [Network fields](#network-fields) · [Methods](#methods) · [Neuron models](#neuron-models) ·
[Constraints](#constraints) · [Metrics](#metrics) · [Diagnostic codes](#diagnostic-codes)

",
    );
}

/// Where a keyword is used and what it means.
fn keyword_meaning(k: Kw) -> &'static str {
    match k {
        Kw::Import => "`import std.NAME` (a standard-library module, embedded in the binary) or `import \"path.rnn\"` (relative to the importing file): every top-level name of the module becomes visible unqualified",
        Kw::System => "`system Name(p = default, ...) { ... }`: a latent dynamical system with optional parameters; `Name(p = v)` is an instance",
        Kw::Task => "`task Name(p = default, ...) { ... }`: input channels, output channels and trials of input/output rules",
        Kw::Network => "`network name for Target { ... }`: a network that realizes a system instance or a task (a direct construction needs no target)",
        Kw::Check => "`check net { ... }`: `simulate` and `expect` lines about a network",
        Kw::Input => "`input u in [lo, hi]`, `input kick[2]`: input channels of a system or task (range `[-1, 1]` when omitted)",
        Kw::State => "`state x in [lo, hi]`, `state q[2] in radius 1`: the latent state and its domain, the region the network must represent",
        Kw::Output => "in a system, `output y = expr` (a function of state and input the network must decode); in a task, `output y` (a channel its rules constrain)",
        Kw::Let => "`let w = expr`: a name for an expression inside a system",
        Kw::Init => "`init x = 1, y = 0`: the default initial state (else the centre of the domain)",
        Kw::Next => "`next x = expr`: a map, one step of discrete time per network step",
        Kw::Trial => "`trial name { period ... }`: one trial of a task, a sequence of periods (the name is optional)",
        Kw::Trials => "`trials n`: repeat each condition of a task `n` times (default 1)",
        Kw::Period => "`period name duration { ... }`: a stretch of a trial that sets inputs and expects outputs; the duration is a time, a drawn name, `uniform(a, b)` or `exponential(mean, max = m)`",
        Kw::Vary => "`vary v in [a, b, ...]`: a task's conditions (several `vary` lines give their product)",
        Kw::Draw => "`draw v ~ dist`: a value drawn once per trial from `uniform(a, b)`, `normal(mean, sd)`, `exponential(mean, max = m)` or `choice([v0, v1, ...])`",
        Kw::Expect => "in a period, a rule on an output: `expect y = v within tol (after d)` or the sign rules `expect y > v`, `expect y < v`; in a check, a boolean expression over metrics (`expect nrmse < 2%`)",
        Kw::Within => "the tolerance of a period's `expect y = v within tol` (a plain number; the largest component for a vector)",
        Kw::After => "`expect ... after d`: the rule covers the steps of the period from time `d` on",
        Kw::Simulate => "`simulate T (from s = v, ...) (with u = expr, ...)` in a check: a run that the following `expect` lines measure (without one, `simulate 10 s` from `init` with zero input)",
        Kw::From => "`simulate T from s = v`: the states a simulation starts from (the rest from `init`); also a named argument, `timescales(from = 20 ms)`",
        Kw::With => "`simulate T with u = expr`: the inputs that drive a simulation (others are 0)",
        Kw::Method => "the network field `method = name(...)`: how the network is built ([Methods](#methods))",
        Kw::Constraints => "`constraints { ... }` in a network: its biological constraints ([Constraints](#constraints))",
        Kw::For => "`network name for Target`: the system instance or task the network realizes",
        Kw::If => "`if c then a else b`: a conditional expression",
        Kw::Then => "see `if`",
        Kw::Else => "see `if` (the else branch extends as far as it can)",
        Kw::And => "boolean and",
        Kw::Or => "boolean or",
        Kw::Not => "boolean not",
        Kw::In => "a domain or range: `state x in [lo, hi]`, `input u in [lo, hi]`, `vary v in [...]`",
        Kw::Radius => "a ball domain: `state q[2] in radius r`",
        Kw::Around => "a ball's centre: `in radius r around [c0, c1]` (the origin when omitted)",
        Kw::True => "the boolean true",
        Kw::False => "the boolean false",
    }
}

fn keywords(out: &mut String) {
    out.push_str(
        "## Keywords

A keyword names nothing, except that a named argument may be spelled with one
(`timescales(from = 20 ms)`). Comments are `// to end of line` and `/* block */` (not
nested). Inside `{ }` a newline or `;` ends a statement. Operators from loosest to tightest:
`if then else`; `or`; `and`; `not`; comparisons `< <= > >= == !=` (non-associative);
`+ -`; `* / @` (`@` is the matrix product); unary `-`; `^` (right-associative); call, index
`q[0]` (from 0) and member `space.x`. `lo .. hi` is a range, only as a named argument's value.

| keyword | meaning |
|---|---|
",
    );
    for &k in Kw::ALL {
        row(out, &[code(k.as_str()), cell(keyword_meaning(k))]);
    }
    out.push('\n');
}

fn units(out: &mut String) {
    out.push_str(
        "## Units

A unit is written right after a number literal, with or without a space, and binds to that
literal only (`1/2 ms` is `1 / (2 ms)`, with a warning). Values are SI magnitudes: a unit
divides the literal by an exact power of ten. Dimensions are powers of time; they are checked
where the language interprets a value (`tau`, `dt`, durations, `simulate`, `after`, signal
arguments, parameter overrides, options, metrics). Inside a system every quantity is its SI
magnitude and a flow's right side is a rate per second. Units are case-sensitive; anywhere
else `s`, `ms`, `us`, `Hz` are ordinary names.

| unit | dimension | scale |
|---|---|---|
",
    );
    for &(u, div, dim) in UNITS {
        let scale = format!(
            "`1{}{u}` is {}",
            if u == "%" { "" } else { " " },
            num(1.0 / div)
        );
        row(out, &[code(u), dim_name(dim), scale]);
    }
    out.push('\n');
}

fn dim_name(dim: i8) -> String {
    match dim {
        0 => "dimensionless".into(),
        1 => "time (seconds)".into(),
        -1 => "frequency (per second)".into(),
        d => format!("time^{d}"),
    }
}

/// A number as the reference writes it: `0.01`, `1e-3`.
fn num(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-2 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// What a built-in function computes.
fn func_meaning(f: Func) -> &'static str {
    match f {
        Func::Sin => "sine (radians)",
        Func::Cos => "cosine (radians)",
        Func::Tan => "tangent (radians)",
        Func::Exp => "`e^x`",
        Func::Log => "natural logarithm",
        Func::Sqrt => "square root",
        Func::Abs => "absolute value",
        Func::Tanh => "hyperbolic tangent",
        Func::Sigmoid => "the logistic function `1 / (1 + e^-x)`",
        Func::Relu => "`max(x, 0)`",
        Func::Sign => "-1, 0 or 1",
        Func::Atan2 => "the angle of the point `(x, y)`, in (-pi, pi]",
        Func::Min => "the smaller of `a` and `b`",
        Func::Max => "the larger of `a` and `b`",
        Func::Clip => "`x` limited to `[lo, hi]`",
        Func::Norm => "the Euclidean norm of a vector",
        Func::Dot => "the dot product of two vectors",
        Func::Step => "signal: 0 before time `at`, 1 from it on",
        Func::Pulse => "signal: 1 on `[start, start + width)`, else 0",
        Func::Ramp => "signal: 0 before `start`, rising linearly to 1 over `duration`, then 1",
        Func::Sine => "signal: `sin(2 pi freq t + phase)`",
        Func::Noise => "signal: an independent N(0, sd^2) value per step, seeded",
        Func::SmoothNoise => "signal: low-pass filtered Gaussian noise (an Ornstein-Uhlenbeck process) with standard deviation `sd` and cutoff frequency `cutoff`, seeded",
    }
}

fn functions(out: &mut String) {
    out.push_str(
        "## Built-in functions

Functions apply elementwise to vectors unless they say otherwise. Signals are functions of
time `t`: they drive inputs in a check's `simulate ... with` and in a task's periods (where
`t` is the time since the period began); a signal's arguments must have the dimension given.
None of these names, nor the constants, can be redeclared.

| function | arguments | meaning |
|---|---|---|
",
    );
    for &(name, f) in Func::ALL {
        let args = f
            .params()
            .iter()
            .map(|&(p, dim)| {
                let mut s = format!("`{p}`");
                if let Some(d) = dim {
                    s.push_str(&format!(" ({})", dim_word(d)));
                }
                if let Some(x) = f.default_arg(p) {
                    s.push_str(&format!(", default {}", num(x)));
                }
                s
            })
            .collect::<Vec<_>>()
            .join(", ");
        row(out, &[code(name), args, cell(func_meaning(f))]);
    }
    out.push_str(
        "
Constants:

| name | value |
|---|---|
| `pi` | 3.14159... |
| `e` | 2.71828... |
| `t` | time in seconds, in drives and in a task's periods (since the period began); not inside a system, where time-varying forcing comes in as an input |

Calls with a place of their own (not functions of expressions):

- distributions, in `draw v ~ ...` and as a period's duration: `uniform(a, b)`,
  `normal(mean, sd)`, `exponential(mean, max = m)`, `choice([v0, v1, ...])`;
- `uniform(lo, hi)` as an option's value (`nef(intercepts = uniform(-1, 0.9))`);
- `random_patterns(count, seed = s)`: `count` random +-1 vectors of length `neurons`
  (`hopfield(patterns = ...)`);
- `space.x`, `space.y`, `space.z`: the neurons' position coordinates rescaled to [0, 1]
  (`timescales(along = space.x)`).

",
    );
}

fn dim_word(d: i8) -> String {
    match d {
        0 => "number".into(),
        1 => "time".into(),
        -1 => "frequency".into(),
        d => format!("time^{d}"),
    }
}

fn network_fields(out: &mut String) {
    let time = |x: f64| code(&OptDefault::Num(x).describe(OptKind::Num(1)));
    let no_neurons: Vec<String> = Method::ALL
        .iter()
        .filter(|e| !Method::needs_neurons(e.name))
        .map(|e| code(e.name))
        .collect();
    let neurons_default = if no_neurons.is_empty() {
        "required".to_string()
    } else {
        format!("required, except for {}", no_neurons.join(", "))
    };
    let neuron_names: Vec<String> = Neuron::ALL.iter().map(|e| code(e.name)).collect();
    out.push_str(
        "## Network fields

`network name for Target { field = value ... }`. Every build is reproducible from its seed:
all randomness derives from it through named sub-streams (build, training, check trials,
signal noise, analyses), so editing a check never changes the weights.

| field | value | default | meaning |
|---|---|---|---|
",
    );
    row(
        out,
        &[
            code("method"),
            "a [method](#methods), with options".into(),
            format!(
                "{} for a system, {} for a task",
                code(Method::default_for(false).name),
                code(Method::default_for(true).name)
            ),
            "how the network is built".into(),
        ],
    );
    row(
        out,
        &[
            code("neurons"),
            "whole number >= 1".into(),
            neurons_default,
            "the number of units".into(),
        ],
    );
    row(
        out,
        &[
            code("neuron"),
            format!(
                "a [neuron model](#neuron-models): {}",
                neuron_names.join(", ")
            ),
            code(Neuron::DEFAULT.name),
            "the rate function `phi` of the units".into(),
        ],
    );
    row(
        out,
        &[
            code("tau"),
            "time > 0".into(),
            format!(
                "{} for a flow (`dx/dt`) or a task; none for a map (`next x`)",
                time(DEFAULT_TAU)
            ),
            "the membrane/synaptic time constant; the leak per step is `alpha = dt / tau`. A \
             map without `tau` replaces its state every step (`alpha = 1`)"
                .into(),
        ],
    );
    row(
        out,
        &[
            code("dt"),
            "time > 0".into(),
            time(DEFAULT_DT),
            "the time step of the network".into(),
        ],
    );
    row(
        out,
        &[
            code("seed"),
            "whole number >= 0".into(),
            code(&DEFAULT_SEED.to_string()),
            "the seed all of the network's randomness derives from".into(),
        ],
    );
    out.push_str("\nA `constraints { ... }` block lists [constraints](#constraints).\n\n");
}

fn method_note(e: &Entry) -> Option<String> {
    let mut s = match Method::realizes(e.name)? {
        Realizes::Systems => "Realizes systems.".to_string(),
        Realizes::SystemsAndTasks => "Realizes systems and tasks.".to_string(),
        Realizes::Nothing => {
            "A direct construction: the network is the computation, with no `for` target."
                .to_string()
        }
    };
    for (task, what) in [(false, "system"), (true, "task")] {
        if Method::default_for(task).name == e.name {
            s.push_str(&format!(" The default for a {what}."));
        }
    }
    if !Method::needs_neurons(e.name) {
        s.push_str(" Takes no `neurons`: its size comes from its input.");
    }
    Some(s)
}

/// One section per entry of a family: its doc, a note, its options.
fn family(
    out: &mut String,
    title: &str,
    intro: &str,
    all: &[Entry],
    note: impl Fn(&Entry) -> Option<String>,
) {
    let _ = write!(out, "## {title}\n\n{intro}\n\n");
    for e in all {
        let _ = write!(out, "### `{}`\n\n{}", e.name, text(&paragraph(e.doc)));
        if let Some(n) = note(e) {
            let _ = write!(out, " {n}");
        }
        out.push_str("\n\n");
        if e.opts.is_empty() {
            out.push_str("No options.\n\n");
            continue;
        }
        out.push_str("| option | kind | default | meaning |\n|---|---|---|---|\n");
        for o in e.opts {
            row(
                out,
                &[
                    code(o.name),
                    o.kind.describe(),
                    default(o.default, o.kind),
                    cell(&paragraph(o.doc)),
                ],
            );
        }
        out.push('\n');
    }
}

fn default(d: OptDefault, kind: OptKind) -> String {
    match d {
        OptDefault::Required => "required".into(),
        OptDefault::Optional => "none".into(),
        d => code(&d.describe(kind)),
    }
}

fn metrics(out: &mut String) {
    out.push_str(
        "## Metrics

A check's `expect` is a boolean expression over metrics: `expect nrmse < 2%`,
`expect dale`, `expect stable_fixed_points == 2`. A bare number compared with a metric takes
the metric's dimension (`drift < 0.05` is per second); a number with a unit must match it
(`divergence_time > 5 s`). A metric whose value is a fraction (shown in percent: `nrmse`,
`density`, `accuracy`, `recall`) compared with a bare number reads it as a fraction:
`nrmse < 0.05` is 5 %, and `nrmse < 5` is 500 %, so a bare number of 1 or more there is the
warning `rnnc::check::bare_fraction`, with the fix `5%` (write `100%` for the whole). Options
are named; the first positional argument fills the first option (`nrmse(y)`,
`accuracy(Task)`, `lyapunov(3)`). A state or output argument is bound by the program's
declaration of the target system, never by a weight file's names: a name (`nrmse(q)`, every
component of a vector), one component counted from 0 (`nrmse(q[1])`) or a list
(`nrmse([x, q[0]])`), pooled. A metric that needs a `simulate`
measures the most recent one in its check. How each is measured, exactly:
[checks.md](checks.md#metrics-that-work).

| metric | arguments | value | needs a `simulate` | networks | what it measures |
|---|---|---|---|---|---|
",
    );
    for e in Metric::ALL {
        let info = Metric::info(e.name);
        let args = if e.opts.is_empty() {
            "none".to_string()
        } else {
            e.opts
                .iter()
                .map(|o| match o.default {
                    OptDefault::Required => format!("{} (required)", code(o.name)),
                    OptDefault::Optional => format!("{} (optional)", code(o.name)),
                    d => code(&format!("{} = {}", o.name, d.describe(o.kind))),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (value, sim, nets) = match info {
            Some(i) => (
                value_name(i.ty, i.show),
                if i.needs_sim { "yes" } else { "no" }.to_string(),
                if i.system_only {
                    "realizing a system"
                } else {
                    "any"
                }
                .to_string(),
            ),
            None => ("?".into(), "?".into(), "?".into()),
        };
        row(
            out,
            &[
                code(e.name),
                args,
                value,
                sim,
                nets,
                cell(&paragraph(e.doc)),
            ],
        );
    }
    out.push_str(METRIC_OPTIONS);
    out.push_str(
        "
| metric | option | kind | default | meaning |
|---|---|---|---|---|
",
    );
    for e in Metric::ALL {
        for o in e.opts {
            row(
                out,
                &[
                    code(e.name),
                    code(o.name),
                    o.kind.describe(),
                    default(o.default, o.kind),
                    cell(&paragraph(o.doc)),
                ],
            );
        }
    }
    out.push('\n');
}

fn value_name(ty: MetricType, show: Show) -> String {
    match (ty, show) {
        (MetricType::Bool, _) => "true/false".into(),
        (MetricType::Num(0), Show::Percent(_)) => "number (a fraction, printed in %)".into(),
        (MetricType::Num(0), Show::Count) => "number (a count)".into(),
        (MetricType::Num(0), _) => "number".into(),
        (MetricType::Num(-1), _) => "per second".into(),
        (MetricType::Num(1), _) => "seconds".into(),
        (MetricType::Num(d), _) => format!("time^{d}"),
    }
}

fn diagnostics(out: &mut String) {
    out.push_str(
        "## Diagnostic codes

Every error and warning carries a stable code; `rnnc explain CODE` prints its explanation
(`rnnc explain --list` lists them), and the last part of a code is enough when it is
unique (`rnnc explain expected_time`).

| code | summary |
|---|---|
",
    );
    for c in codes::ALL {
        row(out, &[code(c.name), cell(c.summary)]);
    }
    out.push_str("\n### Explanations\n\n");
    for c in codes::ALL {
        let _ = write!(out, "#### `{}`\n\n", c.name);
        for p in c.explanation.split("\n\n") {
            let p = paragraph(p);
            if !p.is_empty() {
                let _ = write!(out, "{}\n\n", text(&p));
            }
        }
    }
    // One trailing newline.
    while out.ends_with("\n\n") {
        out.pop();
    }
}

/// A doc comment's lines joined into one line.
fn paragraph(doc: &str) -> String {
    doc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` in backticks, for a table cell.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('|', "\\|"))
}

/// Prose for a table cell: [`text`] with `|` escaped (also inside code spans, as GitHub's
/// tables require).
fn cell(s: &str) -> String {
    text(s).replace('|', "\\|")
}

/// Prose as Markdown: outside code spans, characters that would start emphasis, an HTML tag or
/// an escape are escaped, so the text reads as written.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    for ch in s.chars() {
        if ch == '`' {
            in_code = !in_code;
        } else if !in_code && matches!(ch, '\\' | '*' | '<' | '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn row(out: &mut String, cells: &[String]) {
    out.push('|');
    for c in cells {
        out.push(' ');
        out.push_str(c);
        out.push_str(" |");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_has_a_row_for_every_declaration() {
        let md = markdown();
        assert_eq!(missing_rows(&md), Vec::<String>::new());
        assert!(
            md.ends_with('\n') && !md.ends_with("\n\n"),
            "one trailing newline"
        );
    }

    #[test]
    fn reference_missing_rows_notices_a_removed_row() {
        let md = markdown();
        let cut = md.replace("| `reg` |", "| reg |");
        assert_eq!(missing_rows(&cut), vec!["Methods: nef.reg".to_string()]);
        let cut = md.replace("\n### `relu`\n", "\n### relu\n");
        assert_eq!(missing_rows(&cut), vec!["Neuron models: relu".to_string()]);
        let cut = md.replace("| `drift` |", "| drift |");
        assert_eq!(missing_rows(&cut), vec!["metric drift".to_string()]);
    }

    #[test]
    fn reference_escapes_markdown() {
        assert_eq!(cell("`sum |W_ij| D_ij` a|b"), "`sum \\|W_ij\\| D_ij` a\\|b");
        assert_eq!(
            text("\\\" or 2 * x_1 `a*b\\`"),
            "\\\\\" or 2 \\* x\\_1 `a*b\\`"
        );
        assert_eq!(paragraph(" one\n two\n"), "one two");
    }

    /// Every table row has as many cells as its header (an unescaped `|` adds one).
    #[test]
    fn reference_tables_are_well_formed() {
        let md = markdown();
        let cells = |line: &str| line.replace("\\|", "").matches('|').count();
        let mut header = None;
        for line in md.lines() {
            if line.starts_with('|') {
                let n = cells(line);
                match header {
                    None => header = Some(n),
                    Some(h) => assert_eq!(n, h, "{line}"),
                }
            } else {
                header = None;
            }
        }
    }
}
