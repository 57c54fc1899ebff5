//! Resolved expressions: every name bound, every node with its type, shape and dimension.
//! Lowering ([`crate::flat`]) and constant evaluation ([`eval_const`]) consume these.

use crate::span::Span;
use crate::syntax::ast::{BinOp, UnOp};

/// Dimension: the power of time (`s` is 1, `Hz` is -1, a bare number 0).
pub type Dim = i8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Scalar,
    Vector(usize),
    Matrix(usize, usize),
}

impl Shape {
    pub fn len(self) -> usize {
        match self {
            Shape::Scalar => 1,
            Shape::Vector(n) => n,
            Shape::Matrix(r, c) => r * c,
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// `(rows, inner, cols)` of `self @ other`, a vector on the left read as one row and on
    /// the right as one column (shapes were checked when lowering).
    pub fn matmul_dims(self, other: Shape) -> (usize, usize, usize) {
        let (r, k) = match self {
            Shape::Matrix(r, k) => (r, k),
            Shape::Vector(k) => (1, k),
            Shape::Scalar => (1, 1),
        };
        let c = match other {
            Shape::Matrix(_, c) => c,
            _ => 1,
        };
        (r, k, c)
    }

    pub fn describe(self) -> String {
        match self {
            Shape::Scalar => "a scalar".into(),
            Shape::Vector(n) => format!("a vector of {n}"),
            Shape::Matrix(r, c) => format!("a {r}x{c} matrix"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Num(Shape),
    Bool,
    Str,
}

impl Type {
    pub fn describe(self) -> String {
        match self {
            Type::Num(s) => s.describe(),
            Type::Bool => "a boolean".into(),
            Type::Str => "a string".into(),
        }
    }
}

/// What a resolved name refers to. Indices are into the owning item's lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    /// A parameter of the enclosing system or task.
    Param(usize),
    /// A state variable (its index in the system's state list).
    State(usize),
    /// An input channel.
    Input(usize),
    /// A `let` of the enclosing system.
    Let(usize),
    /// `t`: time in seconds (since the period began, inside a trial period).
    Time,
    /// A task's `vary` or `draw` variable.
    Local(usize),
    /// A name whose definition had an error: uses of it are silently invalid, so that one
    /// mistake is reported once.
    Poisoned,
}

/// Built-in functions. Signals are functions of `t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Sin,
    Cos,
    Tan,
    Exp,
    Log,
    Sqrt,
    Abs,
    Tanh,
    Sigmoid,
    Relu,
    Sign,
    Atan2,
    Min,
    Max,
    Clip,
    Norm,
    Dot,
    Step,
    Pulse,
    Ramp,
    Sine,
    Noise,
    SmoothNoise,
}

impl Func {
    pub const ALL: &'static [(&'static str, Func)] = &[
        ("sin", Func::Sin),
        ("cos", Func::Cos),
        ("tan", Func::Tan),
        ("exp", Func::Exp),
        ("log", Func::Log),
        ("sqrt", Func::Sqrt),
        ("abs", Func::Abs),
        ("tanh", Func::Tanh),
        ("sigmoid", Func::Sigmoid),
        ("relu", Func::Relu),
        ("sign", Func::Sign),
        ("atan2", Func::Atan2),
        ("min", Func::Min),
        ("max", Func::Max),
        ("clip", Func::Clip),
        ("norm", Func::Norm),
        ("dot", Func::Dot),
        ("step", Func::Step),
        ("pulse", Func::Pulse),
        ("ramp", Func::Ramp),
        ("sine", Func::Sine),
        ("noise", Func::Noise),
        ("smooth_noise", Func::SmoothNoise),
    ];

    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    pub fn name(self) -> &'static str {
        Func::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    pub fn is_signal(self) -> bool {
        matches!(
            self,
            Func::Step | Func::Pulse | Func::Ramp | Func::Sine | Func::Noise | Func::SmoothNoise
        )
    }

    /// Parameter names, and for signals the dimension each must have (`None`: not checked).
    pub fn params(self) -> &'static [(&'static str, Option<Dim>)] {
        match self {
            Func::Atan2 => &[("y", None), ("x", None)],
            Func::Min | Func::Max | Func::Dot => &[("a", None), ("b", None)],
            Func::Clip => &[("x", None), ("lo", None), ("hi", None)],
            Func::Step => &[("at", Some(1))],
            Func::Pulse => &[("start", Some(1)), ("width", Some(1))],
            Func::Ramp => &[("start", Some(1)), ("duration", Some(1))],
            Func::Sine => &[("freq", Some(-1)), ("phase", Some(0))],
            Func::Noise => &[("sd", Some(0))],
            Func::SmoothNoise => &[("sd", Some(0)), ("cutoff", Some(-1))],
            _ => &[("x", None)],
        }
    }

    /// Default values of trailing optional parameters.
    pub fn default_arg(self, name: &str) -> Option<f64> {
        match (self, name) {
            (Func::Sine, "phase") => Some(0.0),
            _ => None,
        }
    }
}

