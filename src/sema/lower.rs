//! Lowering of expressions from the AST to [`HExpr`]: name resolution, types, shapes and
//! dimensions. Contexts (a system body, a trial period, a check) differ only in the
//! [`Scope`] they pass.

use super::hir::*;
use crate::diag::{codes, did_you_mean, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::{Arg, BinOp, Expr, ExprKind, UnOp};

/// Resolves metric names and calls in a check: `None` when the expression is no metric at
/// all, `Some(None)` when it is one with an error (already reported).
pub type MetricHook = dyn Fn(&Expr, &mut Vec<Diagnostic>) -> Option<Option<HExpr>>;

/// A name visible in a scope.
#[derive(Clone, Debug)]
pub struct Binding {
    pub name: String,
    pub var: Var,
    pub ty: Type,
    pub dim: Dim,
    pub constant: bool,
    pub span: Span,
}

/// Where an expression stands, and what it may use.
pub struct Scope<'a> {
    pub names: Vec<Binding>,
    /// `t` is allowed (drives and trial periods).
    pub time: bool,
    /// Signals (`pulse`, `noise`, ...) are allowed.
    pub signals: bool,
    /// Dimensions are checked (fields, durations, checks), not only computed.
    pub check_dims: bool,
    /// What `t` in the wrong place is reported as.
    pub time_code: &'static crate::diag::Code,
    /// Values of parameters, for constant sub-expressions such as indices.
    pub params: &'a dyn Fn(usize) -> Option<Value>,
    /// Resolves metric names and calls (checks only).
    pub metrics: Option<&'a MetricHook>,
}

fn no_params(_: usize) -> Option<Value> {
    None
}

impl Default for Scope<'_> {
    fn default() -> Self {
        Scope {
            names: Vec::new(),
            time: false,
            signals: false,
            check_dims: true,
            time_code: &codes::EXPR_NOT_CONSTANT,
            params: &no_params,
            metrics: None,
        }
    }
}

impl Binding {
    /// A name whose definition failed (see [`Var::Poisoned`]).
    pub fn poisoned(name: &crate::span::Ident) -> Binding {
        Binding {
            name: name.node.clone(),
            var: Var::Poisoned,
            ty: Type::Num(Shape::Scalar),
            dim: 0,
            constant: false,
            span: name.span,
        }
    }
}

impl Scope<'_> {
    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        self.names.iter().rev().find(|b| b.name == name)
    }

    pub fn bind(&mut self, b: Binding) {
        self.names.push(b);
    }
}

pub const UNITS: &[(&str, f64, Dim)] = &[
    ("s", 1.0, 1),
    ("ms", 1e3, 1),
    ("us", 1e6, 1),
    ("Hz", 1.0, -1),
    ("%", 100.0, 0),
];

pub fn dim_name(d: Dim) -> String {
    match d {
        0 => "a plain number".into(),
        1 => "a time".into(),
        -1 => "a frequency (per second)".into(),
        d => format!("time^{d}"),
    }
}

fn num(kind: HKind, shape: Shape, dim: Dim, span: Span) -> HExpr {
    HExpr {
        kind,
        ty: Type::Num(shape),
        dim,
        constant: true,
        bare: false,
        span,
    }
}

pub struct Lower<'s, 'd> {
    pub scope: &'s Scope<'s>,
    pub diags: &'d mut Vec<Diagnostic>,
}

impl Lower<'_, '_> {
    fn err(&mut self, d: Diagnostic) -> Option<HExpr> {
        self.diags.push(d);
        None
    }

