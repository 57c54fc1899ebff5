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