/// A metric of CHECKS.md, as referenced from a check's `expect`: typed, with its options
/// constant-evaluated and defaults filled (`crate::decl::Metric`).
pub type MetricCall = crate::decl::Metric;

#[derive(Clone, Debug, PartialEq)]
pub struct HExpr {
    pub kind: HKind,
    pub ty: Type,
    pub dim: Dim,
    /// Depends on nothing but constants and parameters.
    pub constant: bool,
    /// A plain number without a unit (takes the metric's dimension in a check).
    pub bare: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HKind {
    Num(f64),
    Bool(bool),
    Str(String),
    Var(Var),
    Unary(UnOp, Box<HExpr>),
    Binary(BinOp, Box<HExpr>, Box<HExpr>),
    If(Box<HExpr>, Box<HExpr>, Box<HExpr>),
    /// Vector or matrix literal: the elements in row-major order, each a scalar.
    Array(Vec<HExpr>),
    /// Element `i` (row `i` of a matrix) of a vector.
    Index(Box<HExpr>, usize),
    Call(Func, Vec<HExpr>),
    Metric(MetricCall),
}

impl HExpr {
    pub fn shape(&self) -> Shape {
        match self.ty {
            Type::Num(s) => s,
            _ => Shape::Scalar,
        }
    }
}

/// A constant value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Numbers of any shape, row-major.
    Num(Shape, Vec<f64>),
    Bool(bool),
    Str(String),
}

impl Value {
    pub fn scalar(x: f64) -> Value {
        Value::Num(Shape::Scalar, vec![x])
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(Shape::Scalar, v) => Some(v[0]),
            _ => None,
        }
    }

    pub fn as_slice(&self) -> Option<&[f64]> {
        match self {
            Value::Num(_, v) => Some(v),
            _ => None,
        }
    }
}

/// Why constant evaluation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// The expression depends on something that is not a constant.
    NotConstant(Span),
    /// The result is NaN or infinite.
    Invalid(Span),
}

/// Evaluates a constant expression; `param` gives parameter values.
pub fn eval_const(e: &HExpr, param: &dyn Fn(usize) -> Option<Value>) -> Result<Value, EvalError> {
    eval_with_metrics(e, param, &|_| None)
}

/// [`eval_const`] where metrics have values: `metric` gives each one (`None`: not constant).
pub fn eval_with_metrics(
    e: &HExpr,
    param: &dyn Fn(usize) -> Option<Value>,
    metric: &dyn Fn(&MetricCall) -> Option<Value>,
) -> Result<Value, EvalError> {
    let v = eval(e, param, metric)?;
    if let Value::Num(_, xs) = &v {
        if xs.iter().any(|x| !x.is_finite()) {
            return Err(EvalError::Invalid(e.span));
        }
    }
    Ok(v)
}

fn eval(
    e: &HExpr,
    param: &dyn Fn(usize) -> Option<Value>,
    metric: &dyn Fn(&MetricCall) -> Option<Value>,
) -> Result<Value, EvalError> {
    let num = |e: &HExpr| -> Result<Vec<f64>, EvalError> {
        match eval(e, param, metric)? {
            Value::Num(_, v) => Ok(v),
            Value::Bool(b) => Ok(vec![f64::from(u8::from(b))]),
            Value::Str(_) => Err(EvalError::NotConstant(e.span)),
        }
    };
    Ok(match &e.kind {
        HKind::Num(x) => Value::scalar(*x),
        HKind::Bool(b) => Value::Bool(*b),
        HKind::Str(s) => Value::Str(s.clone()),
        HKind::Var(Var::Param(i)) => param(*i).ok_or(EvalError::NotConstant(e.span))?,
        HKind::Metric(m) => metric(m).ok_or(EvalError::NotConstant(e.span))?,
        HKind::Var(_) => return Err(EvalError::NotConstant(e.span)),
        HKind::Array(items) => {
            let mut out = Vec::with_capacity(e.shape().len());
            for it in items {
                out.extend(num(it)?);
            }
            Value::Num(e.shape(), out)
        }
        HKind::Index(a, i) => {
            let v = num(a)?;
            match a.shape() {
                Shape::Matrix(_, c) => Value::Num(Shape::Vector(c), v[i * c..(i + 1) * c].to_vec()),
                _ => Value::scalar(v[*i]),
            }
        }
        HKind::Unary(UnOp::Neg, a) => Value::Num(e.shape(), num(a)?.iter().map(|x| -x).collect()),
        HKind::Unary(UnOp::Not, a) => Value::Bool(num(a)?[0] == 0.0),
        HKind::If(c, a, b) => {
            if num(c)?[0] != 0.0 {
                eval(a, param, metric)?
            } else {
                eval(b, param, metric)?
            }
        }
        HKind::Binary(op, a, b) => {
            let (x, y) = (num(a)?, num(b)?);
            let out = binary(*op, a.shape(), &x, b.shape(), &y);
            if e.ty == Type::Bool {
                Value::Bool(out[0] != 0.0)
            } else {
                Value::Num(e.shape(), out)
            }
        }
        HKind::Call(f, args) => {
            let vals: Vec<Vec<f64>> = args.iter().map(num).collect::<Result<_, _>>()?;
            if f.is_signal() {
                return Err(EvalError::NotConstant(e.span));
            }
            Value::Num(e.shape(), call(*f, &vals))
        }
    })
}

