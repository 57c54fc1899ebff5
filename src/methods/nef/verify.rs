//! The verify side of `nef` (and of any network with an encoder): the latent one-step map
//! the weights implement, against the program's flow map.

use crate::latent::{self, Latent};
use crate::net::Net;
use crate::rng::Rng;
use crate::sim::Stepper;

/// rms over `points` seeded domain points of `|zhat1 - Phi_dt(zhat0)| / half-width`, per
/// second: the network is put in the state that encodes `z`, `zhat0` is what it decodes
/// there and `zhat1` what it decodes one step later (inputs zero). Comparing the step with
/// the flow map *from what the network represents* keeps the static decoder error out of a
/// per-second figure. `None` without an encoder.
pub fn vector_field_error(net: &Net, lat: &Latent, points: usize, seed: u64) -> Option<f64> {
    let d = lat.d;
    let mut rng = Rng::new(seed, "vector_field_error");
    let unit = crate::latent::spread::ball(points, d, &mut rng);
    let mut ev = lat.evaluator();
    let substeps = latent::substeps(net.dt, 1e3);
    let u = vec![0.0; net.n_inputs()];
    let uk = vec![0.0; lat.k];
    let mut z = vec![0.0; d];
    let mut sum = 0.0;
    for p in unit.chunks(d) {
        lat.map.from_unit(p, &mut z);
        let x0 = net.encode(&z)?;
        let mut s = Stepper::new(net, &x0);
        z.copy_from_slice(&s.read(&u)[..d]);
        s.step(&u);
        let y = s.read(&u).to_vec();
        ev.flow_map(lat.kind(), &mut z, &uk, net.dt, substeps);
        for c in 0..d {
            let e = (y[c] - z[c]) / lat.map.scale[c];
            sum += e * e;
        }
    }
    Some((sum / points as f64).sqrt() / net.dt)
}

/// How much `net`'s one-step map differs from `reference`'s (the same network with other
/// recurrent weights: the unconstrained ones), relative to the step: over `points` seeded
/// domain points, both are put in the state that encodes `z` and stepped once (inputs zero),
/// and the figure is `sqrt(sum |zhat1 - zhat1_ref|^2 / sum |Phi_dt(zhat0) - zhat0|^2)`
/// (components in half-widths). A relative change `e` of the step changes the speed of the
/// latent flow by about `e`: an oscillator's phase drifts by `e` radians per radian. The
/// static decoding error, common to both, stays out of it. `None` without an encoder or when
/// the flow does not move.
pub fn step_change(
    net: &Net,
    reference: &Net,
    lat: &Latent,
    points: usize,
    seed: u64,
) -> Option<f64> {
    let d = lat.d;
    let mut rng = Rng::new(seed, "step_change");
    let unit = crate::latent::spread::ball(points, d, &mut rng);
    let mut ev = lat.evaluator();
    let substeps = latent::substeps(net.dt, 1e3);
    let u = vec![0.0; net.n_inputs()];
    let uk = vec![0.0; lat.k];
    let mut z = vec![0.0; d];
    let (mut err, mut step) = (0.0, 0.0);
    for p in unit.chunks(d) {
        lat.map.from_unit(p, &mut z);
        let x0 = net.encode(&z)?;
        let mut s = Stepper::new(net, &x0);
        let mut r = Stepper::new(reference, &x0);
        z.copy_from_slice(&s.read(&u)[..d]);
        let z0 = z.clone();
        s.step(&u);
        r.step(&u);
        let y = s.read(&u).to_vec();
        let y_ref = r.read(&u);
        ev.flow_map(lat.kind(), &mut z, &uk, net.dt, substeps);
        for c in 0..d {
            let e = (y[c] - y_ref[c]) / lat.map.scale[c];
            let g = (z[c] - z0[c]) / lat.map.scale[c];
            err += e * e;
            step += g * g;
        }
    }
    (step > 0.0).then(|| (err / step).sqrt())
}