    pub fn expr(&mut self, e: &Expr) -> Option<HExpr> {
        let span = e.span;
        match &e.kind {
            ExprKind::Number(x) => Some(HExpr {
                bare: true,
                ..num(HKind::Num(*x), Shape::Scalar, 0, span)
            }),
            ExprKind::Quantity(x, unit) => match UNITS.iter().find(|(u, ..)| u == unit) {
                Some((_, div, dim)) => Some(num(HKind::Num(x / div), Shape::Scalar, *dim, span)),
                None => {
                    let known = UNITS.iter().map(|u| u.0);
                    let mut d =
                        Diagnostic::error(&codes::UNITS_UNKNOWN, format!("unknown unit `{unit}`"))
                            .at(span, "units are s, ms, us, Hz and %");
                    d = match did_you_mean(unit, known) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("for a product write `{} * {unit}`", fmt_num(*x))),
                    };
                    self.err(d)
                }
            },
            ExprKind::Bool(b) => Some(HExpr {
                ty: Type::Bool,
                ..num(HKind::Bool(*b), Shape::Scalar, 0, span)
            }),
            ExprKind::Str(s) => Some(HExpr {
                ty: Type::Str,
                ..num(HKind::Str(s.clone()), Shape::Scalar, 0, span)
            }),
            ExprKind::Paren(inner) => {
                let mut h = self.expr(inner)?;
                h.span = span;
                Some(h)
            }
            ExprKind::Name(n) => self.name(n, e),
            ExprKind::Unary(op, a) => {
                let a = self.expr(a)?;
                match op {
                    UnOp::Neg => self.want_num(&a, "`-`")?,
                    UnOp::Not => self.want_bool(&a, "`not`")?,
                }
                // The operand moves into the node (a clone here made `- - - x` quadratic).
                Some(HExpr {
                    ty: a.ty,
                    dim: a.dim,
                    constant: a.constant,
                    bare: a.bare,
                    span,
                    kind: HKind::Unary(*op, Box::new(a)),
                })
            }
            ExprKind::Binary(op, a, b) => {
                let ha = self.expr(a);
                let hb = self.expr(b);
                let (ha, hb) = (ha?, hb?);
                if *op == BinOp::Div
                    && matches!(b.kind, ExprKind::Quantity(..))
                    && !matches!(a.kind, ExprKind::Paren(_))
                {
                    if let ExprKind::Quantity(v, u) = &b.kind {
                        self.diags.push(
                            Diagnostic::warning(
                                &codes::UNITS_AMBIGUOUS,
                                format!("`{u}` binds to `{}` only", fmt_num(*v)),
                            )
                            .at(b.span, format!("this is `({} {u})`", fmt_num(*v)))
                            .help(format!(
                                "write `/ ({} {u})` to say so, or put the unit on the whole value",
                                fmt_num(*v)
                            )),
                        );
                    }
                }
                self.binary(*op, ha, hb, span)
            }
            ExprKind::If(c, a, b) => {
                let hc = self.expr(c);
                let ha = self.expr(a);
                let hb = self.expr(b);
                let (hc, ha, hb) = (hc?, ha?, hb?);
                self.want_bool(&hc, "`if`")?;
                if ha.ty != hb.ty {
                    return self.err(
                        Diagnostic::error(&codes::SHAPE_MISMATCH, "the branches of `if` differ")
                            .at(ha.span, ha.ty.describe())
                            .at(hb.span, hb.ty.describe()),
                    );
                }
                let constant = hc.constant && ha.constant && hb.constant;
                Some(HExpr {
                    ty: ha.ty,
                    dim: ha.dim,
                    constant,
                    bare: ha.bare && hb.bare,
                    span,
                    kind: HKind::If(Box::new(hc), Box::new(ha), Box::new(hb)),
                })
            }
            ExprKind::Vector(items) => self.array(items, span),
            ExprKind::Index(a, i) => {
                let ha = self.expr(a)?;
                let hi = self.expr(i)?;
                let len = match ha.ty {
                    Type::Num(Shape::Vector(n)) | Type::Num(Shape::Matrix(n, _)) => n,
                    other => {
                        return self.err(
                            Diagnostic::error(
                                &codes::SHAPE_INDEX,
                                format!("cannot index {}", other.describe()),
                            )
                            .at(a.span, "not a vector"),
                        )
                    }
                };
                let idx = self.const_index(&hi, len)?;
                let shape = match ha.shape() {
                    Shape::Matrix(_, c) => Shape::Vector(c),
                    _ => Shape::Scalar,
                };
                Some(HExpr {
                    ty: Type::Num(shape),
                    dim: ha.dim,
                    constant: ha.constant,
                    bare: ha.bare,
                    span,
                    kind: HKind::Index(Box::new(ha), idx),
                })
            }
            ExprKind::Member(_, m) => self.err(
                Diagnostic::error(&codes::NAME_UNKNOWN, format!("no member `{}` here", m.node)).at(
                    span,
                    "member access is only for `space.x`, `space.y`, `space.z` in constraints",
                ),
            ),
            ExprKind::Call(f, args) => self.call(e, f, args),
            // Reported by the parser.
            ExprKind::TooDeep => None,
            ExprKind::Range(..) => self.err(
                Diagnostic::error(&codes::EXPR_TYPE, "a range is not a value here")
                    .at(span, "`lo .. hi` is only a named argument's value"),
            ),
        }
    }

    fn name(&mut self, n: &str, e: &Expr) -> Option<HExpr> {
        let span = e.span;
        if let Some(b) = self.scope.lookup(n) {
            if b.var == Var::Poisoned {
                return None;
            }
            return Some(HExpr {
                kind: HKind::Var(b.var),
                ty: b.ty,
                dim: b.dim,
                constant: b.constant,
                bare: false,
                span,
            });
        }
        match n {
            "pi" => {
                return Some(num(
                    HKind::Num(std::f64::consts::PI),
                    Shape::Scalar,
                    0,
                    span,
                ))
            }
            "e" => return Some(num(HKind::Num(std::f64::consts::E), Shape::Scalar, 0, span)),
            "t" => {
                if self.scope.time {
                    return Some(HExpr {
                        constant: false,
                        ..num(HKind::Var(Var::Time), Shape::Scalar, 1, span)
                    });
                }
                let msg = if std::ptr::eq(self.scope.time_code, &codes::SYSTEM_TIME) {
                    "`t` cannot appear in a system"
                } else {
                    "`t` is not a constant"
                };
                let help = if std::ptr::eq(self.scope.time_code, &codes::SYSTEM_TIME) {
                    "declare an `input` and drive it from a check (`simulate 1 s with u = sine(1 Hz)`)"
                } else {
                    "`t` exists only in drives and trial periods"
                };
                return self.err(
                    Diagnostic::error(self.scope.time_code, msg)
                        .at(span, "time is not available here")
                        .help(help),
                );
            }
            _ => {}
        }
        if let Some(m) = self.scope.metrics {
            if let Some(res) = m(e, self.diags) {
                return res;
            }
        }
        if Func::from_name(n).is_some() {
            return self.err(
                Diagnostic::error(&codes::EXPR_TYPE, format!("`{n}` is a function"))
                    .at(span, "a function must be called")
                    .help(format!("write `{n}(...)`")),
            );
        }
        if !n.is_ascii() {
            // The lexer reported the non-ASCII letters and has no ASCII spelling for them.
            return None;
        }
        let candidates: Vec<&str> = self
            .scope
            .names
            .iter()
            .map(|b| b.name.as_str())
            .chain(["pi", "e"])
            .chain(self.scope.time.then_some("t"))
            .collect();
        let mut d = Diagnostic::error(&codes::NAME_UNKNOWN, format!("unknown name `{n}`"))
            .at(span, "not defined here");
        if let Some(s) = did_you_mean(n, candidates.iter().copied()) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        self.err(d)
    }

    pub fn want_num(&mut self, h: &HExpr, what: &str) -> Option<()> {
        match h.ty {
            Type::Num(_) => Some(()),
            other => {
                self.err(
                    Diagnostic::error(
                        &codes::EXPR_TYPE,
                        format!("{what} needs a number, found {}", other.describe()),
                    )
                    .at(h.span, "not a number"),
                );
                None
            }
        }
    }

    fn want_bool(&mut self, h: &HExpr, what: &str) -> Option<()> {
        if h.ty == Type::Bool {
            return Some(());
        }
        self.err(
            Diagnostic::error(
                &codes::EXPR_TYPE,
                format!("{what} needs a boolean, found {}", h.ty.describe()),
            )
            .at(h.span, "not a boolean")
            .help("compare it: `x > 0`"),
        );
        None
    }

    fn const_index(&mut self, hi: &HExpr, len: usize) -> Option<usize> {
        let v = if hi.constant {
            eval_const(hi, self.scope.params)
                .ok()
                .and_then(|v| v.as_f64())
        } else {
            None
        };
        match v {
            Some(x) if x >= 0.0 && x == x.trunc() && (x as usize) < len => Some(x as usize),
            Some(x) => {
                self.err(
                    Diagnostic::error(
                        &codes::SHAPE_INDEX,
                        format!("index {} out of range", fmt_num(x)),
                    )
                    .at(
                        hi.span,
                        format!("valid indices are 0 to {}", len.saturating_sub(1)),
                    ),
                );
                None
            }
            None => {
                self.err(
                    Diagnostic::error(&codes::SHAPE_INDEX, "index is not a constant whole number")
                        .at(hi.span, "indices must be known when compiling"),
                );
                None
            }
        }
    }

    fn array(&mut self, items: &[Expr], span: Span) -> Option<HExpr> {
        let hs: Vec<Option<HExpr>> = items.iter().map(|i| self.expr(i)).collect();
        let hs: Vec<HExpr> = hs.into_iter().collect::<Option<_>>()?;
        if hs.is_empty() {
            return self.err(
                Diagnostic::error(&codes::SHAPE_SIZE, "empty vector")
                    .at(span, "a vector needs at least one element"),
            );
        }
        for h in &hs {
            self.want_num(h, "a vector element")?;
        }
        let first = hs[0].shape();
        if let Some(bad) = hs.iter().find(|h| h.shape() != first) {
            return self.err(
                Diagnostic::error(&codes::SHAPE_MISMATCH, "rows of different shapes")
                    .at(hs[0].span, first.describe())
                    .at(bad.span, bad.shape().describe()),
            );
        }
        let shape = match first {
            Shape::Scalar => Shape::Vector(hs.len()),
            Shape::Vector(c) => Shape::Matrix(hs.len(), c),
            Shape::Matrix(..) => {
                return self.err(
                    Diagnostic::error(&codes::SHAPE_MISMATCH, "arrays have at most two dimensions")
                        .at(span, "nested too deep"),
                )
            }
        };
        if self.scope.check_dims {
            if let Some(bad) = hs
                .iter()
                .find(|h| h.dim != hs[0].dim && !h.bare && !hs[0].bare)
            {
                self.dim_mismatch(&hs[0], bad);
            }
        }
        // Flatten rows into scalars so the array is row-major scalars.
        let mut elems = Vec::with_capacity(shape.len());
        for h in hs.iter() {
            match h.kind.clone() {
                HKind::Array(inner) if matches!(h.shape(), Shape::Vector(_)) => elems.extend(inner),
                _ if h.shape() == Shape::Scalar => elems.push(h.clone()),
                _ => {
                    let n = h.shape().len();
                    for j in 0..n {
                        elems.push(HExpr {
                            ty: Type::Num(Shape::Scalar),
                            kind: HKind::Index(Box::new(h.clone()), j),
                            ..h.clone()
                        });
                    }
                }
            }
        }
        Some(HExpr {
            ty: Type::Num(shape),
            dim: hs[0].dim,
            constant: hs.iter().all(|h| h.constant),
            bare: hs.iter().all(|h| h.bare),
            span,
            kind: HKind::Array(elems),
        })
    }

    fn dim_mismatch(&mut self, a: &HExpr, b: &HExpr) {
        self.diags.push(
            Diagnostic::error(
                &codes::UNITS_MISMATCH,
                format!(
                    "cannot combine {} with {}",
                    dim_name(a.dim),
                    dim_name(b.dim)
                ),
            )
            .at(b.span, dim_name(b.dim))
            .at(a.span, dim_name(a.dim)),
        );
    }

    fn binary(&mut self, op: BinOp, a: HExpr, b: HExpr, span: Span) -> Option<HExpr> {
        let constant = a.constant && b.constant;
        let bare = a.bare && b.bare;
        if matches!(op, BinOp::And | BinOp::Or) {
            self.want_bool(&a, op.symbol())?;
            self.want_bool(&b, op.symbol())?;
            return Some(HExpr {
                kind: HKind::Binary(op, Box::new(a), Box::new(b)),
                ty: Type::Bool,
                dim: 0,
                constant,
                bare,
                span,
            });
        }
        self.want_num(&a, op.symbol())?;
        self.want_num(&b, op.symbol())?;
        let (sa, sb) = (a.shape(), b.shape());
        let mismatch = |this: &mut Self| {
            this.err(
                Diagnostic::error(
                    &codes::SHAPE_MISMATCH,
                    format!(
                        "`{}` of {} and {}",
                        op.symbol(),
                        sa.describe(),
                        sb.describe()
                    ),
                )
                .at(a.span, sa.describe())
                .at(b.span, sb.describe()),
            )
        };
        let shape = match op {
            BinOp::MatMul => match (sa, sb) {
                (Shape::Matrix(r, k), Shape::Vector(k2)) if k == k2 => Shape::Vector(r),
                (Shape::Matrix(r, k), Shape::Matrix(k2, c)) if k == k2 => Shape::Matrix(r, c),
                (Shape::Vector(k), Shape::Matrix(k2, c)) if k == k2 => Shape::Vector(c),
                (Shape::Vector(k), Shape::Vector(k2)) if k == k2 => Shape::Scalar,
                _ => return mismatch(self),
            },
            _ if sa == sb => sa,
            _ if sa == Shape::Scalar => sb,
            _ if sb == Shape::Scalar => sa,
            _ => return mismatch(self),
        };
        let check = self.scope.check_dims;
        let dim = match op {
            BinOp::Add | BinOp::Sub => {
                if check && a.dim != b.dim {
                    self.dim_mismatch(&a, &b);
                    return None;
                }
                a.dim
            }
            BinOp::Mul | BinOp::MatMul => a.dim.saturating_add(b.dim),
            BinOp::Div => a.dim.saturating_sub(b.dim),
            BinOp::Pow => {
                if a.dim == 0 {
                    0
                } else {
                    match eval_const(&b, self.scope.params)
                        .ok()
                        .and_then(|v| v.as_f64())
                    {
                        Some(p) if p == p.trunc() && b.constant => a.dim.saturating_mul(p as i8),
                        _ => {
                            if check {
                                self.dim_mismatch(&a, &b);
                                return None;
                            }
                            0
                        }
                    }
                }
            }
            _ => {
                // Comparisons: a bare number takes the other side's dimension.
                if check && a.dim != b.dim && !a.bare && !b.bare {
                    self.dim_mismatch(&a, &b);
                    return None;
                }
                if shape != Shape::Scalar {
                    return self.err(
                        Diagnostic::error(
                            &codes::SHAPE_MISMATCH,
                            format!(
                                "`{}` compares scalars, found {}",
                                op.symbol(),
                                shape.describe()
                            ),
                        )
                        .at(span, "compare components, or `norm(...)`"),
                    );
                }
                return Some(HExpr {
                    kind: HKind::Binary(op, Box::new(a), Box::new(b)),
                    ty: Type::Bool,
                    dim: 0,
                    constant,
                    bare,
                    span,
                });
            }
        };
        Some(HExpr {
            kind: HKind::Binary(op, Box::new(a), Box::new(b)),
            ty: Type::Num(shape),
            dim,
            constant,
            bare,
            span,
        })
    }

    fn call(&mut self, whole: &Expr, f: &Expr, args: &[Arg]) -> Option<HExpr> {
        let span = whole.span;
        let Some(name) = f.as_name() else {
            return self.err(
                Diagnostic::error(
                    &codes::EXPR_UNKNOWN_FUNCTION,
                    "only named functions can be called",
                )
                .at(f.span, "not a function name"),
            );
        };
        if let Some(m) = self.scope.metrics {
            if let Some(res) = m(whole, self.diags) {
                return res;
            }
        }
        let Some(func) = Func::from_name(name) else {
            let mut d = Diagnostic::error(
                &codes::EXPR_UNKNOWN_FUNCTION,
                format!("unknown function `{name}`"),
            )
            .at(f.span, "not a built-in function");
            if let Some(s) = did_you_mean(name, Func::ALL.iter().map(|(n, _)| *n)) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            return self.err(d);
        };
        if func.is_signal() && !self.scope.signals {
            return self.err(
                Diagnostic::error(
                    &codes::EXPR_SIGNAL_CONTEXT,
                    format!("signal `{name}` outside a drive or a trial period"),
                )
                .at(span, "signals are functions of time")
                .help("declare an `input` and drive it with this signal from a check or a task"),
            );
        }
        let params = func.params();
        let mut slots: Vec<Option<HExpr>> = vec![None; params.len()];
        let mut ok = true;
        for (i, a) in args.iter().enumerate() {
            let pos = match &a.name {
                None if i < params.len() => i,
                None => {
                    self.err(
                        Diagnostic::error(
                            &codes::EXPR_ARITY,
                            format!(
                                "`{name}` takes {} argument(s), found {}",
                                params.len(),
                                args.len()
                            ),
                        )
                        .at(a.value.span, "one too many"),
                    );
                    ok = false;
                    continue;
                }
                Some(n) => match params.iter().position(|p| p.0 == n.node) {
                    Some(p) => p,
                    None => {
                        let names: Vec<&str> = params.iter().map(|p| p.0).collect();
                        self.err(
                            Diagnostic::error(
                                &codes::EXPR_ARITY,
                                format!("`{name}` has no argument `{}`", n.node),
                            )
                            .at(n.span, format!("its arguments are {}", names.join(", "))),
                        );
                        ok = false;
                        continue;
                    }
                },
            };
            match self.expr(&a.value) {
                Some(h) => slots[pos] = Some(h),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let mut hargs = Vec::with_capacity(params.len());
        for (i, (pname, pdim)) in params.iter().enumerate() {
            let h = match slots[i].take() {
                Some(h) => h,
                None => match func.default_arg(pname) {
                    Some(v) => num(HKind::Num(v), Shape::Scalar, pdim.unwrap_or(0), span),
                    None => {
                        return self.err(
                            Diagnostic::error(
                                &codes::EXPR_ARITY,
                                format!("`{name}` is missing its argument `{pname}`"),
                            )
                            .at(
                                span,
                                format!(
                                    "`{name}` takes {}",
                                    params.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                                ),
                            ),
                        )
                    }
                },
            };
            self.want_num(&h, &format!("`{name}`"))?;
            if let Some(d) = pdim {
                if func.is_signal() {
                    if h.shape() != Shape::Scalar {
                        return self.err(
                            Diagnostic::error(
                                &codes::SHAPE_MISMATCH,
                                format!("`{pname}` of `{name}` must be a scalar"),
                            )
                            .at(h.span, h.shape().describe()),
                        );
                    }
                    self.expect_dim(&h, *d, &format!("`{pname}` of `{name}`"))?;
                }
            } else if self.scope.check_dims
                && h.dim != 0
                && !matches!(
                    func,
                    Func::Abs | Func::Min | Func::Max | Func::Clip | Func::Norm | Func::Sign
                )
            {
                self.diags.push(
                    Diagnostic::error(
                        &codes::UNITS_MISMATCH,
                        format!("`{name}` takes a plain number, found {}", dim_name(h.dim)),
                    )
                    .at(h.span, dim_name(h.dim)),
                );
                return None;
            }
            hargs.push(h);
        }
        let shape = match func {
            Func::Norm | Func::Dot => {
                let (s0, s1) = (hargs[0].shape(), hargs.get(1).map(|h| h.shape()));
                if func == Func::Dot && Some(s0) != s1 {
                    return self.err(
                        Diagnostic::error(
                            &codes::SHAPE_MISMATCH,
                            "`dot` of vectors of different lengths",
                        )
                        .at(
                            span,
                            format!("{} and {}", s0.describe(), s1.unwrap_or(s0).describe()),
                        ),
                    );
                }
                Shape::Scalar
            }
            _ if func.is_signal() => Shape::Scalar,
            _ => {
                let mut s = Shape::Scalar;
                for h in &hargs {
                    let hs = h.shape();
                    if hs != Shape::Scalar {
                        if s != Shape::Scalar && s != hs {
                            return self.err(
                                Diagnostic::error(
                                    &codes::SHAPE_MISMATCH,
                                    format!("arguments of `{name}` differ in shape"),
                                )
                                .at(h.span, hs.describe()),
                            );
                        }
                        s = hs;
                    }
                }
                s
            }
        };
        let dim = match func {
            Func::Abs | Func::Min | Func::Max | Func::Clip | Func::Norm => hargs[0].dim,
            Func::Dot => hargs[0].dim + hargs[1].dim,
            _ => 0,
        };
        let constant = !func.is_signal() && hargs.iter().all(|h| h.constant);
        Some(HExpr {
            kind: HKind::Call(func, hargs),
            ty: Type::Num(shape),
            dim,
            constant,
            bare: false,
            span,
        })
    }

    /// Requires dimension `want`; a bare number where a time is wanted is
    /// `rnnc::units::expected_time` with the fix in its help.
    pub fn expect_dim(&mut self, h: &HExpr, want: Dim, what: &str) -> Option<()> {
        if h.dim == want || (h.bare && want == 0) {
            return Some(());
        }
        let literal = match h.kind {
            HKind::Num(x) if h.bare => Some(fmt_num(x)),
            _ => None,
        };
        let d = if h.bare && want == 1 {
            let help = match &literal {
                Some(v) => format!("write `{v} ms` or `{v} s`"),
                None => "multiply by a unit: `* 1 ms`".to_string(),
            };
            Diagnostic::error(
                &codes::UNITS_EXPECTED_TIME,
                format!("{what} must be a time, found a plain number"),
            )
            .at(h.span, "this number has no unit")
            .help(help)
        } else {
            let mut d = Diagnostic::error(
                &codes::UNITS_MISMATCH,
                format!(
                    "{what} must be {}, found {}",
                    dim_name(want),
                    dim_name(h.dim)
                ),
            )
            .at(h.span, dim_name(h.dim));
            if want == -1 {
                if let Some(v) = &literal {
                    d = d.help(format!("write `{v} Hz`"));
                }
            }
            d
        };
        self.err(d);
        None
    }
}

/// Formats a literal the way a person would write it.
pub fn fmt_num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}
