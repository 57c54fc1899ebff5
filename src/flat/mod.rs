//! Flat, allocation-free evaluation of resolved expressions.
//!
//! Every shape is static, so a vector or matrix expression compiles to scalar registers: `@`
//! unrolls into multiply-adds, `let`s are computed once and shared, parameters fold into
//! constants. The result is a straight-line program over one `f64` register file; evaluating it
//! allocates nothing. This is what the NEF build runs at 10^4-10^6 points per flow.

use crate::sema::hir::{self, Func, HExpr, HKind, Shape, Value, Var};
use crate::sema::model::{System, SystemInstance};
use crate::syntax::ast::{BinOp, UnOp};

type Reg = u32;

#[derive(Clone, Copy, Debug)]
enum Op {
    Neg(Reg, Reg),
    Not(Reg, Reg),
    Bin(BinOp, Reg, Reg, Reg),
    Func(Func, Reg, Reg),
    Atan2(Reg, Reg, Reg),
    Min(Reg, Reg, Reg),
    Max(Reg, Reg, Reg),
    Select(Reg, Reg, Reg, Reg),
    /// `dst = a * b + c`
    MulAdd(Reg, Reg, Reg, Reg),
    Sqrt(Reg, Reg),
}

/// Where the compiler finds a variable.
pub enum Source<'a> {
    /// Consecutive input slots starting here.
    Slots(usize),
    /// A constant (parameter).
    Value(Value),
    /// An expression computed once (a `let`).
    Expr(&'a HExpr),
}

/// How a noise signal is produced; the caller fills its input slot each step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Noise {
    /// Independent N(0, 1) per step.
    White,
    /// Low-pass filtered N(0, 1) with this cutoff (Hz), unit variance.
    Smooth(f64),
}

/// A compiled straight-line program.
#[derive(Clone, Debug)]
pub struct Code {
    ops: Vec<Op>,
    /// Initial register file: inputs (overwritten per call), then constants, then temporaries.
    init: Vec<f64>,
    n_inputs: usize,
    outputs: Vec<Reg>,
    /// Noise sources, in the input slots `noise_base..`.
    pub noise: Vec<Noise>,
    pub noise_base: usize,
}

impl Code {
    /// A register file for [`Code::eval`]; reuse it across calls.
    pub fn scratch(&self) -> Vec<f64> {
        self.init.clone()
    }

    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }

    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    pub fn n_ops(&self) -> usize {
        self.ops.len()
    }

    /// Evaluates with `inputs` (length `n_inputs`) into `out` (length `n_outputs`).
    #[inline]
    pub fn eval(&self, inputs: &[f64], regs: &mut [f64], out: &mut [f64]) {
        regs[..self.n_inputs].copy_from_slice(&inputs[..self.n_inputs]);
        for op in &self.ops {
            match *op {
                Op::Neg(d, a) => regs[d as usize] = -regs[a as usize],
                Op::Not(d, a) => regs[d as usize] = f64::from(u8::from(regs[a as usize] == 0.0)),
                Op::Bin(o, d, a, b) => {
                    let (x, y) = (regs[a as usize], regs[b as usize]);
                    regs[d as usize] = match o {
                        BinOp::Add => x + y,
                        BinOp::Sub => x - y,
                        BinOp::Mul | BinOp::MatMul => x * y,
                        BinOp::Div => x / y,
                        other => hir::scalar_op(other, x, y),
                    }
                }
                Op::MulAdd(d, a, b, c) => {
                    regs[d as usize] = regs[a as usize] * regs[b as usize] + regs[c as usize]
                }
                Op::Func(f, d, a) => regs[d as usize] = hir::scalar_func(f, regs[a as usize]),
                Op::Sqrt(d, a) => regs[d as usize] = regs[a as usize].sqrt(),
                Op::Atan2(d, a, b) => regs[d as usize] = regs[a as usize].atan2(regs[b as usize]),
                Op::Min(d, a, b) => regs[d as usize] = regs[a as usize].min(regs[b as usize]),
                Op::Max(d, a, b) => regs[d as usize] = regs[a as usize].max(regs[b as usize]),
                Op::Select(d, c, a, b) => {
                    regs[d as usize] = if regs[c as usize] != 0.0 {
                        regs[a as usize]
                    } else {
                        regs[b as usize]
                    }
                }
            }
        }
        for (o, r) in out.iter_mut().zip(&self.outputs) {
            *o = regs[*r as usize];
        }
    }
}

