//! Checks: `simulate` lines and `expect` expressions over the metrics of CHECKS.md.

use super::hir::*;
use super::items::Sema;
use super::lower::{Lower, Scope};
use super::model::*;
use super::ItemRef;
use crate::decl::{self, Components, Metric, MetricType, OptKind, OptValue, Show};
use crate::diag::{codes, did_you_mean, Diagnostic};
use crate::span::FileId;
use crate::syntax::ast::{self, ExprKind};

impl Sema<'_> {
    pub(crate) fn check(&mut self, file: FileId, c: &ast::Check) -> Option<Check> {
        let errors_before = self.error_count();
        let visible = self.scopes.get(&file).cloned().unwrap_or_default();
        let network = match visible.get(&c.network.node).map(|d| d.item) {
            Some(ItemRef::Network(i)) => Some(i),
            Some(ItemRef::Broken) => None,
            other => {
                let mut d = Diagnostic::error(
                    &codes::CHECK_UNKNOWN_NETWORK,
                    format!("no network `{}`", c.network.node),
                )
                .at(c.network.span, "checks name a network");
                let nets: Vec<&str> = visible
                    .iter()
                    .filter(|(_, d)| matches!(d.item, ItemRef::Network(_)))
                    .map(|(n, _)| n.as_str())
                    .collect();
                d = if other.is_some() {
                    d.help(format!(
                        "`{}` is a system or task; check a network that realizes it",
                        c.network.node
                    ))
                } else if let Some(s) = did_you_mean(&c.network.node, nets.iter().copied()) {
                    d.help(format!("did you mean `{s}`?"))
                } else {
                    d
                };
                self.diags.push(d);
                None
            }
        };
        let net = network.map(|i| self.program.networks[i].clone());
        let system = match net.as_ref().map(|n| &n.target) {
            Some(Target::System(inst)) => Some(self.program.systems[inst.system].clone()),
            _ => None,
        };
        let mut steps = Vec::new();
        for st in &c.body {
            match st {
                ast::CheckStmt::Simulate(s) => {
                    if let Some(s) = self.simulate(s, system.as_ref(), net.is_some()) {
                        steps.push(CheckStep::Simulate(s));
                    }
                }
                ast::CheckStmt::Expect(x) => {
                    let target = match (&net, &system) {
                        (Some(n), Some(sys)) => Ok(readout(sys, &n.name)),
                        (Some(n), None) => Err(Some(n.name.clone())),
                        (None, _) => Err(None),
                    };
                    if let Some(e) = self.check_expect(&visible, x, &target) {
                        let text = self.db.text(x.span.file)[x.span.range()]
                            .trim_start_matches("expect")
                            .trim()
                            .to_string();
                        steps.push(CheckStep::Expect {
                            expr: e,
                            text,
                            span: x.span,
                        });
                    }
                }
                ast::CheckStmt::Error(_) => {}
            }
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(Check {
            network: network?,
            steps,
            span: c.span,
        })
    }

    pub(crate) fn simulate(
        &mut self,
        s: &ast::Simulate,
        system: Option<&System>,
        have_network: bool,
    ) -> Option<Simulate> {
        let errors_before = self.error_count();
        let scope = Scope::default();
        let h = self.lower(&scope, &s.duration)?;
        Lower {
            scope: &scope,
            diags: &mut self.diags,
        }
        .expect_dim(&h, 1, "the duration of `simulate`")?;
        let duration = self.eval(&scope, &h)?.as_f64()?;
        if duration <= 0.0 {
            self.diags.push(
                Diagnostic::error(&codes::CALL_BAD_ARG, "`simulate` needs a positive duration")
                    .at(s.duration.span, "not positive"),
            );
            return None;
        }
        let mut from = Vec::new();
        let mut with = Vec::new();
        let (mut from_spans, mut with_spans) = (Vec::new(), Vec::new());
        let mut seen: Vec<(bool, crate::span::Span)> = Vec::new();
        for (clause, span) in &s.clauses {
            let is_from = matches!(clause, ast::SimClause::From(_));
            if let Some((_, prev)) = seen.iter().find(|(k, _)| *k == is_from) {
                self.diags.push(
                    Diagnostic::error(
                        &codes::CHECK_BAD_SIMULATE,
                        format!("two `{}` clauses", if is_from { "from" } else { "with" }),
                    )
                    .at(*span, "second")
                    .at(*prev, "first")
                    .help("list every assignment in one clause, separated by commas"),
                );
                continue;
            }
            seen.push((is_from, *span));
            let Some(sys) = system else {
                if have_network {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::CHECK_BAD_SIMULATE,
                            "`from` and `with` need a network that realizes a system",
                        )
                        .at(*span, "this network has no system state or inputs"),
                    );
                }
                continue;
            };
            match clause {
                ast::SimClause::From(assigns) => {
                    for a in assigns {
                        let Some(i) = sys.states.iter().position(|v| v.name == a.name.node) else {
                            self.unknown_channel(
                                &a.name,
                                "state",
                                sys.states.iter().map(|v| v.name.as_str()),
                            );
                            continue;
                        };
                        let Some((v, h)) = self.constant(&scope, &a.value) else {
                            continue;
                        };
                        if self.same_shape(&h, sys.states[i].size, &a.name.node) {
                            from.push((i, v));
                            from_spans.push(a.name.span.to(a.value.span));
                        }
                    }
                }
                ast::SimClause::With(assigns) => {
                    let dscope = Scope {
                        time: true,
                        signals: true,
                        check_dims: false,
                        ..Scope::default()
                    };
                    for a in assigns {
                        let Some(i) = sys.inputs.iter().position(|v| v.name == a.name.node) else {
                            self.unknown_channel(
                                &a.name,
                                "input",
                                sys.inputs.iter().map(|v| v.name.as_str()),
                            );
                            continue;
                        };
                        let Some(h) = Lower {
                            scope: &dscope,
                            diags: &mut self.diags,
                        }
                        .expr(&a.value) else {
                            continue;
                        };
                        if self.same_shape(&h, sys.inputs[i].size, &a.name.node) {
                            with.push((i, h));
                            with_spans.push(a.name.span.to(a.value.span));
                        }
                    }
                }
            }
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(Simulate {
            duration,
            from,
            with,
            span: s.span,
            from_spans,
            with_spans,
        })
    }

    fn unknown_channel<'n>(
        &mut self,
        name: &crate::span::Ident,
        what: &str,
        names: impl Iterator<Item = &'n str>,
    ) {
        let names: Vec<&str> = names.collect();
        let mut d = Diagnostic::error(
            &codes::CHECK_BAD_SIMULATE,
            format!(
                "`{}` is not {} {what} of the network's system",
                name.node,
                if what == "input" { "an" } else { "a" }
            ),
        )
        .at(name.span, format!("not {what}"));
        d = match did_you_mean(&name.node, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if names.is_empty() => d.help(format!("the system has no {what}s")),
            None => d.help(format!("its {what}s are {}", names.join(", "))),
        };
        self.diags.push(d);
    }

    fn check_expect(
        &mut self,
        visible: &std::collections::HashMap<String, super::Def>,
        x: &ast::Expect,
        target: &Result<Readout, Option<String>>,
    ) -> Option<HExpr> {
        if let Some(eq) = &x.eq {
            let lhs = self.db.text(x.lhs.span.file)[x.lhs.span.range()].to_string();
            let rhs = self.db.text(eq.span.file)[eq.span.range()].to_string();
            self.diags.push(
                Diagnostic::error(&codes::CHECK_USE_EQ, "`=` in a check's `expect`")
                    .at(
                        crate::span::Span {
                            start: x.lhs.span.end,
                            end: eq.span.start,
                            ..x.span
                        },
                        "this is an assignment",
                    )
                    .help(format!("write `expect {lhs} == {rhs}`")),
            );
            return None;
        }
        if x.within.is_some() || x.after.is_some() {
            self.diags.push(
                Diagnostic::error(
                    &codes::TASK_BAD_EXPECT,
                    "`within` and `after` belong to task periods",
                )
                .at(
                    x.span,
                    "a check's `expect` is a boolean expression over metrics",
                )
                .help("for a transient, use `nrmse(skip = 1 s) < 2%`"),
            );
            return None;
        }
        let tasks: Vec<(String, usize)> = visible
            .iter()
            .filter_map(|(n, d)| match d.item {
                ItemRef::Task(i) => Some((n.clone(), i)),
                _ => None,
            })
            .collect();
        // Items defined with errors: `accuracy(T)` of a broken task says nothing more.
        let broken: Vec<String> = visible
            .iter()
            .filter(|(_, d)| d.item == ItemRef::Broken)
            .map(|(n, _)| n.clone())
            .collect();
        let target = target.clone();
        let hook = move |e: &ast::Expr, diags: &mut Vec<Diagnostic>| {
            metric(e, &tasks, &broken, &target, diags)
        };
        let scope = Scope {
            metrics: Some(&hook),
            ..Scope::default()
        };
        let h = self.lower(&scope, &x.lhs)?;
        if h.ty != Type::Bool {
            self.diags.push(
                Diagnostic::error(
                    &codes::CHECK_NOT_BOOLEAN,
                    format!(
                        "an expectation must be true or false, found {}",
                        h.ty.describe()
                    ),
                )
                .at(x.lhs.span, "not a yes/no question")
                .help("compare it with a bound: `drift < 0.05`"),
            );
            return None;
        }
        bare_fractions(&h, self.db, &mut self.diags);
        Some(h)
    }
}

