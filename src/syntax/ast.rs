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
}

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
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
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