struct Compiler<'a, 'e> {
    env: &'e dyn Fn(Var) -> Option<Source<'a>>,
    ops: Vec<Op>,
    init: Vec<f64>,
    /// Known constant value of each register.
    known: Vec<Option<f64>>,
    lets: Vec<(Var, Vec<Reg>)>,
    noise: Vec<Noise>,
    noise_base: usize,
}

impl<'a> Compiler<'a, '_> {
    fn reg(&mut self, value: Option<f64>) -> Reg {
        self.init.push(value.unwrap_or(0.0));
        self.known.push(value);
        (self.init.len() - 1) as Reg
    }

    fn konst(&mut self, x: f64) -> Reg {
        // Reuse an existing constant register.
        if let Some(i) = self
            .known
            .iter()
            .position(|k| k.is_some_and(|v| v.to_bits() == x.to_bits()))
        {
            return i as Reg;
        }
        self.reg(Some(x))
    }

    fn val(&self, r: Reg) -> Option<f64> {
        self.known[r as usize]
    }

    #[allow(clippy::redundant_guards)]
    fn bin(&mut self, op: BinOp, a: Reg, b: Reg) -> Reg {
        if let (Some(x), Some(y)) = (self.val(a), self.val(b)) {
            return self.konst(hir::scalar_op(op, x, y));
        }
        // Algebraic identities that keep matrix literals with zeros cheap.
        match (op, self.val(a), self.val(b)) {
            (BinOp::Mul, Some(z), _) | (BinOp::Mul, _, Some(z)) if z == 0.0 => {
                return self.konst(0.0)
            }
            (BinOp::Mul, Some(o), _) if o == 1.0 => return b,
            (BinOp::Mul | BinOp::Div, _, Some(o)) if o == 1.0 => return a,
            (BinOp::Add, Some(z), _) if z == 0.0 => return b,
            (BinOp::Add | BinOp::Sub, _, Some(z)) if z == 0.0 => return a,
            (BinOp::Pow, _, Some(p)) if p == 2.0 => return self.bin(BinOp::Mul, a, a),
            (BinOp::Pow, _, Some(p)) if p == 3.0 => {
                let sq = self.bin(BinOp::Mul, a, a);
                return self.bin(BinOp::Mul, sq, a);
            }
            _ => {}
        }
        let d = self.reg(None);
        self.ops.push(Op::Bin(op, d, a, b));
        d
    }

    fn unary(&mut self, f: impl Fn(f64) -> f64, make: impl Fn(Reg, Reg) -> Op, a: Reg) -> Reg {
        if let Some(x) = self.val(a) {
            return self.konst(f(x));
        }
        let d = self.reg(None);
        self.ops.push(make(d, a));
        d
    }

    fn expr(&mut self, e: &'a HExpr) -> Result<Vec<Reg>, String> {
        let n = e.shape().len();
        Ok(match &e.kind {
            HKind::Num(x) => vec![self.konst(*x)],
            HKind::Bool(b) => vec![self.konst(f64::from(u8::from(*b)))],
            HKind::Str(_) | HKind::Metric(_) => {
                return Err("strings and metrics cannot be compiled to code".into())
            }
            HKind::Var(v) => {
                if let Some((_, regs)) = self.lets.iter().find(|(w, _)| w == v) {
                    return Ok(regs.clone());
                }
                match (self.env)(*v) {
                    Some(Source::Slots(base)) => (0..n).map(|i| (base + i) as Reg).collect(),
                    Some(Source::Value(val)) => val
                        .as_slice()
                        .unwrap_or(&[])
                        .to_vec()
                        .into_iter()
                        .map(|x| self.konst(x))
                        .collect(),
                    Some(Source::Expr(h)) => {
                        let regs = self.expr(h)?;
                        self.lets.push((*v, regs.clone()));
                        regs
                    }
                    None => return Err(format!("no value for {v:?}")),
                }
            }
            HKind::Unary(UnOp::Neg, a) => {
                let ra = self.expr(a)?;
                ra.into_iter()
                    .map(|r| self.unary(|x| -x, Op::Neg, r))
                    .collect()
            }
            HKind::Unary(UnOp::Not, a) => {
                let ra = self.expr(a)?;
                vec![self.unary(|x| f64::from(u8::from(x == 0.0)), Op::Not, ra[0])]
            }
            HKind::If(c, a, b) => {
                let rc = self.expr(c)?[0];
                let (ra, rb) = (self.expr(a)?, self.expr(b)?);
                match self.val(rc) {
                    Some(x) if x != 0.0 => ra,
                    Some(_) => rb,
                    None => ra
                        .into_iter()
                        .zip(rb)
                        .map(|(x, y)| {
                            let d = self.reg(None);
                            self.ops.push(Op::Select(d, rc, x, y));
                            d
                        })
                        .collect(),
                }
            }
            HKind::Array(items) => {
                let mut out = Vec::with_capacity(n);
                for it in items {
                    out.extend(self.expr(it)?);
                }
                out
            }
            HKind::Index(a, i) => {
                let ra = self.expr(a)?;
                match a.shape() {
                    Shape::Matrix(_, c) => ra[i * c..(i + 1) * c].to_vec(),
                    _ => vec![ra[*i]],
                }
            }
            HKind::Binary(op, a, b) => {
                let (ra, rb) = (self.expr(a)?, self.expr(b)?);
                if *op == BinOp::MatMul {
                    return Ok(self.matmul(a.shape(), &ra, b.shape(), &rb));
                }
                let len = ra.len().max(rb.len());
                let pick = |v: &[Reg], i: usize| if v.len() == 1 { v[0] } else { v[i] };
                (0..len)
                    .map(|i| self.bin(*op, pick(&ra, i), pick(&rb, i)))
                    .collect()
            }
            HKind::Call(f, args) => self.call(*f, args, n)?,
        })
    }

    fn matmul(&mut self, sa: Shape, ra: &[Reg], sb: Shape, rb: &[Reg]) -> Vec<Reg> {
        let (r, k, c) = sa.matmul_dims(sb);
        let mut out = Vec::with_capacity(r * c);
        for i in 0..r {
            for j in 0..c {
                let mut acc: Option<Reg> = None;
                for l in 0..k {
                    let (x, y) = (ra[i * k + l], rb[l * c + j]);
                    if self.val(x) == Some(0.0) || self.val(y) == Some(0.0) {
                        continue;
                    }
                    acc = Some(match acc {
                        None => self.bin(BinOp::Mul, x, y),
                        Some(s) if self.val(x).is_none() || self.val(y).is_none() => {
                            let d = self.reg(None);
                            self.ops.push(Op::MulAdd(d, x, y, s));
                            d
                        }
                        Some(s) => {
                            let p = self.bin(BinOp::Mul, x, y);
                            self.bin(BinOp::Add, p, s)
                        }
                    });
                }
                out.push(acc.unwrap_or_else(|| self.konst(0.0)));
            }
        }
        out
    }

    fn call(&mut self, f: Func, args: &'a [HExpr], n: usize) -> Result<Vec<Reg>, String> {
        let regs: Vec<Vec<Reg>> = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Result<_, _>>()?;
        let pick = |v: &[Reg], i: usize| if v.len() == 1 { v[0] } else { v[i] };
        let t = || (self.env)(Var::Time);
        Ok(match f {
            Func::Atan2 | Func::Min | Func::Max => (0..n)
                .map(|i| {
                    let (a, b) = (pick(&regs[0], i), pick(&regs[1], i));
                    if let (Some(x), Some(y)) = (self.val(a), self.val(b)) {
                        return self.konst(hir::call(f, &[vec![x], vec![y]])[0]);
                    }
                    let d = self.reg(None);
                    self.ops.push(match f {
                        Func::Atan2 => Op::Atan2(d, a, b),
                        Func::Min => Op::Min(d, a, b),
                        _ => Op::Max(d, a, b),
                    });
                    d
                })
                .collect(),
            Func::Clip => (0..n)
                .map(|i| {
                    let lo = self.max(pick(&regs[0], i), pick(&regs[1], i));
                    self.min(lo, pick(&regs[2], i))
                })
                .collect(),
            Func::Norm | Func::Dot => {
                let other = if f == Func::Dot { &regs[1] } else { &regs[0] };
                let mut acc = self.konst(0.0);
                for (x, y) in regs[0].clone().into_iter().zip(other.clone()) {
                    let p = self.bin(BinOp::Mul, x, y);
                    acc = self.bin(BinOp::Add, acc, p);
                }
                if f == Func::Norm {
                    vec![self.unary(f64::sqrt, Op::Sqrt, acc)]
                } else {
                    vec![acc]
                }
            }
            Func::Step | Func::Pulse | Func::Ramp | Func::Sine => {
                let tr = match t() {
                    Some(Source::Slots(b)) => b as Reg,
                    _ => return Err("signals need `t`".into()),
                };
                let a0 = regs[0][0];
                vec![match f {
                    Func::Step => self.bin(BinOp::Ge, tr, a0),
                    Func::Pulse => {
                        let on = self.bin(BinOp::Ge, tr, a0);
                        let end = self.bin(BinOp::Add, a0, regs[1][0]);
                        let before = self.bin(BinOp::Lt, tr, end);
                        self.bin(BinOp::Mul, on, before)
                    }
                    Func::Ramp => {
                        let dtm = self.bin(BinOp::Sub, tr, a0);
                        let x = self.bin(BinOp::Div, dtm, regs[1][0]);
                        let zero = self.konst(0.0);
                        let one = self.konst(1.0);
                        let lo = self.max(x, zero);
                        self.min(lo, one)
                    }
                    _ => {
                        let w = self.konst(2.0 * std::f64::consts::PI);
                        let wf = self.bin(BinOp::Mul, w, a0);
                        let ph = self.bin(BinOp::Mul, wf, tr);
                        let arg = self.bin(BinOp::Add, ph, regs[1][0]);
                        self.unary(f64::sin, |d, a| Op::Func(Func::Sin, d, a), arg)
                    }
                }]
            }
            Func::Noise | Func::SmoothNoise => {
                let kind = if f == Func::Noise {
                    Noise::White
                } else {
                    Noise::Smooth(
                        self.val(regs[1][0])
                            .ok_or("the cutoff of `smooth_noise` must be a constant")?,
                    )
                };
                let slot = (self.noise_base + self.noise.len()) as Reg;
                self.noise.push(kind);
                vec![self.bin(BinOp::Mul, regs[0][0], slot)]
            }
            _ => regs[0]
                .clone()
                .into_iter()
                .map(|r| self.unary(|x| hir::scalar_func(f, x), |d, a| Op::Func(f, d, a), r))
                .collect(),
        })
    }

    fn min(&mut self, a: Reg, b: Reg) -> Reg {
        if let (Some(x), Some(y)) = (self.val(a), self.val(b)) {
            return self.konst(x.min(y));
        }
        let d = self.reg(None);
        self.ops.push(Op::Min(d, a, b));
        d
    }

    fn max(&mut self, a: Reg, b: Reg) -> Reg {
        if let (Some(x), Some(y)) = (self.val(a), self.val(b)) {
            return self.konst(x.max(y));
        }
        let d = self.reg(None);
        self.ops.push(Op::Max(d, a, b));
        d
    }
}

