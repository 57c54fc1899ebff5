//! Networks: fields, targets, and the named options of methods, neurons and constraints,
//! checked against [`super::tables`].

use super::hir::*;
use super::items::{instantiate, Sema};
use super::lower::{fmt_num, Lower, Scope};
use super::model::*;
use super::ItemRef;
use crate::decl::{
    self, Axis, Constraint, Entry, Method, Neuron, Opt, OptDefault, OptKind, Realizes, Spec,
};
use crate::diag::{codes, did_you_mean, Diagnostic};
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, ExprKind};

const FIELDS: &[&str] = &["method", "neurons", "neuron", "tau", "dt", "seed"];

/// A network's time step when it gives none.
pub const DEFAULT_DT: f64 = 1e-3;
/// A network's design time constant when it gives none (flows and tasks).
pub const DEFAULT_TAU: f64 = 0.1;
/// A network's seed when it gives none.
pub const DEFAULT_SEED: u64 = 0;

impl Sema<'_> {
    pub(crate) fn network(&mut self, file: FileId, n: &ast::Network) -> Option<Network> {
        let errors_before = self.error_count();
        let scope = Scope::default();
        let mut fields: Vec<(&crate::span::Ident, &ast::Expr)> = Vec::new();
        let mut constraint_exprs: Vec<&ast::Expr> = Vec::new();
        let mut constraints_span: Option<Span> = None;
        for st in &n.body {
            match st {
                ast::NetStmt::Field { name, value } => {
                    if !FIELDS.contains(&name.node.as_str()) {
                        let mut d = Diagnostic::error(
                            &codes::NETWORK_UNKNOWN_FIELD,
                            format!("networks have no field `{}`", name.node),
                        )
                        .at(name.span, "unknown field");
                        d = match did_you_mean(&name.node, FIELDS.iter().copied()) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(format!("the fields are {}", FIELDS.join(", "))),
                        };
                        self.diags.push(d);
                        continue;
                    }
                    if let Some((prev, _)) = fields.iter().find(|(f, _)| f.node == name.node) {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::NETWORK_DUPLICATE_FIELD,
                                format!("`{}` is set twice", name.node),
                            )
                            .at(name.span, "second")
                            .at(prev.span, "first"),
                        );
                        continue;
                    }
                    fields.push((name, value));
                }
                ast::NetStmt::Constraints { items, span } => {
                    if let Some(prev) = constraints_span {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::NETWORK_DUPLICATE_FIELD,
                                "two `constraints` blocks",
                            )
                            .at(*span, "second")
                            .at(prev, "first"),
                        );
                        continue;
                    }
                    constraints_span = Some(*span);
                    constraint_exprs.extend(items);
                }
                ast::NetStmt::Error(_) => {}
            }
        }
        let field = |name: &str| fields.iter().find(|(f, _)| f.node == name).map(|(_, v)| *v);

        // Target.
        let target = match &n.target {
            None => Some(Target::None),
            Some(e) => self.target(file, e),
        };
        // Method.
        let method_entry = match field("method") {
            Some(e) => self.lookup_call(
                e,
                "method",
                &codes::NETWORK_UNKNOWN_METHOD,
                Method::entry,
                Method::ALL.iter().map(|m| m.name),
            ),
            None => match &target {
                Some(Target::System(_)) => Some((Method::default_for(false), None)),
                Some(Target::Task(_)) => Some((Method::default_for(true), None)),
                Some(Target::None) => {
                    self.diags.push(
                        Diagnostic::error(&codes::NETWORK_NO_TARGET, format!("network `{}` realizes nothing", n.name.node))
                            .at(n.name.span, "no `for Target` and no direct method")
                            .help("write `network name for System { ... }`, or a direct method such as `method = hopfield(...)`"),
                    );
                    None
                }
                None => None,
            },
        };
        let mut method = None;
        if let Some((entry, args)) = method_entry {
            let span = field("method").map_or(n.name.span, |e| e.span);
            method = self
                .options(entry, args.unwrap_or(&[]), span, None)
                .and_then(|c| self.typed(c, span, Method::from_call));
            let realizes = Method::realizes(entry.name);
            match (&target, realizes) {
                (Some(Target::None), Some(Realizes::Systems | Realizes::SystemsAndTasks))
                    if field("method").is_some() =>
                {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::NETWORK_NO_TARGET,
                            format!("`{}` needs something to realize", entry.name),
                        )
                        .at(n.name.span, "no `for Target`")
                        .help(format!(
                            "write `network {} for System {{ ... }}`",
                            n.name.node
                        )),
                    );
                }
                (Some(Target::System(_) | Target::Task(_)), Some(Realizes::Nothing)) => {
                    let t = n.target.as_ref().map_or(n.name.span, |e| e.span);
                    self.diags.push(
                        Diagnostic::error(
                            &codes::NETWORK_UNEXPECTED_TARGET,
                            format!(
                                "`{}` is a direct construction and realizes no target",
                                entry.name
                            ),
                        )
                        .at(t, "remove `for ...`")
                        .at(span, "direct method"),
                    );
                }
                (Some(Target::Task(_)), Some(Realizes::Systems)) => {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::NETWORK_METHOD_TARGET,
                            format!("`{}` realizes systems, not tasks", entry.name),
                        )
                        .at(span, "this method")
                        .help("use `method = reservoir(...)` for a task"),
                    );
                }
                _ => {}
            }
        }
        // Neurons, neuron model, times, seed.
        let neurons = match field("neurons") {
            Some(e) => self
                .whole(&scope, e, 1, &codes::CALL_BAD_ARG, "`neurons`")
                .map(|k| k as usize),
            None => {
                if method
                    .as_ref()
                    .is_some_and(|m: &Spec<Method>| Method::needs_neurons(m.name()))
                {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::NETWORK_MISSING_NEURONS,
                            format!("network `{}` does not say how many neurons", n.name.node),
                        )
                        .at(n.name.span, "no `neurons` field")
                        .help("add `neurons = 1000`"),
                    );
                }
                None
            }
        };
        let neuron = match field("neuron") {
            Some(e) => self
                .lookup_call(
                    e,
                    "neuron",
                    &codes::NETWORK_UNKNOWN_NEURON,
                    Neuron::entry,
                    Neuron::ALL.iter().map(|m| m.name),
                )
                .and_then(|(entry, args)| self.options(entry, args.unwrap_or(&[]), e.span, None))
                .and_then(|c| self.typed(c, e.span, Neuron::from_call)),
            None => self
                .options(Neuron::DEFAULT, &[], n.name.span, None)
                .and_then(|c| self.typed(c, n.name.span, Neuron::from_call)),
        };
        let tau = match field("tau") {
            Some(e) => Some(self.positive_time(e, "`tau`")?),
            // The one place `tau`'s default is chosen: 100 ms for a flow or a task; a map
            // without `tau` replaces its state every step (leak 1).
            None => match &target {
                Some(Target::System(inst))
                    if self.program.systems[inst.system].kind == TimeKind::Map =>
                {
                    None
                }
                _ => Some(DEFAULT_TAU),
            },
        };
        let dt = match field("dt") {
            Some(e) => self.positive_time(e, "`dt`")?,
            None => DEFAULT_DT,
        };
        // A time constant spans a bounded number of steps: the analyses run for tens of them.
        if let Some(t) = tau {
            let per_tau = t / dt;
            if per_tau > crate::budget::MAX_STEPS_PER_TAU {
                let at = field("dt").or(field("tau")).map_or(n.name.span, |e| e.span);
                self.diags.push(
                    Diagnostic::error(
                        &codes::LIMITS_TOO_LARGE,
                        format!(
                            "`dt = {} s` gives {per_tau:.1e} steps per time constant `tau = {} s`, \
                             over the limit of {:.0e}",
                            crate::budget::num(dt),
                            crate::budget::num(t),
                            crate::budget::MAX_STEPS_PER_TAU
                        ),
                    )
                    .at(at, "too many steps per time constant")
                    .help("make `dt` larger: a step of tau / 100 is accurate for rate networks"),
                );
                return None;
            }
        }
        let seed = match field("seed") {
            Some(e) => self
                .whole(&scope, e, 0, &codes::CALL_BAD_ARG, "`seed`")
                .map(|k| k as u64),
            None => Some(DEFAULT_SEED),
        };
        // Constraints.
        let inputs: Vec<String> = match &target {
            Some(Target::System(inst)) => self.program.systems[inst.system]
                .inputs
                .iter()
                .map(|c| c.name.clone())
                .collect(),
            Some(Target::Task(i)) => self.program.tasks[*i]
                .inputs
                .iter()
                .map(|c| c.name.clone())
                .collect(),
            _ => Vec::new(),
        };
        let mut constraints = Vec::new();
        for e in constraint_exprs {
            let Some((entry, args)) = self.lookup_call(
                e,
                "constraint",
                &codes::NETWORK_UNKNOWN_CONSTRAINT,
                Constraint::entry,
                Constraint::ALL.iter().map(|m| m.name),
            ) else {
                continue;
            };
            let Some(c) = self
                .options(entry, args.unwrap_or(&[]), e.span, Some(&inputs))
                .and_then(|c| self.typed(c, e.span, Constraint::from_call))
            else {
                continue;
            };
            if let Some(prev) = constraints
                .iter()
                .find(|p: &&Spec<Constraint>| p.name() == c.name())
            {
                self.diags.push(
                    Diagnostic::error(
                        &codes::NETWORK_DUPLICATE_FIELD,
                        format!("`{}` is given twice", c.name()),
                    )
                    .at(c.span, "second")
                    .at(prev.span, "first"),
                );
                continue;
            }
            if let Constraint::Space(space) = &c.kind {
                if space.grid.is_none() && space.positions.is_none() {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::CALL_MISSING_ARG,
                            "`space` needs `grid` or `positions`",
                        )
                        .at(c.span, "where are the neurons?")
                        .help("write `space(grid = [40, 50], wiring = 0.05)`"),
                    );
                    continue;
                }
                if let (Some(g), Some(k)) = (&space.grid, neurons) {
                    let cells: i64 = g.iter().product();
                    if cells as usize != k {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::CALL_BAD_ARG,
                                format!("the grid has {cells} places for {k} neurons"),
                            )
                            .at(c.span, "grid size differs from `neurons`"),
                        );
                        continue;
                    }
                }
            }
            constraints.push(c);
        }
        // Durations of the task's periods against `dt`.
        if let Some(Target::Task(ti)) = &target {
            self.grid_check(*ti, dt, n);
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(Network {
            name: n.name.node.clone(),
            span: n.name.span,
            target: target?,
            method: method?,
            neurons,
            neuron: neuron?,
            tau,
            dt,
            seed: seed?,
            constraints,
        })
    }

    /// The typed value of a checked call. The front end has checked every option against
    /// its declared kind, so the conversion cannot fail unless a declaration disagrees with
    /// its own field type (`decl`'s tests rule that out for every default).
    fn typed<T>(
        &mut self,
        call: decl::Call,
        span: Span,
        convert: impl Fn(&decl::Call) -> Option<T>,
    ) -> Option<Spec<T>> {
        match convert(&call) {
            Some(kind) => Some(Spec { kind, call, span }),
            None => {
                self.diags.push(
                    Diagnostic::error(
                        &codes::CALL_BAD_ARG,
                        format!("an option of `{}` has a value it cannot take", call.name),
                    )
                    .at(span, "here"),
                );
                None
            }
        }
    }

    fn positive_time(&mut self, e: &ast::Expr, what: &str) -> Option<f64> {
        let scope = Scope::default();
        let h = self.lower(&scope, e)?;
        Lower {
            scope: &scope,
            diags: &mut self.diags,
        }
        .expect_dim(&h, 1, what)?;
        let v = self.eval(&scope, &h)?.as_f64()?;
        if !(v > 0.0 && v.is_finite()) {
            self.diags.push(
                Diagnostic::error(
                    &codes::CALL_BAD_ARG,
                    format!("{what} must be positive and finite"),
                )
                .at(
                    e.span,
                    if v > 0.0 {
                        "not finite"
                    } else {
                        "not positive"
                    },
                ),
            );
            return None;
        }
        Some(v)
    }

    fn target(&mut self, file: FileId, e: &ast::Expr) -> Option<Target> {
        let (name_expr, args) = match &e.kind {
            ExprKind::Call(f, args) => (f.as_ref(), Some(args.as_slice())),
            _ => (e, None),
        };
        let Some(name) = name_expr.as_name() else {
            self.diags.push(
                Diagnostic::error(
                    &codes::NETWORK_BAD_TARGET,
                    "a target is a system or task name",
                )
                .at(e.span, "not a name"),
            );
            return None;
        };
        let visible = self.scopes.get(&file).cloned().unwrap_or_default();
        let Some(def) = visible.get(name) else {
            let mut d = Diagnostic::error(
                &codes::NAME_UNKNOWN,
                format!("unknown system or task `{name}`"),
            )
            .at(name_expr.span, "not defined");
            let candidates: Vec<&str> = visible
                .iter()
                .filter(|(_, d)| !matches!(d.item, ItemRef::Network(_)))
                .map(|(n, _)| n.as_str())
                .collect();
            d = match did_you_mean(name, candidates) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("systems from the standard library need `import std.systems`"),
            };
            self.diags.push(d);
            return None;
        };
        match def.item {
            ItemRef::System(si) => {
                let sys = self.program.systems[si].clone();
                let mut params: Vec<Value> = sys.params.iter().map(|p| p.default.clone()).collect();
                let mut seen: Vec<&str> = Vec::new();
                for a in args.unwrap_or(&[]) {
                    let Some(an) = &a.name else {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::CALL_UNKNOWN_ARG,
                                "parameter overrides are named",
                            )
                            .at(a.value.span, "no name")
                            .help(format!("write `{}(p = value)`", sys.name)),
                        );
                        continue;
                    };
                    let Some(pi) = sys.params.iter().position(|p| p.name == an.node) else {
                        let mut d = Diagnostic::error(
                            &codes::CALL_UNKNOWN_ARG,
                            format!("`{}` has no parameter `{}`", sys.name, an.node),
                        )
                        .at(an.span, "unknown parameter");
                        let names: Vec<&str> = sys.params.iter().map(|p| p.name.as_str()).collect();
                        d = match did_you_mean(&an.node, names.iter().copied()) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None if names.is_empty() => {
                                d.help(format!("`{}` has no parameters", sys.name))
                            }
                            None => d.help(format!("its parameters are {}", names.join(", "))),
                        };
                        self.diags.push(d);
                        continue;
                    };
                    if seen.contains(&an.node.as_str()) {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::CALL_DUPLICATE_ARG,
                                format!("`{}` is given twice", an.node),
                            )
                            .at(an.span, "again"),
                        );
                        continue;
                    }
                    seen.push(&an.node);
                    let scope = Scope::default();
                    let Some((v, h)) = self.constant(&scope, &a.value) else {
                        continue;
                    };
                    let want = sys.params[pi].dim;
                    if h.dim != want {
                        Lower {
                            scope: &scope,
                            diags: &mut self.diags,
                        }
                        .expect_dim(
                            &h,
                            want,
                            &format!(
                                "`{}` (its default is {})",
                                an.node,
                                super::lower::dim_name(want)
                            ),
                        );
                        continue;
                    }
                    if std::mem::discriminant(&v) != std::mem::discriminant(&sys.params[pi].default)
                        || v.as_slice().map(<[f64]>::len)
                            != sys.params[pi].default.as_slice().map(<[f64]>::len)
                    {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::SHAPE_MISMATCH,
                                format!("`{}` has another shape than its default", an.node),
                            )
                            .at(a.value.span, h.ty.describe()),
                        );
                        continue;
                    }
                    params[pi] = v;
                }
                match instantiate(&sys, si, params) {
                    Ok(inst) => Some(Target::System(inst)),
                    Err(ds) => {
                        for mut d in ds {
                            d.labels.insert(
                                0,
                                crate::diag::Label {
                                    span: e.span,
                                    message: "instantiated here".into(),
                                },
                            );
                            self.diags.push(d);
                        }
                        None
                    }
                }
            }
            ItemRef::Task(ti) => {
                if let Some(a) = args.and_then(|a| a.first()) {
                    self.diags.push(
                        Diagnostic::error(&codes::CALL_UNKNOWN_ARG, "tasks take no arguments here")
                            .at(a.value.span, "remove it"),
                    );
                    return None;
                }
                Some(Target::Task(ti))
            }
            ItemRef::Network(_) => {
                self.diags.push(
                    Diagnostic::error(
                        &codes::NETWORK_BAD_TARGET,
                        format!("`{name}` is a network, not a system or task"),
                    )
                    .at(name_expr.span, "a network cannot realize a network")
                    .at(def.span, "defined here"),
                );
                None
            }
            ItemRef::Broken => None,
        }
    }

    /// Resolves `name` or `name(args)` in a table.
    fn lookup_call<'e>(
        &mut self,
        e: &'e ast::Expr,
        what: &str,
        code: &'static crate::diag::Code,
        find: impl Fn(&str) -> Option<&'static Entry>,
        all: impl Iterator<Item = &'static str>,
    ) -> Option<(&'static Entry, Option<&'e [ast::Arg]>)> {
        let (head, args) = match &e.kind {
            ExprKind::Call(f, args) => (f.as_ref(), Some(args.as_slice())),
            _ => (e, None),
        };
        let Some(name) = head.as_name() else {
            self.diags.push(
                Diagnostic::error(code, format!("expected a {what} name")).at(e.span, "not a name"),
            );
            return None;
        };
        match find(name) {
            Some(entry) => Some((entry, args)),
            None => {
                let all: Vec<&str> = all.collect();
                let mut d = Diagnostic::error(code, format!("unknown {what} `{name}`"))
                    .at(head.span, format!("not a {what}"));
                d = match did_you_mean(name, all.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("the choices are {}", all.join(", "))),
                };
                self.diags.push(d);
                None
            }
        }
    }

    /// Checks named options against a table entry and fills in defaults.
    pub(crate) fn options(
        &mut self,
        entry: &'static Entry,
        args: &[ast::Arg],
        span: Span,
        inputs: Option<&[String]>,
    ) -> Option<Call> {
        let mut given: Vec<(&'static str, OptValue, Span)> = Vec::new();
        let mut ok = true;
        for a in args {
            let Some(an) = &a.name else {
                self.diags.push(
                    Diagnostic::error(
                        &codes::CALL_UNKNOWN_ARG,
                        format!("the options of `{}` are named", entry.name),
                    )
                    .at(a.value.span, "no name")
                    .help(format!("its options are {}", option_list(entry))),
                );
                ok = false;
                continue;
            };
            let Some(opt) = entry.opts.iter().find(|o| o.name == an.node) else {
                let mut d = Diagnostic::error(
                    &codes::CALL_UNKNOWN_ARG,
                    format!("`{}` has no option `{}`", entry.name, an.node),
                )
                .at(an.span, "unknown option");
                d = match did_you_mean(&an.node, entry.opts.iter().map(|o| o.name)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None if entry.opts.is_empty() => {
                        d.help(format!("`{}` takes no options", entry.name))
                    }
                    None => d.help(format!("its options are {}", option_list(entry))),
                };
                self.diags.push(d);
                ok = false;
                continue;
            };
            if let Some((_, _, prev)) = given.iter().find(|g| g.0 == opt.name) {
                self.diags.push(
                    Diagnostic::error(
                        &codes::CALL_DUPLICATE_ARG,
                        format!("`{}` is given twice", opt.name),
                    )
                    .at(an.span, "second")
                    .at(*prev, "first"),
                );
                ok = false;
                continue;
            }
            match self.option_value(opt, &a.value, inputs) {
                Some(v) => given.push((opt.name, v, an.span)),
                None => {
                    // Given, though wrong: not "missing" as well.
                    given.push((opt.name, OptValue::Auto, an.span));
                    ok = false;
                }
            }
        }
        let mut options = Vec::new();
        for opt in entry.opts {
            if let Some((_, v, _)) = given.iter().find(|g| g.0 == opt.name) {
                options.push((opt.name, v.clone()));
                continue;
            }
            let v = match opt.default {
                OptDefault::Required => {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::CALL_MISSING_ARG,
                            format!("`{}` needs the option `{}`", entry.name, opt.name),
                        )
                        .at(span, "missing")
                        .help(format!("add `{} = ...`", opt.name)),
                    );
                    ok = false;
                    continue;
                }
                other => match other.value() {
                    Some(v) => v,
                    None => continue,
                },
            };
            options.push((opt.name, v));
        }
        let _ = span;
        ok.then_some(Call {
            name: entry.name,
            options,
        })
    }

    fn option_value(
        &mut self,
        opt: &Opt,
        e: &ast::Expr,
        inputs: Option<&[String]>,
    ) -> Option<OptValue> {
        let scope = Scope::default();
        let bad = |this: &mut Self, msg: String, help: Option<String>| {
            let mut d = Diagnostic::error(&codes::CALL_BAD_ARG, msg).at(e.span, "here");
            if let Some(h) = help {
                d = d.help(h);
            }
            this.diags.push(d);
            None
        };
        match opt.kind {
            OptKind::Num(dim) => {
                let h = self.lower(&scope, e)?;
                Lower {
                    scope: &scope,
                    diags: &mut self.diags,
                }
                .expect_dim(&h, dim, &format!("`{}`", opt.name))?;
                let v = self.eval(&scope, &h)?.as_f64();
                match v {
                    Some(x) if x >= 0.0 => Some(OptValue::Num(x)),
                    _ => bad(self, format!("`{}` must be a number >= 0", opt.name), None),
                }
            }
            OptKind::Real => {
                let (v, h) = self.constant(&scope, e)?;
                match v.as_f64() {
                    Some(x) if h.dim == 0 => Some(OptValue::Num(x)),
                    _ => bad(self, format!("`{}` must be a plain number", opt.name), None),
                }
            }
            OptKind::Fraction => {
                let (v, h) = self.constant(&scope, e)?;
                match v.as_f64() {
                    Some(x) if (0.0..=1.0).contains(&x) && h.dim == 0 => Some(OptValue::Num(x)),
                    _ => bad(
                        self,
                        format!("`{}` must be a fraction between 0 and 100%", opt.name),
                        Some("write a percentage: `25%`".into()),
                    ),
                }
            }
            OptKind::Int(min) => self
                .whole(
                    &scope,
                    e,
                    min,
                    &codes::CALL_BAD_ARG,
                    &format!("`{}`", opt.name),
                )
                .map(|k| OptValue::Num(k as f64)),
            OptKind::AutoInt => {
                if e.as_name() == Some("auto") {
                    return Some(OptValue::Auto);
                }
                self.whole(
                    &scope,
                    e,
                    1,
                    &codes::CALL_BAD_ARG,
                    &format!("`{}`", opt.name),
                )
                .map(|k| OptValue::Num(k as f64))
            }
            OptKind::AutoNum => {
                if e.as_name() == Some("auto") {
                    return Some(OptValue::Auto);
                }
                let num = Opt {
                    kind: OptKind::Num(0),
                    ..*opt
                };
                self.option_value(&num, e, inputs)
            }
            OptKind::Bool => match self.constant(&scope, e)?.0 {
                Value::Bool(b) => Some(OptValue::Bool(b)),
                _ => bad(self, format!("`{}` is `true` or `false`", opt.name), None),
            },
            OptKind::Sym(choices) => match e.as_name() {
                Some(s) if choices.contains(&s) => Some(OptValue::Sym(s.into())),
                other => {
                    let help = other
                        .and_then(|s| did_you_mean(s, choices.iter().copied()))
                        .map(|s| format!("did you mean `{s}`?"));
                    bad(
                        self,
                        format!("`{}` is one of {}", opt.name, choices.join(", ")),
                        help,
                    )
                }
            },
            OptKind::Str => match &e.kind {
                ExprKind::Str(s) => Some(OptValue::Str(s.clone())),
                _ => bad(self, format!("`{}` is a string: `\"...\"`", opt.name), None),
            },
            OptKind::Range => match &e.kind {
                ExprKind::Range(lo, hi) => {
                    let a = self.constant(&scope, lo)?.0.as_f64();
                    let b = self.constant(&scope, hi)?.0.as_f64();
                    match (a, b) {
                        (Some(a), Some(b)) if a < b => Some(OptValue::Range(a, b)),
                        _ => bad(
                            self,
                            format!("`{}` is a range `lo .. hi` with lo < hi", opt.name),
                            None,
                        ),
                    }
                }
                _ => bad(
                    self,
                    format!("`{}` is a range `lo .. hi`", opt.name),
                    Some("write `0.5 .. 2`".into()),
                ),
            },
            OptKind::IntVec => {
                let v = self.constant(&scope, e)?.0;
                match v {
                    Value::Num(Shape::Vector(_), xs)
                        if xs.iter().all(|x| *x >= 1.0 && *x == x.trunc()) =>
                    {
                        Some(OptValue::Ints(xs.iter().map(|x| *x as i64).collect()))
                    }
                    _ => bad(
                        self,
                        format!("`{}` is a list of whole numbers: `[40, 50]`", opt.name),
                        None,
                    ),
                }
            }
            OptKind::Dist => match &e.kind {
                ExprKind::Call(f, args) if f.as_name() == Some("uniform") && args.len() == 2 => {
                    let a = self.constant(&scope, &args[0].value)?.0.as_f64();
                    let b = self.constant(&scope, &args[1].value)?.0.as_f64();
                    match (a, b) {
                        (Some(a), Some(b)) if a < b => Some(OptValue::Uniform(a, b)),
                        _ => bad(self, "`uniform(a, b)` needs a < b".into(), None),
                    }
                }
                _ => bad(self, format!("`{}` is `uniform(lo, hi)`", opt.name), None),
            },
            OptKind::Patterns => match &e.kind {
                ExprKind::Call(f, args) if f.as_name() == Some("random_patterns") => {
                    let mut count = None;
                    let mut seed = 0u64;
                    for (i, a) in args.iter().enumerate() {
                        match (a.name.as_ref().map(|n| n.node.as_str()), i) {
                            (Some("count") | None, 0) | (Some("count"), _) => {
                                count = self.whole(
                                    &scope,
                                    &a.value,
                                    1,
                                    &codes::CALL_BAD_ARG,
                                    "the number of patterns",
                                )
                            }
                            (Some("seed"), _) | (None, 1) => {
                                seed =
                                    self.whole(&scope, &a.value, 0, &codes::CALL_BAD_ARG, "`seed`")?
                                        as u64
                            }
                            _ => {
                                return bad(self, "`random_patterns(count, seed = s)`".into(), None)
                            }
                        }
                    }
                    Some(OptValue::Patterns {
                        count: count? as usize,
                        seed,
                    })
                }
                _ => bad(
                    self,
                    format!("`{}` is `random_patterns(count, seed = s)`", opt.name),
                    None,
                ),
            },
            OptKind::Axis => match &e.kind {
                ExprKind::Member(base, m)
                    if base
                        .as_name()
                        .and_then(|b| Axis::from_member(b, &m.node))
                        .is_some() =>
                {
                    base.as_name()
                        .and_then(|b| Axis::from_member(b, &m.node))
                        .map(OptValue::Axis)
                }
                _ => bad(
                    self,
                    format!(
                        "`{}` is an axis: `space.x`, `space.y` or `space.z`",
                        opt.name
                    ),
                    None,
                ),
            },
            OptKind::Name | OptKind::Task => bad(
                self,
                format!("`{}` is not an option of a network", opt.name),
                None,
            ),
            OptKind::Input => {
                let inputs = inputs.unwrap_or(&[]);
                match e.as_name() {
                    Some(s) if inputs.iter().any(|i| i == s) => Some(OptValue::Sym(s.into())),
                    Some(s) => {
                        let mut d = Diagnostic::error(
                            &codes::NAME_UNKNOWN,
                            format!("`{s}` is not an input of the target"),
                        )
                        .at(e.span, "not an input");
                        d = match did_you_mean(s, inputs.iter().map(String::as_str)) {
                            Some(x) => d.help(format!("did you mean `{x}`?")),
                            None if inputs.is_empty() => d.help("the target has no inputs; declare one (`input arousal in [0.5, 2]`)"),
                            None => d.help(format!("its inputs are {}", inputs.join(", "))),
                        };
                        self.diags.push(d);
                        None
                    }
                    None => bad(self, format!("`{}` names an input", opt.name), None),
                }
            }
        }
    }

    /// Every fixed period duration must be at least one step and, ideally, on the step grid.
    fn grid_check(&mut self, ti: usize, dt: f64, n: &ast::Network) {
        let task = self.program.tasks[ti].clone();
        for trial in &task.trials {
            for p in &trial.periods {
                let (value, span) = match &p.duration {
                    Duration::Expr(h) if h.constant => (
                        eval_const(h, &|i| task.params.get(i).map(|p| p.default.clone()))
                            .ok()
                            .and_then(|v| v.as_f64()),
                        h.span,
                    ),
                    Duration::Dist(Dist::Uniform(a, _)) => (Some(*a), p.span),
                    _ => (None, p.span),
                };
                let Some(secs) = value else { continue };
                let steps = crate::time::steps(secs, dt);
                if steps < 1 {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::TASK_ZERO_STEPS,
                            format!(
                                "period `{}` lasts {} s, less than half a step of {} s",
                                p.name,
                                fmt_num(secs),
                                fmt_num(dt)
                            ),
                        )
                        .at(span, "rounds to zero steps")
                        .at(
                            n.name.span,
                            format!("network `{}` steps with this dt", n.name.node),
                        )
                        .help("make the period longer or `dt` smaller"),
                    );
                } else if ((secs / dt) - steps as f64).abs() > 1e-9 * (secs / dt) {
                    self.diags.push(
                        Diagnostic::warning(
                            &codes::UNITS_OFF_GRID,
                            format!("period `{}` is not a whole number of steps", p.name),
                        )
                        .at(
                            span,
                            format!(
                                "{} steps of {} s, rounded to {}",
                                secs / dt,
                                fmt_num(dt),
                                steps
                            ),
                        )
                        .at(n.name.span, "this network's dt"),
                    );
                }
            }
        }
    }
}

fn option_list(entry: &Entry) -> String {
    entry
        .opts
        .iter()
        .map(|o| o.name)
        .collect::<Vec<_>>()
        .join(", ")
}