/// The readout of a check's target system, as the program declares it: per state, then per
/// output, its name, where its components start among the readout's, how many it has, and
/// whether it is a vector (`q[0]`, `q[1]`).
#[derive(Clone)]
pub(crate) struct Readout {
    network: String,
    channels: Vec<(String, usize, usize, bool)>,
}

fn readout(sys: &System, network: &str) -> Readout {
    let mut channels = Vec::new();
    let mut at = 0;
    let outputs = sys.outputs.iter().map(|(n, e)| match e.shape() {
        Shape::Scalar => (n.clone(), None),
        s => (n.clone(), Some(s.len())),
    });
    for (name, size) in sys
        .states
        .iter()
        .map(|v| (v.name.clone(), v.size))
        .chain(outputs)
    {
        let width = size.unwrap_or(1);
        channels.push((name, at, width, size.is_some()));
        at += width;
    }
    Readout {
        network: network.to_string(),
        channels,
    }
}

/// `nrmse(x)`, `nrmse(q)`, `nrmse(q[1])`, `nrmse([x, q[0]])`: the readout components an
/// argument names, bound by the program's declarations (never by a weight file's names).
fn components(
    e: &ast::Expr,
    what: &str,
    target: &Result<Readout, Option<String>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Components> {
    let r = match target {
        Ok(r) => r,
        // The network is unknown or broken: already reported.
        Err(None) => return None,
        Err(Some(n)) => {
            diags.push(
                Diagnostic::error(
                    &codes::CALL_BAD_ARG,
                    format!("{what} names a state or output of a system"),
                )
                .at(e.span, "no system to name it in")
                .help(format!("network `{n}` realizes no system")),
            );
            return None;
        }
    };
    let mut index = Vec::new();
    let mut texts = Vec::new();
    let (items, list): (Vec<&ast::Expr>, bool) = match &e.unparen().kind {
        ExprKind::Vector(items) if !items.is_empty() => (items.iter().collect(), true),
        _ => (vec![e], false),
    };
    for item in items {
        let item = item.unparen();
        let (name, sub) = match &item.kind {
            ExprKind::Name(n) => (n.as_str(), None),
            ExprKind::Index(base, i) => (base.unparen().as_name().unwrap_or(""), Some(i.as_ref())),
            _ => ("", None),
        };
        if name.is_empty() {
            diags.push(
                Diagnostic::error(
                    &codes::CALL_BAD_ARG,
                    format!("{what} must name states or outputs"),
                )
                .at(item.span, "not a state or output")
                .help("write a name (`x`), one component (`q[1]`, from 0) or a list (`[x, y]`)"),
            );
            return None;
        }
        let Some((_, at, width, vector)) = r.channels.iter().find(|c| c.0 == name) else {
            let names: Vec<&str> = r.channels.iter().map(|c| c.0.as_str()).collect();
            let mut d = Diagnostic::error(
                &codes::NAME_UNKNOWN,
                format!(
                    "`{name}` is not a state or output of network `{}`'s system",
                    r.network
                ),
            )
            .at(item.span, format!("{what} names a state or output"));
            d = match did_you_mean(name, names.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("its states and outputs are {}", names.join(", "))),
            };
            diags.push(d);
            return None;
        };
        let picked: Vec<usize> = match sub {
            None => {
                texts.push(name.to_string());
                (*at..at + width).collect()
            }
            Some(i) => {
                let k = match &i.unparen().kind {
                    ExprKind::Number(k) if k.fract() == 0.0 && *k >= 0.0 => Some(*k),
                    _ => None,
                };
                match k {
                    Some(k) if *vector && (k as usize) < *width => {
                        texts.push(format!("{name}[{}]", k as usize));
                        vec![at + k as usize]
                    }
                    _ => {
                        let d = Diagnostic::error(
                            &codes::SHAPE_INDEX,
                            if *vector {
                                format!(
                                    "`{name}` has {width} components: an index is a whole \
                                     number from 0 to {}",
                                    width - 1
                                )
                            } else {
                                format!("`{name}` is a scalar: it has no components")
                            },
                        )
                        .at(i.span, "this index");
                        diags.push(if *vector {
                            d.help(format!("components count from 0: `{name}[0]`"))
                        } else {
                            d.help(format!("write `{name}`"))
                        });
                        return None;
                    }
                }
            }
        };
        for c in picked {
            if index.contains(&c) {
                diags.push(
                    Diagnostic::error(
                        &codes::CALL_BAD_ARG,
                        format!("{what} names a component twice"),
                    )
                    .at(item.span, "named before in the same list"),
                );
                return None;
            }
            index.push(c);
        }
    }
    let text = if list {
        format!("[{}]", texts.join(", "))
    } else {
        texts.concat()
    };
    Some(Components { text, index })
}

