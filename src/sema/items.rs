//! Analysis of each kind of item: systems, tasks, networks and checks.

use super::hir::*;
use super::lower::{fmt_num, Binding, Lower, Scope};
use super::model::*;
use super::{position, Def, ItemRef};
use crate::diag::{codes, did_you_mean, Diagnostic};
use crate::source::SourceDb;
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, BinOp, ExprKind};
use std::collections::HashMap;

pub(crate) struct Sema<'a> {
    pub db: &'a SourceDb,
    pub diags: Vec<Diagnostic>,
    pub program: Program,
    /// Per module: every visible top-level name (own items and imported ones).
    pub scopes: HashMap<FileId, HashMap<String, Def>>,
}

const RESERVED: &[&str] = &["pi", "e", "t"];

impl Sema<'_> {
    pub fn module(&mut self, file: FileId, module: &ast::Module, imports: &[(FileId, Span)]) {
        // Own definitions first, so that checks and networks may refer to later items.
        let mut own: HashMap<String, Def> = HashMap::new();
        let mut order: Vec<(&ast::Item, String)> = Vec::new();
        for item in &module.items {
            let Some(name) = item.name() else { continue };
            if let Some(prev) = own.get(&name.node) {
                self.diags.push(
                    Diagnostic::error(
                        &codes::NAME_DUPLICATE,
                        format!("`{}` is defined twice", name.node),
                    )
                    .at(name.span, "second definition")
                    .at(prev.span, "first definition")
                    .help("systems, tasks and networks share one namespace"),
                );
                continue;
            }
            if self.reserved(name) {
                continue;
            }
            own.insert(
                name.node.clone(),
                Def {
                    item: ItemRef::Broken,
                    span: name.span,
                },
            );
            order.push((item, name.node.clone()));
        }
        // Imported names: each import's own definitions, not re-exported.
        let mut visible = own.clone();
        // A mistyped import analysed as its suggestion (`super::suggested_import`) already
        // has its error: its names come last and give way silently on a clash.
        let soft: Vec<Span> = module
            .items
            .iter()
            .filter_map(|i| match i {
                ast::Item::Import(imp) if super::suggested_import(imp).is_some() => Some(imp.span),
                _ => None,
            })
            .collect();
        let mut imports = imports.to_vec();
        imports.sort_by_key(|(_, span)| soft.contains(span));
        for (imported, span) in &imports {
            let soft = soft.contains(span);
            let theirs: Vec<(String, Def)> = self
                .scopes
                .get(imported)
                .map(|s| {
                    s.iter()
                        .filter(|(_, d)| d.span.file == *imported)
                        .map(|(n, d)| (n.clone(), *d))
                        .collect()
                })
                .unwrap_or_default();
            let mut theirs = theirs;
            theirs.sort_by_key(|(_, d)| d.span.start);
            for (name, def) in theirs {
                match visible.get(&name) {
                    Some(prev) if prev.span == def.span || soft => {}
                    Some(prev) => {
                        let prev = *prev;
                        let mut d = Diagnostic::error(
                            &codes::IMPORT_CLASH,
                            format!("`{name}` is defined twice"),
                        )
                        .at(
                            *span,
                            format!(
                                "this import brings `{name}` from {}",
                                position(self.db, def.span)
                            ),
                        );
                        d = if prev.span.file == file {
                            d.at(prev.span, "and it is defined here")
                        } else {
                            d.help(format!(
                                "the other definition is at {}",
                                position(self.db, prev.span)
                            ))
                        };
                        self.diags.push(d.help("rename one of them"));
                    }
                    None => {
                        visible.insert(name, def);
                    }
                }
            }
        }
        self.scopes.insert(file, visible);
        // Systems and tasks first: networks and checks refer to them.
        for pass in 0..3 {
            for (item, name) in &order {
                let def = match (pass, item) {
                    (0, ast::Item::System(s)) => self.system(s).map(|s| {
                        self.program.systems.push(s);
                        ItemRef::System(self.program.systems.len() - 1)
                    }),
                    (0, ast::Item::Task(t)) => self.task(t).map(|t| {
                        self.program.tasks.push(t);
                        ItemRef::Task(self.program.tasks.len() - 1)
                    }),
                    (1, ast::Item::Network(n)) => self.network(file, n).map(|n| {
                        self.program.networks.push(n);
                        ItemRef::Network(self.program.networks.len() - 1)
                    }),
                    _ => continue,
                };
                let scope = self.scopes.get_mut(&file).expect("scope inserted above");
                if let (Some(item), Some(d)) = (def, scope.get_mut(name)) {
                    d.item = item;
                }
            }
        }
        for item in &module.items {
            if let ast::Item::Check(c) = item {
                if let Some(c) = self.check(file, c) {
                    self.program.checks.push(c);
                }
            }
        }
    }

    pub(crate) fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    pub(crate) fn reserved(&mut self, name: &crate::span::Ident) -> bool {
        if RESERVED.contains(&name.node.as_str()) || Func::from_name(&name.node).is_some() {
            self.diags.push(
                Diagnostic::error(
                    &codes::NAME_RESERVED,
                    format!("`{}` is built in and cannot be redeclared", name.node),
                )
                .at(name.span, "reserved name")
                .help("pick another name"),
            );
            return true;
        }
        false
    }

    pub(crate) fn lower(&mut self, scope: &Scope<'_>, e: &ast::Expr) -> Option<HExpr> {
        Lower {
            scope,
            diags: &mut self.diags,
        }
        .expr(e)
    }

    /// Lowers and evaluates a constant.
    pub(crate) fn constant(&mut self, scope: &Scope<'_>, e: &ast::Expr) -> Option<(Value, HExpr)> {
        let h = self.lower(scope, e)?;
        self.eval(scope, &h).map(|v| (v, h))
    }

    pub(crate) fn eval(&mut self, scope: &Scope<'_>, h: &HExpr) -> Option<Value> {
        if !h.constant {
            self.diags.push(
                Diagnostic::error(&codes::EXPR_NOT_CONSTANT, "this value must be a constant")
                    .at(h.span, "depends on something known only while running")
                    .help("use numbers, parameters and built-in functions of them"),
            );
            return None;
        }
        match eval_const(h, scope.params) {
            Ok(v) => Some(v),
            Err(EvalError::NotConstant(s)) => {
                self.diags.push(
                    Diagnostic::error(&codes::EXPR_NOT_CONSTANT, "this value must be a constant")
                        .at(s, "not a constant"),
                );
                None
            }
            Err(EvalError::Invalid(s)) => {
                self.diags.push(
                    Diagnostic::error(
                        &codes::EXPR_INVALID_VALUE,
                        "this constant is not a finite number",
                    )
                    .at(s, "evaluates to NaN or infinity")
                    .help("check for a division by zero or `log`/`sqrt` of a negative number"),
                );
                None
            }
        }
    }

    /// A constant that must be a whole number of at least `min`.
    pub(crate) fn whole(
        &mut self,
        scope: &Scope<'_>,
        e: &ast::Expr,
        min: i64,
        code: &'static crate::diag::Code,
        what: &str,
    ) -> Option<i64> {
        let (v, h) = self.constant(scope, e)?;
        match v.as_f64() {
            Some(x) if x == x.trunc() && x >= min as f64 && x < 9.0e15 => Some(x as i64),
            _ => {
                let found = v.as_f64().map_or_else(|| h.ty.describe(), fmt_num);
                self.diags.push(
                    Diagnostic::error(
                        code,
                        format!("{what} must be a whole number >= {min}, found {found}"),
                    )
                    .at(e.span, "here"),
                );
                None
            }
        }
    }

    // ------------------------------------------------------------------ parameters

    pub(crate) fn params(
        &mut self,
        params: &[ast::Param],
        names: &mut Vec<Binding>,
    ) -> Option<Vec<Param>> {
        let mut out: Vec<Param> = Vec::new();
        let mut ok = true;
        for p in params {
            if self.reserved(&p.name) {
                ok = false;
                continue;
            }
            if let Some(prev) = out.iter().find(|q| q.name == p.name.node) {
                self.diags.push(
                    Diagnostic::error(
                        &codes::NAME_DUPLICATE,
                        format!("parameter `{}` is declared twice", p.name.node),
                    )
                    .at(p.name.span, "second declaration")
                    .at(prev.span, "first declaration"),
                );
                ok = false;
                continue;
            }
            let values: Vec<Value> = out.iter().map(|p| p.default.clone()).collect();
            let lookup = move |i: usize| values.get(i).cloned();
            let scope = Scope {
                names: names.clone(),
                params: &lookup,
                ..Scope::default()
            };
            let Some((v, h)) = self.constant(&scope, &p.default) else {
                ok = false;
                continue;
            };
            names.push(Binding {
                name: p.name.node.clone(),
                var: Var::Param(out.len()),
                ty: h.ty,
                dim: h.dim,
                constant: true,
                span: p.name.span,
            });
            out.push(Param {
                name: p.name.node.clone(),
                default: v,
                dim: h.dim,
                span: p.name.span,
            });
        }
        ok.then_some(out)
    }

    // ------------------------------------------------------------------ systems

    pub(crate) fn declare(
        &mut self,
        names: &mut Vec<Binding>,
        name: &crate::span::Ident,
        b: Binding,
    ) -> bool {
        if self.reserved(name) {
            return false;
        }
        if let Some(prev) = names.iter().find(|x| x.name == name.node) {
            self.diags.push(
                Diagnostic::error(
                    &codes::NAME_DUPLICATE,
                    format!("`{}` is declared twice", name.node),
                )
                .at(name.span, "second declaration")
                .at(prev.span, "first declaration"),
            );
            return false;
        }
        names.push(b);
        true
    }

    pub(crate) fn size(&mut self, scope: &Scope<'_>, d: &ast::Decl) -> Option<Option<usize>> {
        match &d.size {
            None => Some(None),
            Some(e) => self
                .whole(scope, e, 1, &codes::SHAPE_SIZE, "a vector size")
                .map(|k| Some(k as usize)),
        }
    }

    fn system(&mut self, s: &ast::System) -> Option<System> {
        let errors_before = self.diags.iter().filter(|d| d.is_error()).count();
        let mut names = Vec::new();
        let params = self.params(&s.params, &mut names)?;
        let defaults: Vec<Value> = params.iter().map(|p| p.default.clone()).collect();
        let lookup = |i: usize| defaults.get(i).cloned();
        // Constants may not use states or inputs: bind them as non-constant names so that such a
        // use says "not a constant" rather than "unknown name".
        let mut const_names = names.clone();
        for st in &s.body {
            if let ast::SysStmt::Input { decls, .. } | ast::SysStmt::State { decls, .. } = st {
                for d in decls {
                    const_names.push(Binding {
                        name: d.name.node.clone(),
                        var: Var::State(0),
                        ty: Type::Num(Shape::Scalar),
                        dim: 0,
                        constant: false,
                        span: d.name.span,
                    });
                }
            }
        }
        let const_scope = Scope {
            names: const_names,
            params: &lookup,
            ..Scope::default()
        };

        // Declarations: inputs and states.
        let mut inputs: Vec<Channel> = Vec::new();
        let mut states: Vec<StateVar> = Vec::new();
        let mut domains: Vec<(RegionExpr, Span)> = Vec::new();
        for st in &s.body {
            match st {
                ast::SysStmt::Input { decls, range, .. } => {
                    let range = range.as_ref().and_then(|r| self.region(&const_scope, r));
                    for d in decls {
                        let size = self.size(&const_scope, d)?;
                        let b = Binding {
                            name: d.name.node.clone(),
                            var: Var::Input(inputs.len()),
                            ty: shape_of(size),
                            dim: 0,
                            constant: false,
                            span: d.name.span,
                        };
                        if self.declare(&mut names, &d.name, b) {
                            inputs.push(Channel {
                                name: d.name.node.clone(),
                                size,
                                range: range.clone(),
                                span: d.name.span,
                            });
                        }
                    }
                }
                ast::SysStmt::State {
                    decls,
                    domain,
                    span,
                } => {
                    // A state whose domain fails is still declared, so that its equation and
                    // uses do not report follow-on errors.
                    let placeholder = || RegionExpr::Ball {
                        radius: placeholder_one(*span),
                        center: None,
                    };
                    match domain {
                        Some(r) => match self.region(&const_scope, r) {
                            Some(r) => domains.push((r, *span)),
                            None => domains.push((placeholder(), *span)),
                        },
                        None => {
                            domains.push((placeholder(), *span));
                            let n = &decls[0].name.node;
                            self.diags.push(
                                Diagnostic::error(
                                    &codes::SYSTEM_NO_DOMAIN,
                                    format!("state `{n}` has no domain"),
                                )
                                .at(*span, "the network must know what region to represent")
                                .help(format!(
                                    "write `state {n} in [-1, 1]` or `state {n} in radius 1`"
                                )),
                            );
                        }
                    }
                    for d in decls {
                        let size = self.size(&const_scope, d)?;
                        let b = Binding {
                            name: d.name.node.clone(),
                            var: Var::State(states.len()),
                            ty: shape_of(size),
                            dim: 0,
                            constant: false,
                            span: d.name.span,
                        };
                        if self.declare(&mut names, &d.name, b) {
                            states.push(StateVar {
                                name: d.name.node.clone(),
                                size,
                                line: domains.len() - 1,
                                span: d.name.span,
                            });
                        }
                    }
                }
                _ => {}
            }
        }

        // Bodies: lets, init, equations, outputs, in source order.
        let mut lets: Vec<(String, HExpr)> = Vec::new();
        let mut init: Vec<(usize, HExpr)> = Vec::new();
        let mut equations: Vec<Option<(HExpr, Span)>> = vec![None; states.len()];
        let mut kind: Option<(TimeKind, Span)> = None;
        let mut outputs: Vec<(String, HExpr)> = Vec::new();
        // After a broken equation, "missing equation" would only repeat the same mistake.
        let mut broken_equation = s.body.iter().any(|st| matches!(st, ast::SysStmt::Error(_)));
        for st in &s.body {
            let scope = Scope {
                names: names.clone(),
                params: &lookup,
                check_dims: false,
                time_code: &codes::SYSTEM_TIME,
                ..Scope::default()
            };
            match st {
                ast::SysStmt::Let { name, value } => match self.lower(&scope, value) {
                    Some(h) => {
                        let b = Binding {
                            name: name.node.clone(),
                            var: Var::Let(lets.len()),
                            ty: h.ty,
                            dim: h.dim,
                            constant: h.constant,
                            span: name.span,
                        };
                        if self.declare(&mut names, name, b) {
                            lets.push((name.node.clone(), h));
                        }
                    }
                    None => {
                        self.declare(&mut names, name, Binding::poisoned(name));
                    }
                },
                ast::SysStmt::Init { assigns, .. } => {
                    for a in assigns {
                        let Some(i) = states.iter().position(|v| v.name == a.name.node) else {
                            self.not_a_state(&a.name, &states, "init");
                            continue;
                        };
                        let Some(h) = self.lower(&const_scope, &a.value) else {
                            continue;
                        };
                        if self.same_shape(&h, states[i].size, &a.name.node)
                            && self.eval(&const_scope, &h).is_some()
                        {
                            init.push((i, h));
                        }
                    }
                }
                ast::SysStmt::Equation { lhs, rhs } => {
                    let Some(name) = flow_target(lhs) else {
                        self.diags.push(
                            Diagnostic::error(&codes::SYNTAX_BAD_FLOW, "not an equation of a state")
                                .at(lhs.span, "expected `dx/dt` (a flow) here")
                                .help("a flow is `dx/dt = ...` (a vector state `q` has one flow `dq/dt`); a map is `next x = ...`"),
                        );
                        broken_equation = true;
                        continue;
                    };
                    broken_equation |= !self.equation(
                        &scope,
                        &states,
                        &mut equations,
                        &mut kind,
                        (TimeKind::Flow, lhs.span),
                        &name,
                        rhs,
                    );
                }
                ast::SysStmt::Next { name, rhs } => {
                    let span = name.span;
                    broken_equation |= !self.equation(
                        &scope,
                        &states,
                        &mut equations,
                        &mut kind,
                        (TimeKind::Map, span),
                        &crate::span::Spanned::new(name.node.clone(), span),
                        rhs,
                    );
                }
                ast::SysStmt::Output { decls, value, span } => {
                    let Some(value) = value else {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::SYSTEM_OUTPUT_VALUE,
                                format!("output `{}` has no value", decls[0].name.node),
                            )
                            .at(*span, "a system output is a function of state and input")
                            .help(format!(
                                "write `output {} = <expression>`",
                                decls[0].name.node
                            )),
                        );
                        continue;
                    };
                    if decls.len() > 1 || decls[0].size.is_some() {
                        self.diags.push(
                            Diagnostic::error(&codes::SHAPE_MISMATCH, "one output per line")
                                .at(*span, "declare one name: `output y = expr`"),
                        );
                        continue;
                    }
                    if let Some(h) = self.lower(&scope, value) {
                        let mut tmp = names.clone();
                        let b = Binding {
                            name: decls[0].name.node.clone(),
                            var: Var::Let(usize::MAX),
                            ty: h.ty,
                            dim: 0,
                            constant: false,
                            span: decls[0].name.span,
                        };
                        if self.declare(&mut tmp, &decls[0].name, b) {
                            outputs.push((decls[0].name.node.clone(), h));
                        }
                    }
                }
                ast::SysStmt::Input { .. }
                | ast::SysStmt::State { .. }
                | ast::SysStmt::Error(_) => {}
            }
        }
        if states.is_empty()
            && domains.is_empty()
            && !s
                .body
                .iter()
                .any(|st| matches!(st, ast::SysStmt::State { .. }))
        {
            self.diags.push(
                Diagnostic::error(
                    &codes::SYSTEM_NO_STATE,
                    format!("system `{}` has no state", s.name.node),
                )
                .at(s.name.span, "declare at least one `state`"),
            );
        }
        let mut eqs = Vec::new();
        for (i, e) in equations.into_iter().enumerate() {
            match e {
                Some((h, _)) => eqs.push(h),
                None if broken_equation => {}
                None => {
                    let v = &states[i];
                    let hint = match kind.map(|k| k.0) {
                        Some(TimeKind::Map) => format!("add `next {} = ...`", v.name),
                        _ => format!("add `d{}/dt = ...`", v.name),
                    };
                    self.diags.push(
                        Diagnostic::error(
                            &codes::SYSTEM_MISSING_EQUATION,
                            format!("state `{}` has no equation", v.name),
                        )
                        .at(v.span, "declared here")
                        .help(hint),
                    );
                }
            }
        }
        let errors_after = self.diags.iter().filter(|d| d.is_error()).count();
        if errors_after > errors_before {
            return None;
        }
        let system = System {
            name: s.name.node.clone(),
            span: s.name.span,
            params,
            inputs,
            states,
            domains,
            lets,
            init,
            kind: kind.map_or(TimeKind::Flow, |k| k.0),
            equations: eqs,
            outputs,
        };
        // Instantiate with the defaults: domains and init must make sense.
        let index = self.program.systems.len();
        match instantiate(
            &system,
            index,
            system.params.iter().map(|p| p.default.clone()).collect(),
        ) {
            Ok(_) => Some(system),
            Err(ds) => {
                self.diags.extend(ds);
                None
            }
        }
    }

    fn not_a_state(&mut self, name: &crate::span::Ident, states: &[StateVar], what: &str) {
        let mut d = Diagnostic::error(
            &codes::SYSTEM_NOT_A_STATE,
            format!("`{}` is not a state", name.node),
        )
        .at(name.span, format!("`{what}` needs a state here"));
        if let Some(s) = did_you_mean(&name.node, states.iter().map(|s| s.name.as_str())) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        self.diags.push(d);
    }

    pub(crate) fn same_shape(&mut self, h: &HExpr, size: Option<usize>, name: &str) -> bool {
        let want = shape_of(size);
        if h.ty == want {
            return true;
        }
        self.diags.push(
            Diagnostic::error(
                &codes::SHAPE_MISMATCH,
                format!(
                    "`{name}` is {}, this is {}",
                    want.describe(),
                    h.ty.describe()
                ),
            )
            .at(h.span, h.ty.describe()),
        );
        false
    }

    #[allow(clippy::too_many_arguments)]
    fn equation(
        &mut self,
        scope: &Scope<'_>,
        states: &[StateVar],
        equations: &mut [Option<(HExpr, Span)>],
        kind: &mut Option<(TimeKind, Span)>,
        this: (TimeKind, Span),
        name: &crate::span::Ident,
        rhs: &ast::Expr,
    ) -> bool {
        let what = if this.0 == TimeKind::Flow {
            "a flow"
        } else {
            "a map"
        };
        let Some(i) = states.iter().position(|v| v.name == name.node) else {
            self.not_a_state(name, states, what);
            return false;
        };
        match kind {
            Some((k, span)) if *k != this.0 => {
                self.diags.push(
                    Diagnostic::error(&codes::SYSTEM_MIXED_TIME, "flows and maps in one system")
                        .at(this.1, format!("this is {what}"))
                        .at(*span, "but this equation is of the other kind")
                        .help("a system is all flows (`dx/dt`) or all maps (`next x`)"),
                );
                return false;
            }
            None => *kind = Some(this),
            _ => {}
        }
        if let Some((_, prev)) = &equations[i] {
            self.diags.push(
                Diagnostic::error(
                    &codes::SYSTEM_DUPLICATE_EQUATION,
                    format!("state `{}` has two equations", name.node),
                )
                .at(this.1, "second equation")
                .at(*prev, "first equation"),
            );
            return true;
        }
        let Some(h) = self.lower(scope, rhs) else {
            return false;
        };
        if self.same_shape(&h, states[i].size, &name.node) {
            equations[i] = Some((h, this.1));
            return true;
        }
        false
    }

    pub(crate) fn region(&mut self, scope: &Scope<'_>, r: &ast::Domain) -> Option<RegionExpr> {
        match r {
            ast::Domain::Box(e) => {
                let h = self.lower(scope, e)?;
                self.eval(scope, &h)?;
                match h.ty {
                    Type::Num(Shape::Vector(2)) | Type::Num(Shape::Matrix(_, 2)) => {
                        Some(RegionExpr::Box(h))
                    }
                    other => {
                        self.diags.push(
                            Diagnostic::error(&codes::SYSTEM_BAD_DOMAIN, format!("a box is `[lo, hi]` or one `[lo, hi]` row per component, found {}", other.describe()))
                                .at(e.span, "not a box"),
                        );
                        None
                    }
                }
            }
            ast::Domain::Ball { radius, center } => {
                let hr = self.lower(scope, radius)?;
                self.eval(scope, &hr)?;
                if hr.ty != Type::Num(Shape::Scalar) {
                    self.diags.push(
                        Diagnostic::error(&codes::SYSTEM_BAD_DOMAIN, "a radius is a number")
                            .at(radius.span, hr.ty.describe()),
                    );
                    return None;
                }
                let hc = match center {
                    Some(c) => {
                        let h = self.lower(scope, c)?;
                        self.eval(scope, &h)?;
                        Some(h)
                    }
                    None => None,
                };
                Some(RegionExpr::Ball {
                    radius: hr,
                    center: hc,
                })
            }
        }
    }

    // ------------------------------------------------------------------ tasks
}