/// Compiles `exprs` (their components, concatenated, are the outputs). `n_inputs` slots come
/// first; `env` says where each variable lives. Noise sources get slots after `n_inputs`.
pub fn compile<'a>(
    exprs: &[&'a HExpr],
    n_inputs: usize,
    env: &dyn Fn(Var) -> Option<Source<'a>>,
) -> Result<Code, String> {
    // Reserve generously for noise slots: they are inputs the caller fills.
    let max_noise = exprs.iter().map(|e| count_noise(e)).sum::<usize>();
    let total_inputs = n_inputs + max_noise;
    let mut c = Compiler {
        env,
        ops: Vec::new(),
        init: vec![0.0; total_inputs],
        known: vec![None; total_inputs],
        lets: Vec::new(),
        noise: Vec::new(),
        noise_base: n_inputs,
    };
    let mut outputs = Vec::new();
    for e in exprs {
        outputs.extend(c.expr(e)?);
    }
    Ok(Code {
        ops: c.ops,
        init: c.init,
        n_inputs: total_inputs,
        outputs,
        noise: c.noise,
        noise_base: n_inputs,
    })
}

fn count_noise(e: &HExpr) -> usize {
    let own = usize::from(matches!(
        e.kind,
        HKind::Call(Func::Noise | Func::SmoothNoise, _)
    ));
    own + match &e.kind {
        HKind::Unary(_, a) | HKind::Index(a, _) => count_noise(a),
        HKind::Binary(_, a, b) => count_noise(a) + count_noise(b),
        HKind::If(c, a, b) => count_noise(c) + count_noise(a) + count_noise(b),
        HKind::Array(v) | HKind::Call(_, v) => v.iter().map(count_noise).sum(),
        _ => 0,
    }
}