/// Elementwise or matrix arithmetic on row-major data; shapes were checked when lowering.
pub fn binary(op: BinOp, sa: Shape, x: &[f64], sb: Shape, y: &[f64]) -> Vec<f64> {
    if op == BinOp::MatMul {
        let (r, k, c) = sa.matmul_dims(sb);
        let mut out = vec![0.0; r * c];
        for i in 0..r {
            for j in 0..c {
                out[i * c + j] = (0..k).map(|l| x[i * k + l] * y[l * c + j]).sum();
            }
        }
        return out;
    }
    let n = x.len().max(y.len());
    let pick = |v: &[f64], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    (0..n)
        .map(|i| scalar_op(op, pick(x, i), pick(y, i)))
        .collect()
}

pub fn scalar_op(op: BinOp, a: f64, b: f64) -> f64 {
    let t = |c: bool| f64::from(u8::from(c));
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Pow => pow(a, b),
        BinOp::Lt => t(a < b),
        BinOp::Le => t(a <= b),
        BinOp::Gt => t(a > b),
        BinOp::Ge => t(a >= b),
        BinOp::Eq => t(a == b),
        BinOp::Ne => t(a != b),
        BinOp::And => t(a != 0.0 && b != 0.0),
        BinOp::Or => t(a != 0.0 || b != 0.0),
        BinOp::MatMul => a * b,
    }
}

/// `a^b`, with small integer powers as exact products (so `x^3` is `x*x*x`).
pub fn pow(a: f64, b: f64) -> f64 {
    if b == b.trunc() && b.abs() <= 16.0 {
        a.powi(b as i32)
    } else {
        a.powf(b)
    }
}

pub fn scalar_func(f: Func, x: f64) -> f64 {
    match f {
        Func::Sin => x.sin(),
        Func::Cos => x.cos(),
        Func::Tan => x.tan(),
        Func::Exp => x.exp(),
        Func::Log => x.ln(),
        Func::Sqrt => x.sqrt(),
        Func::Abs => x.abs(),
        Func::Tanh => x.tanh(),
        Func::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Func::Relu => x.max(0.0),
        Func::Sign => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        }
        _ => f64::NAN,
    }
}

/// Pure (non-signal) built-ins on row-major arguments.
pub fn call(f: Func, args: &[Vec<f64>]) -> Vec<f64> {
    let pick = |v: &[f64], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    match f {
        Func::Atan2 | Func::Min | Func::Max => {
            let n = args[0].len().max(args[1].len());
            (0..n)
                .map(|i| {
                    let (a, b) = (pick(&args[0], i), pick(&args[1], i));
                    match f {
                        Func::Atan2 => a.atan2(b),
                        Func::Min => a.min(b),
                        _ => a.max(b),
                    }
                })
                .collect()
        }
        Func::Clip => {
            let n = args[0].len();
            (0..n)
                .map(|i| {
                    pick(&args[0], i)
                        .max(pick(&args[1], i))
                        .min(pick(&args[2], i))
                })
                .collect()
        }
        Func::Norm => vec![args[0].iter().map(|x| x * x).sum::<f64>().sqrt()],
        Func::Dot => vec![args[0].iter().zip(&args[1]).map(|(a, b)| a * b).sum()],
        _ => args[0].iter().map(|&x| scalar_func(f, x)).collect(),
    }
}