fn placeholder_one(span: Span) -> HExpr {
    HExpr {
        kind: HKind::Num(1.0),
        ty: Type::Num(Shape::Scalar),
        dim: 0,
        constant: true,
        bare: true,
        span,
    }
}

fn shape_of(size: Option<usize>) -> Type {
    match size {
        None => Type::Num(Shape::Scalar),
        Some(k) => Type::Num(Shape::Vector(k)),
    }
}

/// `dX/dt` -> `X` (the leading `d` stripped once).
fn flow_target(lhs: &ast::Expr) -> Option<crate::span::Ident> {
    if let ExprKind::Binary(BinOp::Div, a, b) = &lhs.kind {
        if let (Some(num), Some("dt")) = (a.as_name(), b.as_name()) {
            if let Some(x) = num.strip_prefix('d').filter(|x| !x.is_empty()) {
                let span = Span {
                    start: a.span.start + 1,
                    ..a.span
                };
                return Some(crate::span::Spanned::new(x.to_string(), span));
            }
        }
    }
    None
}

/// Fixes a system's parameters: evaluates domains, input ranges and `init`, and checks them.
pub fn instantiate(
    sys: &System,
    index: usize,
    params: Vec<Value>,
) -> Result<SystemInstance, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let lookup = |i: usize| params.get(i).cloned();
    // Components covered by each state line.
    let mut offsets = Vec::new();
    let mut at = 0;
    for v in &sys.states {
        offsets.push(at);
        at += v.size.unwrap_or(1);
    }
    let mut domains = Vec::new();
    for (line, (r, span)) in sys.domains.iter().enumerate() {
        let comps: Vec<usize> = sys
            .states
            .iter()
            .enumerate()
            .filter(|(_, v)| v.line == line)
            .flat_map(|(i, v)| offsets[i]..offsets[i] + v.size.unwrap_or(1))
            .collect();
        match eval_region(r, comps.len(), &lookup) {
            Ok(region) => domains.push((comps, region)),
            Err(msg) => diags
                .push(Diagnostic::error(&codes::SYSTEM_BAD_DOMAIN, msg).at(*span, "this domain")),
        }
    }
    let mut input_ranges = Vec::new();
    let mut at = 0;
    for ch in &sys.inputs {
        let comps: Vec<usize> = (at..at + ch.len()).collect();
        at += ch.len();
        let region = match &ch.range {
            None => Ok(Region::Box {
                lo: vec![-1.0; comps.len()],
                hi: vec![1.0; comps.len()],
            }),
            Some(r) => eval_region(r, comps.len(), &lookup),
        };
        match region {
            Ok(region) => input_ranges.push((comps, region)),
            Err(msg) => diags.push(
                Diagnostic::error(&codes::SYSTEM_BAD_DOMAIN, msg)
                    .at(ch.span, "the range of this input"),
            ),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut init = vec![0.0; sys.state_dim()];
    for (comps, region) in &domains {
        for (c, x) in comps.iter().zip(region.center()) {
            init[*c] = x;
        }
    }
    for (i, h) in &sys.init {
        if let Ok(v) = eval_const(h, &lookup) {
            if let Some(xs) = v.as_slice() {
                init[offsets[*i]..offsets[*i] + xs.len()].copy_from_slice(xs);
            }
        }
    }
    for (comps, region) in &domains {
        let z: Vec<f64> = comps.iter().map(|&c| init[c]).collect();
        if !region.contains(&z) {
            let names = sys.state_names();
            let what: Vec<String> = comps
                .iter()
                .map(|&c| format!("{} = {}", names[c], fmt_num(init[c])))
                .collect();
            let span = sys
                .init
                .iter()
                .find(|(i, _)| comps.contains(&offsets[*i]))
                .map_or(sys.span, |(_, h)| h.span);
            diags.push(
                Diagnostic::error(
                    &codes::SYSTEM_INIT_OUTSIDE,
                    format!(
                        "the initial state {} is outside the domain",
                        what.join(", ")
                    ),
                )
                .at(span, "outside the domain")
                .help("move `init` inside the domain or widen the domain"),
            );
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(SystemInstance {
        system: index,
        params,
        domains,
        input_ranges,
        init,
    })
}

fn eval_region(
    r: &RegionExpr,
    n: usize,
    params: &dyn Fn(usize) -> Option<Value>,
) -> Result<Region, String> {
    let ev = |h: &HExpr| {
        eval_const(h, params)
            .ok()
            .and_then(|v| v.as_slice().map(<[f64]>::to_vec))
            .ok_or_else(|| "the domain is not a constant".to_string())
    };
    match r {
        RegionExpr::Box(h) => {
            let v = ev(h)?;
            let (lo, hi): (Vec<f64>, Vec<f64>) = match h.shape() {
                Shape::Vector(2) => (vec![v[0]; n], vec![v[1]; n]),
                Shape::Matrix(rows, 2) if rows == n => (
                    (0..n).map(|i| v[2 * i]).collect(),
                    (0..n).map(|i| v[2 * i + 1]).collect(),
                ),
                Shape::Matrix(rows, 2) => {
                    return Err(format!("the box has {rows} rows for {n} components"))
                }
                _ => return Err("a box is `[lo, hi]`".into()),
            };
            if let Some(i) = (0..n).find(|&i| lo[i] >= hi[i]) {
                return Err(format!(
                    "the box is empty: lo = {} is not below hi = {}",
                    fmt_num(lo[i]),
                    fmt_num(hi[i])
                ));
            }
            Ok(Region::Box { lo, hi })
        }
        RegionExpr::Ball { radius, center } => {
            let r = ev(radius)?[0];
            if r <= 0.0 {
                return Err(format!("the radius must be positive, found {}", fmt_num(r)));
            }
            let c = match center {
                None => vec![0.0; n],
                Some(h) => {
                    let c = ev(h)?;
                    if c.len() != n {
                        return Err(format!(
                            "the centre has {} components for {n} states",
                            c.len()
                        ));
                    }
                    c
                }
            };
            Ok(Region::Ball {
                radius: r,
                center: c,
            })
        }
    }
}