/// Warns where a bare number of 1 or more is compared with a metric whose value is a
/// fraction (printed in percent): `nrmse < 5` means 500 %.
fn bare_fractions(h: &HExpr, db: &crate::source::SourceDb, diags: &mut Vec<Diagnostic>) {
    match &h.kind {
        HKind::Binary(op, a, b) if op.is_comparison() => {
            for (m, bound) in [(a, b), (b, a)] {
                let HKind::Metric(metric) = &m.kind else {
                    continue;
                };
                if !matches!(metric.show(), Show::Percent(_)) || !bound.bare || !bound.constant {
                    continue;
                }
                let Some(x) = eval_const(bound, &|_| None).ok().and_then(|v| v.as_f64()) else {
                    continue;
                };
                if x < 1.0 {
                    continue;
                }
                let written = db.text(bound.span.file)[bound.span.range()]
                    .trim()
                    .to_string();
                let literal = matches!(bound.kind, HKind::Num(_));
                let fix = if literal {
                    format!("{written}%")
                } else {
                    format!("{}%", crate::sema::lower::fmt_num(x))
                };
                let name = metric.name();
                let mut d = Diagnostic::warning(
                    &codes::CHECK_BARE_FRACTION,
                    format!(
                        "`{name}` is a fraction: the bare `{written}` compared with it means {} %",
                        crate::sema::lower::fmt_num(100.0 * x)
                    ),
                )
                .at(
                    bound.span,
                    format!("{} %", crate::sema::lower::fmt_num(100.0 * x)),
                )
                .at(m.span, "a fraction, shown in percent");
                d = if x == 1.0 {
                    d.help(format!(
                        "write `1%` for one percent, or `100%` for the whole; a bare number \
                         compared with `{name}` is a fraction (`0.05` is 5 %)"
                    ))
                } else {
                    d.help(format!(
                        "write `{fix}` for a percentage; a bare number compared with `{name}` \
                         is a fraction (`0.05` is 5 %)"
                    ))
                    .suggest(bound.span, fix)
                };
                diags.push(d);
            }
        }
        HKind::Binary(_, a, b) => {
            bare_fractions(a, db, diags);
            bare_fractions(b, db, diags);
        }
        HKind::Unary(_, a) => bare_fractions(a, db, diags),
        HKind::If(c, a, b) => {
            bare_fractions(c, db, diags);
            bare_fractions(a, db, diags);
            bare_fractions(b, db, diags);
        }
        _ => {}
    }
}

