//! The program's exact model as numbers: a system instance's right-hand side, outputs, domain
//! map and flow map, and point sampling (`spread`). Every method builds from it and the
//! reference solution, `trace` and `check` measure against it; it sits below all of them.

pub mod spread;

use crate::flat::{self, Code};
use crate::ode;
use crate::sema::model::{Region, System, SystemInstance, TimeKind};

/// The affine map of the domain onto unit coordinates: `zeta = (z - c) / s` per component
/// (METHODS.md section 2, step 1).
#[derive(Clone, Debug, PartialEq)]
pub struct DomainMap {
    pub center: Vec<f64>,
    pub scale: Vec<f64>,
    /// Some domain is a box of two or more components: its corners lie outside the unit ball.
    pub has_box: bool,
}

impl DomainMap {
    /// From the domain of each state line: boxes by their half-widths, balls by their
    /// radius; several lines are a product, scaled by `sqrt(lines)` into the unit ball.
    pub fn new(d: usize, domains: &[(Vec<usize>, Region)]) -> DomainMap {
        let mut center = vec![0.0; d];
        let mut scale = vec![1.0; d];
        let mut has_box = false;
        let m = (domains.len().max(1) as f64).sqrt();
        for (comps, region) in domains {
            has_box |= matches!(region, Region::Box { .. }) && comps.len() > 1;
            let (c, h) = (region.center(), region.half_widths());
            for (j, &comp) in comps.iter().enumerate() {
                if comp < d {
                    center[comp] = c[j];
                    scale[comp] = h[j].abs().max(f64::MIN_POSITIVE) * m;
                }
            }
        }
        DomainMap {
            center,
            scale,
            has_box,
        }
    }

    pub fn to_unit(&self, z: &[f64], zeta: &mut [f64]) {
        for j in 0..z.len() {
            zeta[j] = (z[j] - self.center[j]) / self.scale[j];
        }
    }

    pub fn from_unit(&self, zeta: &[f64], z: &mut [f64]) {
        for j in 0..zeta.len() {
            z[j] = self.center[j] + self.scale[j] * zeta[j];
        }
    }
}

/// A system instance ready to evaluate.
pub struct Latent<'p> {
    pub sys: &'p System,
    pub inst: &'p SystemInstance,
    pub d: usize,
    pub k: usize,
    pub rhs: Code,
    pub outputs: Code,
    pub map: DomainMap,
    /// The map of the inputs' ranges (inputs without a range: `[-1, 1]`).
    pub input_map: DomainMap,
}

impl<'p> Latent<'p> {
    pub fn new(sys: &'p System, inst: &'p SystemInstance) -> Result<Latent<'p>, String> {
        let d = sys.state_dim();
        let k = sys.input_dim();
        let rhs = flat::system_rhs(sys, inst)?;
        let outputs = flat::system_outputs(sys, inst)?;
        if !rhs.noise.is_empty() {
            return Err("a system's right-hand side cannot contain noise".into());
        }
        let map = DomainMap::new(d, &inst.domains);
        let mut input_map = DomainMap::new(k, &inst.input_ranges);
        // Ranges are per input, not a joint ball: undo the product scaling.
        let m = (inst.input_ranges.len().max(1) as f64).sqrt();
        for s in &mut input_map.scale {
            *s /= m;
        }
        Ok(Latent {
            sys,
            inst,
            d,
            k,
            rhs,
            outputs,
            map,
            input_map,
        })
    }

    /// A bound on `|df/dz|` over the domain (finite differences at seeded points), for the RK4
    /// substep.
    pub fn rate_bound(&self) -> f64 {
        let lat = self;
        let (d, k) = (lat.d, lat.k);
        let mut rng = crate::rng::Rng::new(0, "lipschitz");
        let mut ev = lat.evaluator();
        let pts = spread::ball(32, d, &mut rng);
        let u = vec![0.0; k];
        let (mut f0, mut f1) = (vec![0.0; d], vec![0.0; d]);
        let mut z = vec![0.0; d];
        let mut rate = 0.0f64;
        for p in pts.chunks(d) {
            lat.map.from_unit(p, &mut z);
            ev.eval(&z, &u, &mut f0);
            for j in 0..d {
                let h = 1e-6 * lat.map.scale[j];
                z[j] += h;
                ev.eval(&z, &u, &mut f1);
                z[j] -= h;
                let col: f64 = f0
                    .iter()
                    .zip(&f1)
                    .enumerate()
                    .map(|(i, (a, b))| ((b - a) / h * lat.map.scale[j] / lat.map.scale[i]).abs())
                    .sum();
                if col.is_finite() {
                    rate = rate.max(col);
                }
            }
        }
        rate
    }

    pub fn kind(&self) -> TimeKind {
        self.sys.kind
    }

    /// An evaluator of `f(z, u)` with its own registers (one per thread).
    pub fn evaluator(&self) -> Evaluator<'_> {
        Evaluator {
            code: &self.rhs,
            regs: self.rhs.scratch(),
            args: vec![0.0; self.rhs.n_inputs()],
            d: self.d,
        }
    }

    /// An evaluator of the outputs `y(z, u)`.
    pub fn output_evaluator(&self) -> Evaluator<'_> {
        Evaluator {
            code: &self.outputs,
            regs: self.outputs.scratch(),
            args: vec![0.0; self.outputs.n_inputs()],
            d: self.d,
        }
    }

    pub fn n_outputs(&self) -> usize {
        self.outputs.n_outputs()
    }
}

/// Evaluates compiled code at `(z, u)`.
pub struct Evaluator<'c> {
    code: &'c Code,
    regs: Vec<f64>,
    args: Vec<f64>,
    d: usize,
}

impl Evaluator<'_> {
    pub fn eval(&mut self, z: &[f64], u: &[f64], out: &mut [f64]) {
        self.args[..self.d].copy_from_slice(z);
        self.args[self.d..self.d + u.len()].copy_from_slice(u);
        self.code.eval(&self.args, &mut self.regs, out);
    }

    /// One step of the exact solution, in place: the map applied once, or the flow integrated
    /// from `t0` to `t0 + dt` with `u` held by `ode` (the reference integrator).
    pub fn exact_step(
        &mut self,
        kind: TimeKind,
        ode: &mut ode::Dopri5,
        z: &mut [f64],
        u: &[f64],
        t0: f64,
        dt: f64,
    ) -> Result<(), String> {
        match kind {
            TimeKind::Map => {
                let prev = z.to_vec();
                self.eval(&prev, u, z);
                Ok(())
            }
            TimeKind::Flow => {
                let mut f = |_: f64, z: &[f64], dz: &mut [f64]| self.eval(z, u, dz);
                ode.integrate(&mut f, t0, t0 + dt, z)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// The one-step flow map `Phi_dt(z)` with `u` held, in place: RK4 in `substeps` steps for
    /// a flow, one application for a map.
    pub fn flow_map(&mut self, kind: TimeKind, z: &mut [f64], u: &[f64], dt: f64, substeps: usize) {
        match kind {
            TimeKind::Map => {
                let z0 = z.to_vec();
                self.eval(&z0, u, z);
            }
            TimeKind::Flow => {
                let mut f = |_: f64, z: &[f64], dz: &mut [f64]| self.eval(z, u, dz);
                ode::rk4(&mut f, 0.0, z, dt, substeps);
            }
        }
    }
}

/// RK4 substeps for a one-step flow map: enough that the local error is far below any
/// decoder error (`h |f'| <= 0.02`, at least 8 substeps).
pub fn substeps(dt: f64, rate: f64) -> usize {
    ((dt * rate / 0.02).ceil() as usize).clamp(8, 10_000)
}