/// The right-hand side `f(z, u)` of a system instance: inputs are `[z (d), u (k)]`, outputs the
/// `d` components of the flow (or of the map's next state).
pub fn system_rhs(sys: &System, inst: &SystemInstance) -> Result<Code, String> {
    let exprs: Vec<&HExpr> = sys.equations.iter().collect();
    compile(
        &exprs,
        sys.state_dim() + sys.input_dim(),
        &layout(sys, inst),
    )
}

/// The outputs `y(z, u)` of a system instance, in declaration order.
pub fn system_outputs(sys: &System, inst: &SystemInstance) -> Result<Code, String> {
    let exprs: Vec<&HExpr> = sys.outputs.iter().map(|(_, h)| h).collect();
    compile(
        &exprs,
        sys.state_dim() + sys.input_dim(),
        &layout(sys, inst),
    )
}

fn layout<'a>(sys: &'a System, inst: &SystemInstance) -> impl Fn(Var) -> Option<Source<'a>> {
    let mut state_at = Vec::new();
    let mut at = 0;
    for s in &sys.states {
        state_at.push(at);
        at += s.size.unwrap_or(1);
    }
    let mut input_at = Vec::new();
    for ch in &sys.inputs {
        input_at.push(at);
        at += ch.len();
    }
    let params = inst.params.clone();
    move |v| match v {
        Var::State(i) => state_at.get(i).map(|&b| Source::Slots(b)),
        Var::Input(i) => input_at.get(i).map(|&b| Source::Slots(b)),
        Var::Param(i) => params.get(i).cloned().map(Source::Value),
        Var::Let(i) => sys.lets.get(i).map(|(_, h)| Source::Expr(h)),
        Var::Time | Var::Local(_) | Var::Poisoned => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver;
    use crate::sema::Target;
    use crate::source::{MemLoader, SourceDb};

    fn rhs_of(src: &str, net: &str) -> (Code, usize) {
        let mut db = SourceDb::new();
        let a = driver::analyze_text(&mut db, &MemLoader::default(), "t.rnn", src);
        assert!(!a.has_errors(), "{:?}", a.diagnostics);
        let n = a.program.network(net).expect("network");
        let Target::System(inst) = &n.target else {
            panic!("not a system")
        };
        let sys = &a.program.systems[inst.system];
        (system_rhs(sys, inst).expect("compiles"), sys.state_dim())
    }

    #[test]
    fn lorenz_matches_hand_written() {
        let src = "import std.systems\nnetwork n for Lorenz(rho = 30) { neurons = 10 }";
        let (code, d) = rhs_of(src, "n");
        assert_eq!(d, 3);
        let mut regs = code.scratch();
        let mut out = [0.0; 3];
        for z in [[1.0, 2.0, 3.0], [-7.5, 0.25, 40.0]] {
            code.eval(&z, &mut regs, &mut out);
            let (x, y, w) = (z[0], z[1], z[2]);
            let want = [10.0 * (y - x), x * (30.0 - w) - y, x * y - 8.0 / 3.0 * w];
            for i in 0..3 {
                assert!(
                    (out[i] - want[i]).abs() <= 1e-12 * want[i].abs().max(1.0),
                    "{out:?} vs {want:?}"
                );
            }
        }
        assert!(code.n_ops() <= 12, "{} ops", code.n_ops());
    }

    #[test]
    fn matrix_literals_unroll_with_parameters_folded() {
        let src = "import std.systems\nnetwork n for Oscillator(freq = 2 Hz) { neurons = 10 }";
        let (code, _) = rhs_of(src, "n");
        let mut regs = code.scratch();
        let mut out = [0.0; 2];
        // inputs: q[0], q[1], kick[0], kick[1]
        code.eval(&[0.5, -0.25, 0.1, 0.2], &mut regs, &mut out);
        let w = 2.0 * std::f64::consts::PI * 2.0;
        assert!((out[0] - (w * 0.25 + 0.1)).abs() < 1e-12);
        assert!((out[1] - (w * 0.5 + 0.2)).abs() < 1e-12);
        // The zero entries of the matrix cost nothing: two products and two input adds.
        assert!(code.n_ops() <= 6, "{} ops", code.n_ops());
    }
}
