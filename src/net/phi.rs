//! Neuron models: the rate functions of METHODS.md section 1 and their tuning.

/// A rate function `phi`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Phi {
    Linear,
    Tanh,
    Relu,
    /// The logistic function.
    Sigmoid,
    /// `ln(1 + e^x)`.
    Softplus,
    /// Nengo's LIFRate: `1 / (tau_ref + tau_rc ln(1 + 1 / (J - 1)))` for J > 1, else 0.
    Lif {
        tau_rc: f64,
        tau_ref: f64,
    },
}

impl Phi {
    pub fn name(self) -> &'static str {
        use crate::decl as d;
        match self {
            Phi::Linear => d::Linear::NAME,
            Phi::Tanh => d::Tanh::NAME,
            Phi::Relu => d::Relu::NAME,
            Phi::Sigmoid => d::Sigmoid::NAME,
            Phi::Softplus => d::Softplus::NAME,
            Phi::Lif { .. } => d::Lif::NAME,
        }
    }

    /// The rate function of a declared neuron model.
    pub fn from_neuron(n: &crate::decl::Neuron) -> Phi {
        use crate::decl::Neuron as N;
        match n {
            N::Linear(_) => Phi::Linear,
            N::Tanh(_) => Phi::Tanh,
            N::Relu(_) => Phi::Relu,
            N::Sigmoid(_) => Phi::Sigmoid,
            N::Softplus(_) => Phi::Softplus,
            N::Lif(l) => Phi::Lif {
                tau_rc: l.tau_rc,
                tau_ref: l.tau_ref,
            },
        }
    }

    /// From a manifest's name and its parameters (`tau_rc`, `tau_ref` for `lif`, SI
    /// seconds; `logistic` is `sigmoid`).
    pub fn from_name(name: &str, param: &dyn Fn(&str) -> Option<f64>) -> Option<Phi> {
        crate::decl::Neuron::from_manifest(name, param).map(|n| Phi::from_neuron(&n))
    }

    /// The parameters as `(name, value)`, for the manifest.
    pub fn params(self) -> Vec<(&'static str, f64)> {
        match self {
            Phi::Lif { tau_rc, tau_ref } => vec![("tau_rc", tau_rc), ("tau_ref", tau_ref)],
            _ => Vec::new(),
        }
    }

    /// The first parameter that leaves the rate undefined, as `(name, value, what is
    /// expected)`: LIF's `1 / (tau_ref + tau_rc ln(1 + 1 / (J - 1)))` needs a finite
    /// `tau_rc > 0` and a finite `tau_ref >= 0` (else it is negative, infinite or NaN).
    pub fn invalid_param(self) -> Option<(&'static str, f64, &'static str)> {
        match self {
            Phi::Lif { tau_rc, .. } if !(tau_rc > 0.0 && tau_rc.is_finite()) => {
                Some(("tau_rc", tau_rc, "a finite time > 0 (s)"))
            }
            Phi::Lif { tau_ref, .. } if !(tau_ref >= 0.0 && tau_ref.is_finite()) => {
                Some(("tau_ref", tau_ref, "a finite time >= 0 (s)"))
            }
            _ => None,
        }
    }

    #[inline]
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Phi::Linear => x,
            Phi::Tanh => super::fastmath::tanh(x),
            Phi::Relu => x.max(0.0),
            Phi::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Phi::Softplus => {
                // Stable for large |x|: max(x, 0) + ln(1 + e^-|x|).
                x.max(0.0) + (-x.abs()).exp().ln_1p()
            }
            Phi::Lif { tau_rc, tau_ref } => {
                if x > 1.0 {
                    1.0 / (tau_ref + tau_rc * (1.0 / (x - 1.0)).ln_1p())
                } else {
                    0.0
                }
            }
        }
    }

    /// The derivative `phi'(x)` (0 at the kinks of relu and LIF; LIF's is infinite at
    /// threshold and taken as 0 there).
    pub fn deriv(self, x: f64) -> f64 {
        match self {
            Phi::Linear => 1.0,
            Phi::Tanh => {
                let t = super::fastmath::tanh(x);
                1.0 - t * t
            }
            Phi::Relu => f64::from(u8::from(x > 0.0)),
            Phi::Sigmoid => {
                let s = self.eval(x);
                s * (1.0 - s)
            }
            Phi::Softplus => 1.0 / (1.0 + (-x).exp()),
            Phi::Lif { tau_rc, .. } => {
                if x > 1.0 {
                    // G = 1 / (tau_ref + tau_rc ln(1 + 1/(x-1))); dG/dx = G^2 tau_rc / (x (x-1)).
                    let g = self.eval(x);
                    g * g * tau_rc / (x * (x - 1.0))
                } else {
                    0.0
                }
            }
        }
    }

    /// Applies phi to every element of `x` in place.
    pub fn eval_inplace(self, x: &mut [f64]) {
        match self {
            Phi::Tanh => super::fastmath::tanh_inplace(x),
            Phi::Relu => x.iter_mut().for_each(|v| *v = v.max(0.0)),
            Phi::Linear => {}
            _ => x.iter_mut().for_each(|v| *v = self.eval(*v)),
        }
    }

    /// `x[i] = phi(g * x[i])`.
    pub fn eval_scaled_inplace(self, g: f64, x: &mut [f64]) {
        if g != 1.0 {
            x.iter_mut().for_each(|v| *v *= g);
        }
        self.eval_inplace(x);
    }

    /// `out[i] = phi(g * x[i])`.
    pub fn eval_scaled_into(self, g: f64, x: &[f64], out: &mut [f64]) {
        match self {
            Phi::Tanh => super::fastmath::tanh_slice(g, x, out),
            _ => {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = self.eval(g * v);
                }
            }
        }
    }

    /// Applies phi to every element of `x` into `out`.
    #[inline]
    pub fn eval_into(self, x: &[f64], out: &mut [f64]) {
        match self {
            Phi::Tanh => super::fastmath::tanh_slice(1.0, x, out),
            Phi::Relu => {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = v.max(0.0);
                }
            }
            _ => {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = self.eval(v);
                }
            }
        }
    }

    /// Gain and bias of a neuron whose current `gain * s + bias` crosses threshold (zero; 1
    /// for LIF) at `s = intercept` and whose response at `s = 1` is set by `level` in
    /// `[0, 1)`: the fraction of phi's range METHODS.md section 2 draws (tanh, sigmoid: of the
    /// maximum; relu, linear: the value itself; softplus: the rise above `phi(0)`; LIF: the
    /// rate in Hz is `200 + 200 level`). Returns `None` for an intercept of 1 or more.
    pub fn tune(self, intercept: f64, level: f64) -> Option<(f64, f64)> {
        let c = intercept;
        if c >= 1.0 - 1e-9 {
            return None;
        }
        let gain = match self {
            Phi::Tanh => {
                let f = 0.5 + 0.45 * level;
                f.atanh() / (1.0 - c)
            }
            Phi::Sigmoid => {
                // The logistic is 1/2 at threshold: its response at 1 is drawn from
                // U(0.6, 0.95) so no neuron is flat.
                let f = 0.6 + 0.35 * level;
                (f / (1.0 - f)).ln() / (1.0 - c)
            }
            Phi::Relu | Phi::Linear => (0.5 + 0.5 * level) / (1.0 - c),
            Phi::Softplus => {
                let r = 0.5 + 0.5 * level;
                (2.0 * r.exp() - 1.0).ln() / (1.0 - c)
            }
            Phi::Lif { tau_rc, tau_ref } => {
                let rate = 200.0 + 200.0 * level;
                let x = 1.0 / (1.0 - ((tau_ref - 1.0 / rate) / tau_rc).exp());
                let gain = (1.0 - x) / (c - 1.0);
                return Some((gain, 1.0 - gain * c));
            }
        };
        Some((gain, -gain * c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuning_hits_threshold_and_response() {
        let models = [
            Phi::Tanh,
            Phi::Relu,
            Phi::Sigmoid,
            Phi::Softplus,
            Phi::Linear,
            Phi::Lif {
                tau_rc: 0.02,
                tau_ref: 0.002,
            },
        ];
        for phi in models {
            for (c, level) in [(-0.9, 0.0), (0.0, 0.5), (0.85, 1.0)] {
                let (g, b) = phi.tune(c, level).unwrap();
                assert!(g > 0.0, "{phi:?}");
                let threshold = if matches!(phi, Phi::Lif { .. }) {
                    1.0
                } else {
                    0.0
                };
                assert!((g * c + b - threshold).abs() < 1e-12, "{phi:?}");
                let at1 = phi.eval(g + b);
                let want = match phi {
                    Phi::Tanh => 0.5 + 0.45 * level,
                    Phi::Sigmoid => 0.6 + 0.35 * level,
                    Phi::Relu | Phi::Linear => 0.5 + 0.5 * level,
                    Phi::Softplus => 2f64.ln() + 0.5 + 0.5 * level,
                    Phi::Lif { .. } => 200.0 + 200.0 * level,
                };
                assert!((at1 - want).abs() < 1e-9 * want, "{phi:?}: {at1} vs {want}");
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let models = [
            Phi::Linear,
            Phi::Tanh,
            Phi::Relu,
            Phi::Sigmoid,
            Phi::Softplus,
            Phi::Lif {
                tau_rc: 0.02,
                tau_ref: 0.002,
            },
        ];
        for phi in models {
            for x in [-2.3, -0.4, 0.3, 1.7, 3.1] {
                let h = 1e-6;
                let fd = (phi.eval(x + h) - phi.eval(x - h)) / (2.0 * h);
                let d = phi.deriv(x);
                assert!(
                    (fd - d).abs() <= 1e-6 * d.abs().max(1.0),
                    "{phi:?} at {x}: {d} vs {fd}"
                );
            }
        }
    }

    #[test]
    fn softplus_is_stable() {
        assert_eq!(Phi::Softplus.eval(800.0), 800.0);
        assert!(Phi::Softplus.eval(-800.0) >= 0.0);
        assert!((Phi::Softplus.eval(0.0) - 2f64.ln()).abs() < 1e-15);
    }
}
