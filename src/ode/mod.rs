//! Integrators for the programs' own dynamics: a fixed-step RK4 for one-step flow maps (the
//! NEF build runs it from thousands of points) and an adaptive Dormand-Prince 5(4) for
//! reference trajectories (what a network is judged against).

/// A right-hand side `dz/dt = f(t, z)`.
pub trait Rhs {
    fn eval(&mut self, t: f64, z: &[f64], dz: &mut [f64]);
}

impl<F: FnMut(f64, &[f64], &mut [f64])> Rhs for F {
    fn eval(&mut self, t: f64, z: &[f64], dz: &mut [f64]) {
        self(t, z, dz)
    }
}

/// Classic RK4 from `t` over `h` in `n` equal substeps, in place.
pub fn rk4(f: &mut dyn Rhs, t: f64, z: &mut [f64], h: f64, n: usize) {
    let d = z.len();
    let mut k = vec![0.0; 4 * d];
    let mut tmp = vec![0.0; d];
    let s = h / n as f64;
    for step in 0..n {
        let t0 = t + step as f64 * s;
        let (k1, rest) = k.split_at_mut(d);
        let (k2, rest) = rest.split_at_mut(d);
        let (k3, k4) = rest.split_at_mut(d);
        f.eval(t0, z, k1);
        for i in 0..d {
            tmp[i] = z[i] + 0.5 * s * k1[i];
        }
        f.eval(t0 + 0.5 * s, &tmp, k2);
        for i in 0..d {
            tmp[i] = z[i] + 0.5 * s * k2[i];
        }
        f.eval(t0 + 0.5 * s, &tmp, k3);
        for i in 0..d {
            tmp[i] = z[i] + s * k3[i];
        }
        f.eval(t0 + s, &tmp, k4);
        for i in 0..d {
            z[i] += s / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
}

/// Why an integration stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum OdeError {
    /// The state became NaN or infinite at this time.
    NonFinite(f64),
    /// The step size fell below what the tolerance allows at this time (a blow-up).
    StepTooSmall(f64),
}

impl std::fmt::Display for OdeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OdeError::NonFinite(t) => write!(f, "the state is not finite at t = {t:.6} s"),
            OdeError::StepTooSmall(t) => write!(
                f,
                "the step size vanished at t = {t:.6} s (the solution blows up)"
            ),
        }
    }
}

/// Adaptive Dormand-Prince 5(4) with error control on `atol + rtol |z|`.
pub struct Dopri5 {
    pub rtol: f64,
    pub atol: f64,
    /// The step size carried between calls.
    h: f64,
    k: Vec<Vec<f64>>,
    tmp: Vec<f64>,
    err: Vec<f64>,
    /// Right-hand side evaluations so far.
    pub evals: usize,
}