/// Resolves a metric name or call; `None` when `e` is not about metrics at all. `broken`
/// are items defined with errors (already reported): naming one is silently an error.
fn metric(
    e: &ast::Expr,
    tasks: &[(String, usize)],
    broken: &[String],
    target: &Result<Readout, Option<String>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Option<HExpr>> {
    let (head, args) = match &e.kind {
        ExprKind::Call(f, args) => (f.as_ref(), args.as_slice()),
        _ => (e, &[][..]),
    };
    let name = head.as_name()?;
    let (Some(m), Some(info)) = (Metric::entry(name), Metric::info(name)) else {
        if Func::from_name(name).is_some() {
            return None;
        }
        let mut d = Diagnostic::error(
            &codes::CHECK_UNKNOWN_METRIC,
            format!("unknown metric `{name}`"),
        )
        .at(head.span, "not a metric");
        d = match did_you_mean(name, Metric::ALL.iter().map(|m| m.name)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help("`rnnc explain rnnc::check::unknown_metric` lists the metrics"),
        };
        diags.push(d);
        return Some(None);
    };
    if info.needs_arg && args.is_empty() {
        let first = m.opts.first().map_or("", |o| o.name);
        let example = match m.opts.first().map(|o| o.kind) {
            Some(OptKind::Task) => format!("write `{name}(TaskName)`"),
            _ => format!("write `{name}(2)` for the second `{first}`"),
        };
        diags.push(
            Diagnostic::error(&codes::EXPR_ARITY, format!("`{name}` needs an argument"))
                .at(e.span, "missing")
                .help(example),
        );
        return Some(None);
    }
    let mut given: Vec<(&'static str, OptValue)> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let opt = match &a.name {
            Some(n) => m.opts.iter().find(|o| o.name == n.node),
            None => (i == 0).then(|| m.opts.first()).flatten(),
        };
        let Some(opt) = opt else {
            let list: Vec<&str> = m.opts.iter().map(|o| o.name).collect();
            diags.push(
                Diagnostic::error(
                    &codes::EXPR_ARITY,
                    format!("`{name}` does not take this argument"),
                )
                .at(a.value.span, "unexpected")
                .help(if list.is_empty() {
                    format!("`{name}` takes no arguments")
                } else {
                    format!("its arguments are {}", list.join(", "))
                }),
            );
            return Some(None);
        };
        let value = match (opt.kind, a.value.as_name()) {
            (OptKind::Task, Some(n)) => match tasks.iter().find(|(t, _)| t == n) {
                Some((_, i)) => OptValue::Task(*i),
                // A task defined with errors: its diagnostics said it all.
                None if broken.iter().any(|b| b == n) => return Some(None),
                None => {
                    let mut d = Diagnostic::error(&codes::NAME_UNKNOWN, format!("no task `{n}`"))
                        .at(a.value.span, format!("`{name}` needs a task"));
                    if let Some(s) = did_you_mean(n, tasks.iter().map(|(t, _)| t.as_str())) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                    return Some(None);
                }
            },
            (OptKind::Name, _) => {
                let what = format!("`{}` of `{name}`", opt.name);
                match components(&a.value, &what, target, diags) {
                    Some(c) => OptValue::Components(c),
                    None => return Some(None),
                }
            }
            (OptKind::Sym(choices), n) => match n {
                Some(s) if choices.contains(&s) => OptValue::Sym(s.into()),
                other => {
                    let mut d = Diagnostic::error(
                        &codes::CALL_BAD_ARG,
                        format!(
                            "`{}` of `{name}` is one of {}",
                            opt.name,
                            choices.join(", ")
                        ),
                    )
                    .at(a.value.span, "not one of these");
                    if let Some(s) = other.and_then(|s| did_you_mean(s, choices.iter().copied())) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                    return Some(None);
                }
            },
            _ => {
                let scope = Scope::default();
                let Some(h) = (Lower {
                    scope: &scope,
                    diags,
                })
                .expr(&a.value) else {
                    return Some(None);
                };
                let want = match opt.kind {
                    OptKind::Num(d) => d,
                    _ => 0,
                };
                let what = format!("`{}` of `{name}`", opt.name);
                if (Lower {
                    scope: &scope,
                    diags,
                })
                .expect_dim(&h, want, &what)
                .is_none()
                {
                    return Some(None);
                }
                let x = match eval_const(&h, &|_| None).ok().and_then(|v| v.as_f64()) {
                    Some(x) => x,
                    None => {
                        diags.push(
                            Diagnostic::error(
                                &codes::EXPR_NOT_CONSTANT,
                                "a metric's argument must be a constant",
                            )
                            .at(a.value.span, "not a constant"),
                        );
                        return Some(None);
                    }
                };
                let fits = match opt.kind {
                    OptKind::Int(min) => x.fract() == 0.0 && x >= min as f64,
                    OptKind::Fraction => (0.0..=1.0).contains(&x),
                    OptKind::Num(_) => x >= 0.0,
                    _ => true,
                };
                if !fits {
                    let expected = match opt.kind {
                        OptKind::Int(min) => format!("a whole number >= {min}"),
                        other => other.describe(),
                    };
                    diags.push(
                        Diagnostic::error(
                            &codes::CALL_BAD_ARG,
                            format!("`{}` of `{name}` must be {expected}", opt.name),
                        )
                        .at(a.value.span, "here"),
                    );
                    return Some(None);
                }
                OptValue::Num(x)
            }
        };
        given.push((opt.name, value));
    }
    // Defaults, filled once here from the declaration.
    let mut options = Vec::new();
    for opt in m.opts {
        if let Some((_, v)) = given.iter().find(|(n, _)| *n == opt.name) {
            options.push((opt.name, v.clone()));
            continue;
        }
        if let Some(v) = opt.default.value() {
            options.push((opt.name, v));
        }
    }
    let Some(metric) = Metric::from_call(&decl::Call {
        name: m.name,
        options,
    }) else {
        diags.push(
            Diagnostic::error(&codes::EXPR_ARITY, format!("`{name}` needs an argument"))
                .at(e.span, "missing"),
        );
        return Some(None);
    };
    let (ty, dim) = match info.ty {
        MetricType::Num(d) => (Type::Num(Shape::Scalar), d),
        MetricType::Bool => (Type::Bool, 0),
    };
    Some(Some(HExpr {
        kind: HKind::Metric(metric),
        ty,
        dim,
        constant: false,
        bare: false,
        span: e.span,
    }))
}

#[cfg(test)]
mod tests {
    use crate::driver;
    use crate::source::{MemLoader, SourceDb};

    fn codes(src: &str) -> Vec<&'static str> {
        let mut db = SourceDb::new();
        let a = driver::analyze_text(&mut db, &MemLoader::default(), "test.rnn", src);
        a.diagnostics.iter().map(|d| d.code.name).collect()
    }

    const TASK: &str = "task T {\n input cue\n output y\n trial {\n \
        period a 100 ms { cue = 1 }\n period b 100 ms { expect y = 1 within 0.2 } } }\n\
        network n for T { neurons = 100 }\n";

    #[test]
    fn accuracy_of_a_broken_task_is_silent() {
        let broken = TASK.replace("cue = 1", "cues = 1");
        let src = format!("{broken}check n {{ expect accuracy(T) > 90% }}\n");
        assert_eq!(codes(&src), ["rnnc::task::not_input"]);
    }

    #[test]
    fn accuracy_of_an_unknown_task_is_reported() {
        let src = format!("{TASK}check n {{ expect accuracy(Task) > 90% }}\n");
        assert_eq!(codes(&src), ["rnnc::name::unknown"]);
    }
}
