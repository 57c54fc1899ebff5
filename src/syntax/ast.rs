//! The spanned syntax tree, as written. Names are not resolved and units are not checked here;
//! that is the semantic pass's job ([`crate::sema`]).

use crate::span::{FileId, Ident, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub file: FileId,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    System(System),
    Task(Task),
    Network(Network),
    Check(Check),
    /// An item the parser could not read; its error is in the error list.
    Error(Span),
}

impl Item {
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::System(s) => Some(&s.name),
            Item::Task(t) => Some(&t.name),
            Item::Network(n) => Some(&n.name),
            Item::Import(_) | Item::Check(_) | Item::Error(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImportPath {
    /// `import std.systems`
    Std(Vec<Ident>),
    /// `import "lib/tasks.rnn"`
    File(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub path: ImportPath,
    pub span: Span,
}

/// `name = default` in a system's or task's header.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub default: Expr,
}

/// A declared name, scalar or vector: `x`, `q[2]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub name: Ident,
    pub size: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// `in [lo, hi]` or `in [[lo0, hi0], ...]`
    Box(Expr),
    /// `in radius r (around c)`
    Ball { radius: Expr, center: Option<Expr> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct System {
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Vec<SysStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SysStmt {
    Input {
        decls: Vec<Decl>,
        range: Option<Domain>,
        span: Span,
    },
    State {
        decls: Vec<Decl>,
        domain: Option<Domain>,
        span: Span,
    },
    Let {
        name: Ident,
        value: Expr,
    },
    Init {
        assigns: Vec<Assign>,
        span: Span,
    },
    /// `lhs = rhs`: a flow when `lhs` is `dX/dt`, otherwise `rnnc::syntax::bad_flow`.
    Equation {
        lhs: Expr,
        rhs: Expr,
    },
    Next {
        name: Ident,
        rhs: Expr,
    },
    Output {
        decls: Vec<Decl>,
        value: Option<Expr>,
        span: Span,
    },
    Error(Span),
}

/// `name = value`, as in `init x = 1` or `simulate ... from x = 1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assign {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Vec<TaskStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TaskStmt {
    Input {
        decls: Vec<Decl>,
        range: Option<Domain>,
        span: Span,
    },
    Output {
        decls: Vec<Decl>,
        value: Option<Expr>,
        span: Span,
    },
    Vary {
        name: Ident,
        values: Expr,
    },
    Draw {
        name: Ident,
        dist: Expr,
    },
    Trials {
        count: Expr,
        span: Span,
    },
    Trial(Trial),
    Error(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    pub name: Option<Ident>,
    pub periods: Vec<Period>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Period {
    pub name: Ident,
    pub duration: Expr,
    pub body: Vec<PeriodStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PeriodStmt {
    Assign(Assign),
    Expect(Expect),
    Error(Span),
}

/// `expect lhs (= eq) (within tol) (after d)`. Which combinations are valid depends on where
/// it stands (a period or a check); the semantic pass decides.
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    pub lhs: Expr,
    pub eq: Option<Expr>,
    pub within: Option<Expr>,
    pub after: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub name: Ident,
    pub target: Option<Expr>,
    pub body: Vec<NetStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NetStmt {
    Field { name: Ident, value: Expr },
    Constraints { items: Vec<Expr>, span: Span },
    Error(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub network: Ident,
    pub body: Vec<CheckStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CheckStmt {
    Simulate(Simulate),
    Expect(Expect),
    Error(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum SimClause {
    From(Vec<Assign>),
    With(Vec<Assign>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Simulate {
    pub duration: Expr,
    /// `from` and `with` clauses in source order (the semantic pass allows each once).
    pub clauses: Vec<(SimClause, Span)>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    MatMul,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            MatMul => "@",
            Pow => "^",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Eq => "==",
            Ne => "!=",
            And => "and",
            Or => "or",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Levels of nesting, a leaf being 1: at most [`MAX_DEPTH`] in a parsed tree, so that
    /// every recursive pass over it (and its drop) has a bounded stack.
    depth: u32,
    /// Somewhere below, a subtree nested too deeply was cut and reported; cutting again
    /// above it is silent.
    cut: bool,
}

/// The deepest an expression may nest: each bracket, operator, call, index and `if` is one
/// level (a chain `a + b - c + ...` is summed pairwise, so its length barely counts). Deeper
/// expressions are `rnnc::parse::too_deep`, never a stack overflow in a later pass.
pub const MAX_DEPTH: u32 = 256;

/// Chains of `+`/`-` longer than this are summed pairwise (a balanced tree of depth
/// log2(terms)); shorter ones left to right, as written.
pub const PAIRWISE_TERMS: usize = 64;

/// A call argument, positional or named (`name = value`, `name = lo .. hi`).
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Number(f64),
    /// A literal with a unit as written: `(100, "ms")`.
    Quantity(f64, String),
    Bool(bool),
    Str(String),
    Name(String),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Vector(Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Member(Box<Expr>, Ident),
    Call(Box<Expr>, Vec<Arg>),
    /// `lo .. hi`, only as a named argument's value.
    Range(Box<Expr>, Box<Expr>),
    /// `( e )`, kept so that `1/(2 ms)` is not warned about.
    Paren(Box<Expr>),
    /// An expression nested more deeply than [`MAX_DEPTH`], already reported by the parser.
    TooDeep,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        let mut depth = 0;
        let mut cut = matches!(kind, ExprKind::TooDeep);
        kind.for_each_child(|c| {
            depth = depth.max(c.depth);
            cut |= c.cut;
        });
        Expr {
            kind,
            span,
            depth: depth + 1,
            cut,
        }
    }

    pub(crate) fn mark_cut(&mut self) {
        self.cut = true;
    }

    /// Levels of nesting (a leaf is 1).
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Contains a subtree that was too deep (and is reported).
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// The name, when this expression is a bare name.
    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name(n) => Some(n),
            _ => None,
        }
    }

    /// Strips parentheses.
    pub fn unparen(&self) -> &Expr {
        match &self.kind {
            ExprKind::Paren(e) => e.unparen(),
            _ => self,
        }
    }
}

impl ExprKind {
    /// Calls `f` on each direct sub-expression.
    pub fn for_each_child(&self, mut f: impl FnMut(&Expr)) {
        match self {
            ExprKind::Number(_)
            | ExprKind::Quantity(..)
            | ExprKind::Bool(_)
            | ExprKind::Str(_)
            | ExprKind::Name(_)
            | ExprKind::TooDeep => {}
            ExprKind::Unary(_, a) | ExprKind::Member(a, _) | ExprKind::Paren(a) => f(a),
            ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) | ExprKind::Range(a, b) => {
                f(a);
                f(b);
            }
            ExprKind::If(c, a, b) => {
                f(c);
                f(a);
                f(b);
            }
            ExprKind::Vector(items) => items.iter().for_each(f),
            ExprKind::Call(callee, args) => {
                f(callee);
                args.iter().for_each(|a| f(&a.value));
            }
        }
    }
}