const C: [f64; 7] = [0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0];
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [0.2, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// 5th minus 4th order weights: the error estimate.
const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

impl Dopri5 {
    pub fn new(dim: usize, rtol: f64, atol: f64) -> Dopri5 {
        Dopri5 {
            rtol,
            atol,
            h: 0.0,
            k: vec![vec![0.0; dim]; 7],
            tmp: vec![0.0; dim],
            err: vec![0.0; dim],
            evals: 0,
        }
    }

    /// Integrates from `t0` to `t1` in place. The right-hand side is evaluated only at
    /// times inside `[t0, t1]`, so an input that jumps at `t0` or `t1` is seen from inside.
    pub fn integrate(
        &mut self,
        f: &mut dyn Rhs,
        t0: f64,
        t1: f64,
        z: &mut [f64],
    ) -> Result<(), OdeError> {
        let d = z.len();
        let span = t1 - t0;
        if span <= 0.0 {
            return Ok(());
        }
        if self.h <= 0.0 || self.h > span {
            self.h = span;
        }
        let mut t = t0;
        // Evaluate strictly inside the interval at its ends.
        let inner = |s: f64| s.clamp(t0 + 1e-9 * span, t1 - 1e-9 * span);
        f.eval(inner(t), z, &mut self.k[0]);
        self.evals += 1;
        let mut rejected = false;
        while t < t1 {
            let last = t + self.h >= t1 - 1e-12 * span;
            let h = if last { t1 - t } else { self.h };
            for s in 1..7 {
                for i in 0..d {
                    let mut acc = z[i];
                    for (j, a) in A[s].iter().enumerate().take(s) {
                        acc += h * a * self.k[j][i];
                    }
                    self.tmp[i] = acc;
                }
                f.eval(inner(t + C[s] * h), &self.tmp, &mut self.k[s]);
                self.evals += 1;
            }
            // tmp holds the 5th-order solution: the last row of A is its weights, so stage 7
            // is evaluated there (first same as last).
            let mut norm = 0.0;
            for i in 0..d {
                let mut e = 0.0;
                for (j, w) in E.iter().enumerate() {
                    e += w * self.k[j][i];
                }
                self.err[i] = h * e;
                let sc = self.atol + self.rtol * z[i].abs().max(self.tmp[i].abs());
                norm += (self.err[i] / sc).powi(2);
            }
            let norm = (norm / d.max(1) as f64).sqrt();
            if !norm.is_finite() || self.tmp.iter().any(|v| !v.is_finite()) {
                if h < 1e-14 * span.max(1.0) {
                    return Err(OdeError::NonFinite(t));
                }
                self.h = h * 0.1;
                rejected = true;
                continue;
            }
            if norm <= 1.0 {
                t = if last { t1 } else { t + h };
                z.copy_from_slice(&self.tmp);
                self.k.swap(0, 6);
                let grow = if rejected { 1.0 } else { 5.0 };
                let fac = (0.9 * norm.powf(-0.2)).clamp(0.2, grow);
                if !last {
                    self.h = h * fac;
                } else {
                    self.h = self.h.max(h * fac);
                }
                rejected = false;
            } else {
                self.h = h * (0.9 * norm.powf(-0.2)).clamp(0.1, 0.9);
                rejected = true;
                if self.h < 1e-13 * (t.abs() + span) {
                    return Err(OdeError::StepTooSmall(t));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rk4_rotation_is_accurate() {
        let w = 2.0 * std::f64::consts::PI;
        let mut f = |_: f64, z: &[f64], dz: &mut [f64]| {
            dz[0] = -w * z[1];
            dz[1] = w * z[0];
        };
        let mut z = [1.0, 0.0];
        rk4(&mut f, 0.0, &mut z, 0.001, 10);
        assert!((z[0] - (w * 0.001).cos()).abs() < 1e-15);
        assert!((z[1] - (w * 0.001).sin()).abs() < 1e-15);
    }

    #[test]
    fn dopri_matches_exact_solutions() {
        let w = 2.0 * std::f64::consts::PI;
        let mut f = |_: f64, z: &[f64], dz: &mut [f64]| {
            dz[0] = -w * z[1];
            dz[1] = w * z[0];
        };
        let mut ode = Dopri5::new(2, 1e-11, 1e-13);
        let mut z = [1.0, 0.0];
        for step in 0..1000 {
            ode.integrate(
                &mut f,
                step as f64 * 0.005,
                (step + 1) as f64 * 0.005,
                &mut z,
            )
            .unwrap();
        }
        // Five periods.
        assert!((z[0] - 1.0).abs() < 1e-8 && z[1].abs() < 1e-8, "{z:?}");
        // A jump at a step boundary is integrated exactly: x' = [t >= 1].
        let mut g = |t: f64, _: &[f64], dz: &mut [f64]| dz[0] = if t >= 1.0 { 1.0 } else { 0.0 };
        let mut ode = Dopri5::new(1, 1e-11, 1e-13);
        let mut x = [0.0];
        ode.integrate(&mut g, 0.0, 1.0, &mut x).unwrap();
        ode.integrate(&mut g, 1.0, 1.5, &mut x).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12, "{x:?}");
    }

    #[test]
    fn blow_up_is_an_error() {
        let mut f = |_: f64, z: &[f64], dz: &mut [f64]| dz[0] = z[0] * z[0];
        let mut ode = Dopri5::new(1, 1e-10, 1e-12);
        let mut z = [1.0];
        assert!(ode.integrate(&mut f, 0.0, 2.0, &mut z).is_err());
    }
}
