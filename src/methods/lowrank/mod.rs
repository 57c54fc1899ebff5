//! `lowrank(rank, bulk)`: low-rank structure on a random bulk (METHODS.md section 3).
//!
//! `W_rec = g chi + M L^T / N` in the current form, `chi_ij ~ N(0, 1/N)`, encoding loadings
//! `M ~ N(0, 1)` on unit coordinates, a bias `b ~ U(-1, 1)`. The decoding loadings come from
//! teacher forcing: the low-rank input is clamped to `M z(t)` along exact trajectories of the
//! system from 64 starts spread over the domain (each `10 tau` long, the first `2 tau`
//! dropped), so `x(t)` carries the bulk's response too, and `L^T phi(x) / N` is fitted to the
//! exact discrete target `g(z) = (Phi_dt(z) - a z) / (1 - a)` by ridge (the fitted intercept
//! folds into the bias through M). The readout is fitted on the same pairs to `z`. With a
//! bulk, the mean field's Gaussian-averaged rates join the fit (see `build`), so the theory's
//! fixed-point prediction holds for the network built. With `bulk = 0` the weights stay
//! factored (rank d).

use crate::latent::Latent;
use crate::methods::reservoir::SharedRidge;
use crate::net::{Form, Meta, Net, Phi, Recurrent};
use crate::rng::Rng;
use faer::Mat;

/// Nodes and weights for an expectation over a standard normal: the midpoint rule on
/// [-6, 6], spectrally accurate for the smooth (tanh-like) integrands here.
fn normal_nodes(k: usize) -> Vec<(f64, f64)> {
    (0..k)
        .map(|j| {
            let xi = -6.0 + 12.0 * (j as f64 + 0.5) / k as f64;
            let w = (-0.5 * xi * xi).exp() * 12.0 / k as f64 / (2.0 * std::f64::consts::PI).sqrt();
            (xi, w)
        })
        .collect()
}

/// Mean-field rates at the low-rank coordinates `kappa` (Mastrogiuseppe & Ostojic 2018): the
/// bulk's input to unit i is replaced by a Gaussian field of self-consistent variance
/// `Delta = bulk^2 <phi^2>`, so the rates are `E_xi phi(m_i . kappa + b_i + sqrt(Delta) xi)`
/// (`m` is N x d). Returns the rates and Delta (found by fixed-point iteration).
pub fn mean_field_rates(
    m: faer::MatRef<'_, f64>,
    b: &[f64],
    bulk: f64,
    phi: Phi,
    kappa: &[f64],
) -> (Vec<f64>, f64) {
    let nodes = normal_nodes(41);
    let n = b.len();
    let h: Vec<f64> = (0..n)
        .map(|i| b[i] + (0..kappa.len()).map(|j| m[(i, j)] * kappa[j]).sum::<f64>())
        .collect();
    let rates = |delta: f64| -> (Vec<f64>, f64) {
        let sd = delta.sqrt();
        let mut second = 0.0;
        let r = h
            .iter()
            .map(|&hi| {
                let mut e = 0.0;
                for &(xi, w) in &nodes {
                    let v = phi.eval(hi + sd * xi);
                    e += w * v;
                    second += w * v * v;
                }
                e
            })
            .collect();
        (r, second / n as f64)
    };
    if bulk == 0.0 {
        return (h.iter().map(|&x| phi.eval(x)).collect(), 0.0);
    }
    let mut delta = 0.0f64;
    for _ in 0..200 {
        let next = bulk * bulk * rates(delta).1;
        let done = (next - delta).abs() <= 1e-12 * next.max(1e-12);
        delta = next;
        if done {
            break;
        }
    }
    (rates(delta).0, delta)
}

/// The mean-field fixed points of a rank-one network `x = bulk chi phi(x) + m kappa + b`,
/// `kappa = sum_i r_i phi(x_i) + c`: the roots of `sum_i r_i E[phi] + c = kappa` with the
/// rates of [`mean_field_rates`] (exact when `bulk = 0`), searched on [-1.5, 1.5]. Returns
/// each root `kappa` (unit coordinates) and whether it is stable in the mean field (slope
/// below 1).
pub fn mean_field(
    m: &[f64],
    r: &[f64],
    b: &[f64],
    c: f64,
    bulk: f64,
    phi: Phi,
) -> Vec<(f64, bool)> {
    let mcol = faer::MatRef::from_column_major_slice(m, m.len(), 1);
    let field = |kappa: f64| -> f64 {
        let (rates, _) = mean_field_rates(mcol, b, bulk, phi, &[kappa]);
        c + r.iter().zip(&rates).map(|(a, e)| a * e).sum::<f64>() - kappa
    };
    let grid: Vec<f64> = (0..=300).map(|k| -1.5 + 3.0 * k as f64 / 300.0).collect();
    let values: Vec<f64> = grid.iter().map(|&k| field(k)).collect();
    let mut roots = Vec::new();
    for w in 0..300 {
        if values[w] == 0.0 || values[w].signum() != values[w + 1].signum() {
            let (mut lo, mut hi) = (grid[w], grid[w + 1]);
            let mut flo = values[w];
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                let fm = field(mid);
                if fm.signum() == flo.signum() {
                    lo = mid;
                    flo = fm;
                } else {
                    hi = mid;
                }
            }
            // Stable when F(kappa) - kappa falls through zero.
            roots.push((0.5 * (lo + hi), values[w + 1] < values[w]));
        }
    }
    roots
}

