//! The figure every build of a system prints: how far the network's own one-step map is from
//! the system's, measured on the network (not on the method's fit).

use crate::latent::{self, Latent};
use crate::net::Net;
use crate::rng::Rng;
use crate::sim::Stepper;

/// The one-step flow-map error of `net` against `lat`, relative: at `points` seeded points
/// spread over the domain (states in the domain's ball, each input uniform over its range and
/// held), the network is put in the state that encodes `z`, stepped once with the input
/// (so that a joint representation holds it), and then once more; with `zhat0` what it
/// decodes before that second step and `zhat1` after, the figure is
/// `rms |zhat1 - Phi_dt(zhat0)| / rms |Phi_dt(zhat0) - zhat0|` in unit coordinates (the
/// error per step as a fraction of the system's own step; `vector_field_error`'s
/// comparison, with inputs). `None` without an encoder, or when the system does not move
/// (then the absolute figure is all there is: see `vector_field_error`).
pub fn one_step_error(net: &Net, lat: &Latent, points: usize, seed: u64) -> Option<f64> {
    let (d, k) = (lat.d, lat.k);
    if net.enc.is_none() || net.n_out() < d || net.n_inputs() != k {
        return None;
    }
    let mut rng = Rng::new(seed, "one_step_error");
    let unit = latent::spread::ball(points, d, &mut rng);
    let mut ev = lat.evaluator();
    let substeps = latent::substeps(net.dt, lat.rate_bound().max(1.0));
    let (mut z, mut u, mut us) = (vec![0.0; d], vec![0.0; k], vec![0.0; k]);
    let (mut num, mut den) = (0.0, 0.0);
    for p in unit.chunks(d) {
        lat.map.from_unit(p, &mut z);
        for v in us.iter_mut() {
            *v = rng.range(-1.0, 1.0);
        }
        lat.input_map.from_unit(&us, &mut u);
        let x0 = net.encode(&z)?;
        let mut s = Stepper::new(net, &x0);
        // One step with the input first: a joint representation (NEF's, for an input that
        // enters nonlinearly) takes the input into its state one step after it arrives, and
        // encodes z with the input at zero.
        s.step(&u);
        let zhat0 = s.read(&u)[..d].to_vec();
        s.step(&u);
        let y = s.read(&u)[..d].to_vec();
        z.copy_from_slice(&zhat0);
        ev.flow_map(lat.kind(), &mut z, &u, net.dt, substeps);
        for c in 0..d {
            let h = lat.map.scale[c];
            num += ((y[c] - z[c]) / h).powi(2);
            den += ((z[c] - zhat0[c]) / h).powi(2);
        }
    }
    (den > 0.0 && num.is_finite()).then(|| (num / den).sqrt())
}

/// The largest `|w|` over the arrays a weight file stores (`W_rec` or its factors, `W_in`,
/// `W_out`, `W_enc`, `W_fb`).
pub fn max_weight(net: &Net) -> f64 {
    let mut m = 0.0f64;
    let mut see = |a: faer::MatRef<'_, f64>| {
        for j in 0..a.ncols() {
            for i in 0..a.nrows() {
                m = m.max(a[(i, j)].abs());
            }
        }
    };
    match &net.w_rec {
        crate::net::Recurrent::Factored { left, right } => {
            see(left.as_ref());
            see(right.as_ref());
        }
        crate::net::Recurrent::Dense(w) => see(w.as_ref()),
    }
    see(net.w_in.as_ref());
    see(net.w_out.as_ref());
    if let Some((w, _)) = &net.enc {
        see(w.as_ref());
    }
    if let Some(fb) = &net.feedback {
        see(fb.w_fb.as_ref());
    }
    m
}
