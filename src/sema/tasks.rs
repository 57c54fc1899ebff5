//! Tasks: channels, conditions, draws and trials of periods.

use super::hir::*;
use super::items::Sema;
use super::lower::{Binding, Lower, Scope};
use super::model::*;
use crate::diag::{codes, did_you_mean, Diagnostic};
use crate::syntax::ast::{self, BinOp, ExprKind};

impl Sema<'_> {
    pub(crate) fn task(&mut self, t: &ast::Task) -> Option<Task> {
        let errors_before = self.error_count();
        let mut names = Vec::new();
        let params = self.params(&t.params, &mut names)?;
        let defaults: Vec<Value> = params.iter().map(|p| p.default.clone()).collect();
        let lookup = |i: usize| defaults.get(i).cloned();
        let mut inputs: Vec<Channel> = Vec::new();
        let mut outputs: Vec<Channel> = Vec::new();
        let mut locals: Vec<Local> = Vec::new();
        let mut repeats = 1;
        // Declarations first: channels, conditions, draws, repetitions.
        for st in &t.body {
            let const_scope = Scope {
                names: names.clone(),
                params: &lookup,
                ..Scope::default()
            };
            match st {
                ast::TaskStmt::Input { decls, range, .. } => {
                    let range = range.as_ref().and_then(|r| self.region(&const_scope, r));
                    for d in decls {
                        let size = self.size(&const_scope, d)?;
                        let taken: Vec<&Channel> = outputs.iter().chain(&inputs).collect();
                        if let Some(c) = self.channel(&names, &taken, d, size, range.clone()) {
                            inputs.push(c);
                        }
                    }
                }
                ast::TaskStmt::Output { decls, value, span } => {
                    if value.is_some() {
                        self.diags.push(
                            Diagnostic::error(&codes::TASK_BAD_EXPECT, "a task output has no formula")
                                .at(*span, "the task says what the output must be with `expect` inside periods"),
                        );
                        continue;
                    }
                    for d in decls {
                        let size = self.size(&const_scope, d)?;
                        let taken: Vec<&Channel> = outputs.iter().chain(&inputs).collect();
                        if let Some(c) = self.channel(&names, &taken, d, size, None) {
                            outputs.push(c);
                        }
                    }
                }
                ast::TaskStmt::Vary { name, values } => {
                    let Some((v, h)) = self.constant(&const_scope, values) else {
                        self.declare(&mut names, name, Binding::poisoned(name));
                        continue;
                    };
                    let values = v.as_slice().map(<[f64]>::to_vec).unwrap_or_default();
                    if !matches!(h.ty, Type::Num(Shape::Scalar | Shape::Vector(_))) {
                        self.diags.push(
                            Diagnostic::error(&codes::EXPR_TYPE, "`vary` takes a list of values")
                                .at(values_span(&h), h.ty.describe()),
                        );
                        continue;
                    }
                    let b = Binding {
                        name: name.node.clone(),
                        var: Var::Local(locals.len()),
                        ty: Type::Num(Shape::Scalar),
                        dim: h.dim,
                        constant: false,
                        span: name.span,
                    };
                    if self.declare(&mut names, name, b) {
                        locals.push(Local {
                            name: name.node.clone(),
                            kind: LocalKind::Vary(values),
                            dim: h.dim,
                            span: name.span,
                        });
                    }
                }
                ast::TaskStmt::Draw { name, dist } => {
                    let Some((d, dim)) = self.dist(&const_scope, dist) else {
                        self.declare(&mut names, name, Binding::poisoned(name));
                        continue;
                    };
                    let b = Binding {
                        name: name.node.clone(),
                        var: Var::Local(locals.len()),
                        ty: Type::Num(Shape::Scalar),
                        dim,
                        constant: false,
                        span: name.span,
                    };
                    if self.declare(&mut names, name, b) {
                        locals.push(Local {
                            name: name.node.clone(),
                            kind: LocalKind::Draw(d),
                            dim,
                            span: name.span,
                        });
                    }
                }
                ast::TaskStmt::Trials { count, .. } => {
                    if let Some(n) =
                        self.whole(&const_scope, count, 1, &codes::CALL_BAD_ARG, "`trials`")
                    {
                        repeats = n as usize;
                    }
                }
                ast::TaskStmt::Trial(_) | ast::TaskStmt::Error(_) => {}
            }
        }
        // Trials.
        let mut trials = Vec::new();
        for st in &t.body {
            let ast::TaskStmt::Trial(tr) = st else {
                continue;
            };
            if tr.periods.is_empty() {
                self.diags.push(
                    Diagnostic::error(&codes::TASK_NO_TRIAL, "a trial without periods")
                        .at(tr.span, "add `period name duration { ... }`"),
                );
                continue;
            }
            let mut periods = Vec::new();
            for p in &tr.periods {
                if let Some(p) = self.period(&names, &lookup, &inputs, &outputs, &locals, p) {
                    periods.push(p);
                }
            }
            trials.push(Trial {
                name: tr.name.as_ref().map(|n| n.node.clone()),
                periods,
                span: tr.span,
            });
        }
        if !t.body.iter().any(|s| matches!(s, ast::TaskStmt::Trial(_))) {
            self.diags.push(
                Diagnostic::error(
                    &codes::TASK_NO_TRIAL,
                    format!("task `{}` has no trial", t.name.node),
                )
                .at(t.name.span, "a task is a set of trials")
                .help("add `trial { period name duration { ... } }`"),
            );
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(Task {
            name: t.name.node.clone(),
            span: t.name.span,
            params,
            inputs,
            outputs,
            locals,
            repeats,
            trials,
        })
    }

    /// A new input or output channel, unless its name is taken.
    fn channel(
        &mut self,
        names: &[Binding],
        taken: &[&Channel],
        d: &ast::Decl,
        size: Option<usize>,
        range: Option<RegionExpr>,
    ) -> Option<Channel> {
        let c = Channel {
            name: d.name.node.clone(),
            size,
            range,
            span: d.name.span,
        };
        let mut visible = names.to_vec();
        visible.extend(taken.iter().map(|t| channel_binding(t)));
        self.declare(&mut visible, &d.name, channel_binding(&c))
            .then_some(c)
    }

    /// `uniform(a, b)`, `normal(m, sd)`, `exponential(mean, max = m)`, `choice([...])`.
    fn dist(&mut self, scope: &Scope<'_>, e: &ast::Expr) -> Option<(Dist, Dim)> {
        let bad = |this: &mut Self, msg: String| {
            this.diags.push(
                Diagnostic::error(&codes::TASK_BAD_DISTRIBUTION, msg)
                    .at(e.span, "not a distribution")
                    .help("use `uniform(a, b)`, `normal(mean, sd)`, `exponential(mean, max = m)` or `choice([v0, v1])`"),
            );
            None
        };
        let ExprKind::Call(f, args) = &e.kind else {
            return bad(self, "`draw` needs a distribution".into());
        };
        let name = f.as_name().unwrap_or("");
        let params: &[&str] = match name {
            "uniform" => &["a", "b"],
            "normal" => &["mean", "sd"],
            "exponential" => &["mean", "max"],
            "choice" => &["values"],
            _ => {
                let mut msg = format!("unknown distribution `{name}`");
                if let Some(s) = did_you_mean(name, ["uniform", "normal", "exponential", "choice"])
                {
                    msg.push_str(&format!(" (did you mean `{s}`?)"));
                }
                return bad(self, msg);
            }
        };
        let mut vals: Vec<Option<(Value, Dim)>> = vec![None; params.len()];
        for (i, a) in args.iter().enumerate() {
            let pos = match &a.name {
                Some(n) => params.iter().position(|p| *p == n.node),
                None => (i < params.len()).then_some(i),
            };
            let Some(pos) = pos else {
                return bad(self, format!("`{name}` takes {}", params.join(", ")));
            };
            let (v, h) = self.constant(scope, &a.value)?;
            vals[pos] = Some((v, h.dim));
        }
        let num = |i: usize| vals[i].as_ref().and_then(|(v, _)| v.as_f64());
        let dim = vals[0].as_ref().map_or(0, |v| v.1);
        if let Some((_, d)) = vals.iter().flatten().find(|(_, d)| *d != dim) {
            self.diags.push(
                Diagnostic::error(
                    &codes::UNITS_MISMATCH,
                    format!("the arguments of `{name}` differ in dimension"),
                )
                .at(
                    e.span,
                    format!(
                        "{} and {}",
                        super::lower::dim_name(dim),
                        super::lower::dim_name(*d)
                    ),
                ),
            );
            return None;
        }
        let d = match name {
            "uniform" => match (num(0), num(1)) {
                (Some(a), Some(b)) if a <= b => Dist::Uniform(a, b),
                _ => return bad(self, "`uniform(a, b)` needs numbers a <= b".into()),
            },
            "normal" => match (num(0), num(1)) {
                (Some(m), Some(s)) if s >= 0.0 => Dist::Normal(m, s),
                _ => return bad(self, "`normal(mean, sd)` needs a mean and sd >= 0".into()),
            },
            "exponential" => match num(0) {
                Some(m) if m > 0.0 => Dist::Exponential {
                    mean: m,
                    max: num(1),
                },
                _ => return bad(self, "`exponential(mean)` needs a positive mean".into()),
            },
            _ => match vals[0].as_ref().and_then(|(v, _)| v.as_slice()) {
                Some(xs) if !xs.is_empty() => Dist::Choice(xs.to_vec()),
                _ => return bad(self, "`choice([...])` needs a list".into()),
            },
        };
        Some((d, dim))
    }

    fn period(
        &mut self,
        names: &[Binding],
        lookup: &dyn Fn(usize) -> Option<Value>,
        inputs: &[Channel],
        outputs: &[Channel],
        locals: &[Local],
        p: &ast::Period,
    ) -> Option<Period> {
        let errors_before = self.error_count();
        // Durations: a time, a drawn name, or a distribution.
        let mut constant = None;
        let dscope = Scope {
            names: names.to_vec(),
            params: lookup,
            ..Scope::default()
        };
        let duration = match &p.duration.kind {
            ExprKind::Call(f, _)
                if matches!(
                    f.as_name(),
                    Some("uniform" | "normal" | "exponential" | "choice")
                ) =>
            {
                let (d, dim) = self.dist(&dscope, &p.duration)?;
                if dim != 1 {
                    self.time_required(&p.duration, dim == 0);
                    return None;
                }
                Duration::Dist(d)
            }
            _ => {
                let h = Lower {
                    scope: &dscope,
                    diags: &mut self.diags,
                }
                .expr(&p.duration)?;
                Lower {
                    scope: &dscope,
                    diags: &mut self.diags,
                }
                .expect_dim(&h, 1, "a period's duration")?;
                if h.constant {
                    let v = self.eval(&dscope, &h)?;
                    constant = v.as_f64();
                    if v.as_f64().is_some_and(|x| x <= 0.0) {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::TASK_ZERO_STEPS,
                                "a period must last longer than zero",
                            )
                            .at(p.duration.span, "not positive"),
                        );
                        return None;
                    }
                }
                Duration::Expr(h)
            }
        };
        // The longest the period can last, and whether that is its only duration.
        let longest = match (&duration, constant) {
            (_, Some(x)) => Some((x, true)),
            (Duration::Dist(d), _) => dist_max(d).map(|x| (x, false)),
            (Duration::Expr(h), None) => match h.kind {
                HKind::Var(Var::Local(i)) => locals.get(i).and_then(|l| match &l.kind {
                    LocalKind::Vary(xs) => xs.iter().copied().reduce(f64::max),
                    LocalKind::Draw(d) => dist_max(d),
                }),
                _ => None,
            }
            .map(|x| (x, false)),
        };
        let scope = Scope {
            names: names.to_vec(),
            params: lookup,
            time: true,
            signals: true,
            check_dims: false,
            ..Scope::default()
        };
        let mut assigns = Vec::new();
        let mut expects = Vec::new();
        for st in &p.body {
            match st {
                ast::PeriodStmt::Assign(a) => {
                    let Some(i) = inputs.iter().position(|c| c.name == a.name.node) else {
                        let mut d = Diagnostic::error(
                            &codes::TASK_NOT_INPUT,
                            format!("`{}` is not an input of this task", a.name.node),
                        )
                        .at(a.name.span, "periods set input channels");
                        d = if outputs.iter().any(|o| o.name == a.name.node) {
                            d.help(format!(
                                "`{}` is an output: write `expect {} = ... within tol`",
                                a.name.node, a.name.node
                            ))
                        } else if let Some(s) =
                            did_you_mean(&a.name.node, inputs.iter().map(|c| c.name.as_str()))
                        {
                            d.help(format!("did you mean `{s}`?"))
                        } else {
                            d.help(format!("declare it: `input {}`", a.name.node))
                        };
                        self.diags.push(d);
                        continue;
                    };
                    if assigns.iter().any(|(j, _)| *j == i) {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::NAME_DUPLICATE,
                                format!("`{}` is set twice in this period", a.name.node),
                            )
                            .at(a.name.span, "second assignment"),
                        );
                        continue;
                    }
                    let Some(h) = Lower {
                        scope: &scope,
                        diags: &mut self.diags,
                    }
                    .expr(&a.value) else {
                        continue;
                    };
                    if self.same_shape(&h, inputs[i].size, &a.name.node) {
                        assigns.push((i, h));
                    }
                }
                ast::PeriodStmt::Expect(x) => {
                    if let Some(e) = self.period_expect(&scope, outputs, x) {
                        if let (Some(a), Some(longest)) = (&x.after, longest) {
                            self.after_past_end(p, x, a, e.after, longest);
                        }
                        expects.push(e);
                    }
                }
                ast::PeriodStmt::Error(_) => {}
            }
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(Period {
            name: p.name.node.clone(),
            duration,
            assigns,
            expects,
            span: p.span,
        })
    }

    fn period_expect(
        &mut self,
        scope: &Scope<'_>,
        outputs: &[Channel],
        x: &ast::Expect,
    ) -> Option<Expectation> {
        let bad_form = |this: &mut Self| {
            this.diags.push(
                Diagnostic::error(&codes::TASK_BAD_EXPECT, "not an expectation a period can hold")
                    .at(x.span, "expected `expect out = value within tol` or `expect out > value`")
                    .help("the forms are `expect out = expr within tol (after d)` and `expect out > expr (after d)` / `<`"),
            );
            None
        };
        let (out_expr, target, rule_kind) = match (&x.eq, &x.within) {
            (Some(eq), Some(_)) => (&x.lhs, eq, None),
            (None, None) => match &x.lhs.kind {
                ExprKind::Binary(op @ (BinOp::Gt | BinOp::Lt), a, b) => {
                    (a.as_ref(), b.as_ref(), Some(*op))
                }
                _ => return bad_form(self),
            },
            (Some(_), None) => {
                self.diags.push(
                    Diagnostic::error(
                        &codes::TASK_BAD_EXPECT,
                        "`expect out = value` needs a tolerance",
                    )
                    .at(x.span, "no `within`")
                    .help("add `within 0.1` (the largest allowed |out - value|)"),
                );
                return None;
            }
            (None, Some(_)) => return bad_form(self),
        };
        let Some(name) = out_expr.as_name() else {
            return bad_form(self);
        };
        let Some(output) = outputs.iter().position(|o| o.name == name) else {
            let mut d = Diagnostic::error(
                &codes::TASK_NOT_OUTPUT,
                format!("`{name}` is not an output of this task"),
            )
            .at(out_expr.span, "expectations constrain output channels");
            if let Some(s) = did_you_mean(name, outputs.iter().map(|c| c.name.as_str())) {
                d = d.help(format!("did you mean `{s}`?"));
            } else {
                d = d.help(format!("declare it: `output {name}`"));
            }
            self.diags.push(d);
            return None;
        };
        let h = Lower {
            scope,
            diags: &mut self.diags,
        }
        .expr(target)?;
        let want = match outputs[output].size {
            None => Type::Num(Shape::Scalar),
            Some(k) => Type::Num(Shape::Vector(k)),
        };
        if h.ty != want && h.ty != Type::Num(Shape::Scalar) {
            self.diags.push(
                Diagnostic::error(
                    &codes::SHAPE_MISMATCH,
                    format!(
                        "`{name}` is {}, this is {}",
                        want.describe(),
                        h.ty.describe()
                    ),
                )
                .at(h.span, "here"),
            );
            return None;
        }
        let cscope = Scope {
            names: Vec::new(),
            ..Scope::default()
        };
        let after = match &x.after {
            None => 0.0,
            Some(a) => {
                let ha = Lower {
                    scope: &cscope,
                    diags: &mut self.diags,
                }
                .expr(a)?;
                Lower {
                    scope: &cscope,
                    diags: &mut self.diags,
                }
                .expect_dim(&ha, 1, "`after`")?;
                self.eval(&cscope, &ha)?.as_f64()?
            }
        };
        let rule = match rule_kind {
            Some(BinOp::Gt) => Rule::Above(h),
            Some(_) => Rule::Below(h),
            None => {
                let tol_expr = x.within.as_ref()?;
                let ht = Lower {
                    scope: &cscope,
                    diags: &mut self.diags,
                }
                .expr(tol_expr)?;
                if ht.dim != 0 {
                    Lower {
                        scope: &cscope,
                        diags: &mut self.diags,
                    }
                    .expect_dim(&ht, 0, "a tolerance")?;
                }
                let tol = self.eval(&cscope, &ht)?.as_f64()?;
                if tol < 0.0 {
                    self.diags.push(
                        Diagnostic::error(&codes::CALL_BAD_ARG, "a tolerance cannot be negative")
                            .at(tol_expr.span, "negative"),
                    );
                    return None;
                }
                Rule::Within { target: h, tol }
            }
        };
        Some(Expectation {
            output,
            rule,
            after,
            span: x.span,
        })
    }

    /// `expect ... after d` in a period that is over by then: an error when the period's
    /// duration is a constant, a warning when even its longest possible duration is over.
    fn after_past_end(
        &mut self,
        p: &ast::Period,
        x: &ast::Expect,
        a: &ast::Expr,
        after: f64,
        (longest, exact): (f64, bool),
    ) {
        if after < longest {
            return;
        }
        // From the `after` keyword to the end of its value.
        let text = self.db.text(a.span.file);
        let start = text
            .get(x.span.start as usize..a.span.start as usize)
            .and_then(|s| s.rfind("after"))
            .map_or(a.span.start, |i| x.span.start + i as u32);
        let at = crate::span::Span { start, ..a.span };
        let written = text.get(a.span.range()).unwrap_or("").trim();
        let (name, lasts) = (&p.name.node, fmt_time(longest));
        let help = format!(
            "`after` counts from the start of period `{name}`, not of the trial: use a delay \
             shorter than {lasts}, or move the `expect` into the period where it should hold"
        );
        let d = if exact {
            Diagnostic::error(
                &codes::TASK_AFTER_PAST_END,
                format!("`after {written}` is not inside period `{name}`, which lasts {lasts}"),
            )
            .at(at, "the expectation would hold on no step")
            .at(p.duration.span, format!("period `{name}` lasts {lasts}"))
        } else {
            Diagnostic::warning(
                &codes::TASK_AFTER_PAST_END,
                format!(
                    "`after {written}` is not inside period `{name}` in any trial: it lasts at most {lasts}"
                ),
            )
            .at(at, "the expectation would hold on no step of any trial")
            .at(p.duration.span, format!("at most {lasts}"))
        };
        self.diags.push(d.help(help));
    }

    fn time_required(&mut self, e: &ast::Expr, bare: bool) {
        let d = if bare {
            Diagnostic::error(
                &codes::UNITS_EXPECTED_TIME,
                "a period's duration must be a time, found a plain number",
            )
            .at(e.span, "no unit")
            .help("write the bounds with a unit: `uniform(200 ms, 600 ms)`")
        } else {
            Diagnostic::error(&codes::UNITS_MISMATCH, "a period's duration must be a time")
                .at(e.span, "not a time")
        };
        self.diags.push(d);
    }
}

fn channel_binding(c: &Channel) -> Binding {
    Binding {
        name: c.name.clone(),
        var: Var::Input(0),
        ty: Type::Num(Shape::Scalar),
        dim: 0,
        constant: false,
        span: c.span,
    }
}

fn values_span(h: &HExpr) -> crate::span::Span {
    h.span
}

/// The largest value a distribution can draw, when it has one.
fn dist_max(d: &Dist) -> Option<f64> {
    match d {
        Dist::Uniform(_, b) => Some(*b),
        Dist::Choice(xs) => xs.iter().copied().reduce(f64::max),
        Dist::Exponential { max, .. } => *max,
        Dist::Normal(..) => None,
    }
}

/// A duration in seconds as a person writes it: `100 ms`, `1.5 s`, `250 us`.
fn fmt_time(secs: f64) -> String {
    let round = |x: f64| (x * 1e6).round() / 1e6;
    if secs >= 1.0 {
        format!("{} s", super::lower::fmt_num(round(secs)))
    } else if secs >= 1e-3 {
        format!("{} ms", super::lower::fmt_num(round(secs * 1e3)))
    } else {
        format!("{} us", super::lower::fmt_num(round(secs * 1e6)))
    }
}