/// A predicted fixed point: its value and whether it is stable.
pub type FixedPoint = (f64, bool);

/// Builds the network; `rank` must equal the latent dimension.
pub fn build(
    lat: &Latent,
    bulk: f64,
    ridge: f64,
    phi: Phi,
    setup: crate::methods::Setup,
    meta: Meta,
) -> Result<(Net, Option<Vec<FixedPoint>>), String> {
    let crate::methods::Setup { n, dt, tau, seed } = setup;
    let (d, k) = (lat.d, lat.k);
    let a = (-dt / tau).exp();
    let mut rng = Rng::new(seed, "lowrank");
    let m = Mat::from_fn(n, d, |_, _| rng.normal());
    let b: Vec<f64> = (0..n).map(|_| rng.range(-1.0, 1.0)).collect();
    let chi = (bulk != 0.0).then(|| {
        let s = bulk / (n as f64).sqrt();
        Mat::from_fn(n, n, |_, _| s * rng.normal())
    });

    // Teacher forcing along exact trajectories from starts spread over the domain.
    let starts = crate::latent::spread::ball(64, d, &mut rng);
    let steps = crate::time::steps_at_least(10.0 * tau, dt).max(20);
    let skip = crate::time::steps_at_least(2.0 * tau, dt);
    let substeps = crate::latent::substeps(dt, lat.rate_bound());
    let mut ev = lat.evaluator();
    let u0 = vec![0.0; k];
    // Targets per pair: g(z) (d) for L, then z (d) for the readout, in unit coordinates.
    let mut fit = SharedRidge::new(n, 2 * d);
    let mut targets = vec![0.0; 2 * d];
    // All starts advance together, so the bulk's input is one matrix product per step.
    let s_count = starts.len() / d;
    let mut zs: Vec<Vec<f64>> = starts
        .chunks(d)
        .map(|st| {
            let mut z = vec![0.0; d];
            lat.map.from_unit(st, &mut z);
            z
        })
        .collect();
    // The network starts on the manifold of its start: x = M zeta + b.
    let mut x = Mat::from_fn(n, s_count, |i, c| {
        b[i] + (0..d).map(|j| m[(i, j)] * starts[c * d + j]).sum::<f64>()
    });
    let mut p = Mat::<f64>::zeros(n, s_count);
    let mut bulk_in = Mat::<f64>::zeros(n, s_count);
    let (mut next, mut zeta, mut zeta1) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
    let mut g = Mat::<f64>::zeros(d, s_count);
    for t in 0..steps {
        for c in 0..s_count {
            phi.eval_into(x.col_as_slice(c), p.col_as_slice_mut(c));
        }
        for (c, z) in zs.iter_mut().enumerate() {
            lat.map.to_unit(z, &mut zeta);
            next.copy_from_slice(z);
            ev.flow_map(lat.kind(), &mut next, &u0, dt, substeps);
            lat.map.to_unit(&next, &mut zeta1);
            for j in 0..d {
                g[(j, c)] = (zeta1[j] - a * zeta[j]) / (1.0 - a);
                targets[j] = g[(j, c)];
                targets[d + j] = zeta[j];
            }
            if t >= skip {
                fit.add(p.col_as_slice(c), &targets);
            }
            z.copy_from_slice(&next);
        }
        // The low-rank input clamped to M g(z): the M-part of x then follows the system
        // exactly, x = M zeta + b + (the bulk's response).
        if let Some(chi) = &chi {
            faer::linalg::matmul::matmul(
                bulk_in.as_mut(),
                faer::Accum::Replace,
                chi.as_ref(),
                p.as_ref(),
                1.0,
                faer::Par::rayon(0),
            );
            crate::net::fastmath::clear_upper();
        }
        for c in 0..s_count {
            for i in 0..n {
                let gi: f64 = (0..d).map(|j| m[(i, j)] * g[(j, c)]).sum();
                x[(i, c)] = a * x[(i, c)] + (1.0 - a) * (bulk_in[(i, c)] + gi + b[i]);
            }
        }
    }
    // With a bulk, the mean field's rates join the teacher-forced states: at points spread
    // over the domain they must give the same targets, weighted to count as much as all the
    // forced samples. The loadings then serve both the quenched network and the Gaussian
    // field of the theory, so its fixed-point prediction is a real cross-check (fitted on
    // the forced states alone, they lean on the particular bulk: bulk 0.5 predicted +-0.79
    // for wells at +-1.00001).
    if bulk != 0.0 {
        let points = 256;
        let forced = (s_count * (steps - skip)) as f64;
        let kappas = crate::latent::spread::ball(points, d, &mut rng);
        let rows: Vec<(Vec<f64>, Vec<f64>)> = {
            use rayon::prelude::*;
            kappas
                .par_chunks(d)
                .map(|kap| mean_field_rates(m.as_ref(), &b, bulk, phi, kap).0)
                .zip(kappas.par_chunks(d))
                .map(|(rates, kap)| (rates, kap.to_vec()))
                .collect()
        };
        let mut ev = lat.evaluator();
        for (rates, kap) in rows {
            let mut z = vec![0.0; d];
            lat.map.from_unit(&kap, &mut z);
            ev.flow_map(lat.kind(), &mut z, &u0, dt, substeps);
            lat.map.to_unit(&z, &mut zeta1);
            for j in 0..d {
                targets[j] = (zeta1[j] - a * kap[j]) / (1.0 - a);
                targets[d + j] = kap[j];
            }
            fit.add_weighted(&rates, &targets, forced / points as f64);
        }
    }
    let (w, c) = fit.solve(ridge)?; // (2d x n), (2d)
                                    // L^T / N: the first d rows; their intercepts fold into the bias through M.
    let right = Mat::from_fn(d, n, |j, i| w[(j, i)]);
    let mut b_rec = b.clone();
    for (i, bi) in b_rec.iter_mut().enumerate() {
        for j in 0..d {
            *bi += m[(i, j)] * c[j];
        }
    }
    let w_rec = match chi {
        None => Recurrent::Factored {
            left: m.clone(),
            right,
        },
        Some(chi) => Recurrent::Dense(chi + &m * &right),
    };
    // Readout of z: unit coordinates mapped back.
    let w_out = Mat::from_fn(d, n, |j, i| lat.map.scale[j] * w[(d + j, i)]);
    let b_out: Vec<f64> = (0..d)
        .map(|j| lat.map.center[j] + lat.map.scale[j] * c[d + j])
        .collect();
    // Inputs that enter affinely, as NEF's `W_in = M S^-1 Bbar / (1 - a)` with Bbar = dt B_u.
    let mut w_in = Mat::<f64>::zeros(n, k);
    if k > 0 {
        let mut zc = vec![0.0; d];
        lat.map.from_unit(&vec![0.0; d], &mut zc);
        let (mut f0, mut f1) = (vec![0.0; d], vec![0.0; d]);
        for col in 0..k {
            let mut u = vec![0.0; k];
            ev.eval(&zc, &u, &mut f0);
            u[col] = 1.0;
            ev.eval(&zc, &u, &mut f1);
            for i in 0..n {
                w_in[(i, col)] = (0..d)
                    .map(|j| m[(i, j)] * dt * (f1[j] - f0[j]) / lat.map.scale[j])
                    .sum::<f64>()
                    / (1.0 - a);
            }
        }
    }
    let w_enc = Mat::from_fn(n, d, |i, j| m[(i, j)] / lat.map.scale[j]);
    let b_enc: Vec<f64> = (0..n)
        .map(|i| {
            b[i] - (0..d)
                .map(|j| w_enc[(i, j)] * lat.map.center[j])
                .sum::<f64>()
        })
        .collect();
    let mut net = Net {
        form: Form::Current,
        phi,
        dt,
        w_rec,
        w_in,
        b_rec,
        w_out,
        b_out,
        enc: Some((w_enc, b_enc)),
        alpha: vec![1.0 - a; n],
        init_state: vec![0.0; n],
        gain_input: None,
        dale_sign: None,
        positions: None,
        feedback: None,
        meta,
        engine: None,
    };
    net.init_state = net.encode(&lat.inst.init).expect("an encoder");
    // The mean-field cross-check of the fixed points, for one latent dimension (decoded).
    let predicted = (d == 1).then(|| {
        let r: Vec<f64> = (0..n).map(|i| w[(0, i)]).collect();
        let mcol: Vec<f64> = (0..n).map(|i| m[(i, 0)]).collect();
        mean_field(&mcol, &r, &b, c[0], bulk, phi)
            .into_iter()
            .map(|(kappa, stable)| (lat.map.center[0] + lat.map.scale[0] * kappa, stable))
            .collect()
    });
    Ok((net, predicted))
}
