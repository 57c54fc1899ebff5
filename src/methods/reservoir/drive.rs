//! `reservoir(mode = drive)`: an echo-state network driven by data (METHODS.md section 4).
//!
//! Systems: the reservoir is teacher-forced by exact trajectories of the system (`starts` of
//! them, the first from `init`, the others from points spread over the domain; each a
//! `washout` and `train / starts` seconds, from rest), its inputs driven by smooth noise over
//! their ranges, the fed-back latent z-scored through `W_fb`; the readout (states, then
//! outputs) is fitted on `(r[t], z[t])` after each washout and the loop closed on the state
//! rows. Tasks: the task's trials (stream `training trials`, repeated with
//! fresh draws up to `train` seconds when the task draws anything), each from `r = 0`; a
//! readout row is fitted only on the steps its `expect out = v` covers; with `feedback = true`
//! the outputs are fed back (the target on covered steps, the most recent target elsewhere)
//! and the loop closed on them.

use super::{assemble, random_sparse, uniform, Options, Ridge, SharedRidge};
use crate::latent::Latent;
use crate::net::sparse::Csr;
use crate::net::{Meta, Net};
use crate::ode::Dopri5;
use crate::rng::Rng;
use crate::sema::model::Task;
use faer::Mat;

/// What a drive build measured.
pub struct Fit {
    pub net: Net,
    /// Training samples per readout row.
    pub samples: usize,
}

fn step(a: &Csr, alpha: f64, r: &mut [f64], drive: &[f64], scratch: &mut [f64]) {
    a.matvec(r, scratch);
    for (s, d) in scratch.iter_mut().zip(drive) {
        *s += d;
    }
    // The simulator's tanh (`net::fastmath`), so training sees the network it writes.
    crate::net::fastmath::tanh_inplace(scratch);
    for (ri, s) in r.iter_mut().zip(scratch.iter()) {
        *ri = (1.0 - alpha) * *ri + alpha * s;
    }
}

/// `out = b + sum_j M[:, j] v[j]`.
fn affine(m: &Mat<f64>, v: &[f64], b: &[f64], out: &mut [f64]) {
    out.copy_from_slice(b);
    for (j, &vj) in v.iter().enumerate() {
        if vj != 0.0 {
            for (i, o) in out.iter_mut().enumerate() {
                *o += m[(i, j)] * vj;
            }
        }
    }
}

/// Drives a reservoir with the system's trajectory and closes the loop on the state rows.
pub fn system(
    lat: &Latent,
    opts: &Options,
    setup: crate::methods::Setup,
    meta: Meta,
) -> Result<Fit, String> {
    let crate::methods::Setup { n, dt, tau, seed } = setup;
    let (d, k) = (lat.d, lat.k);
    let n_out = lat.n_outputs();
    let washout = crate::time::steps(opts.washout, dt);
    let starts = opts.starts.max(1);
    let per_start = (crate::time::steps(opts.train, dt) / starts).max(2);
    let total = washout + per_start;
    // The exact trajectories (states, outputs, inputs per step: small; the reservoir states
    // are streamed): the first from `init`, the others from points spread over the domain;
    // the inputs (if any) driven by smooth noise over their ranges (METHODS.md section 4).
    let mut ev = lat.evaluator();
    let mut oev = lat.output_evaluator();
    let mut ode = Dopri5::new(d, 1e-10, 1e-12);
    let mut drng = Rng::new(seed, "reservoir drive");
    let others = crate::latent::spread::ball(starts - 1, d, &mut drng);
    let w = d + n_out;
    let width = w + k;
    let mut traj = Vec::with_capacity(starts * total * width);
    let mut segments = Vec::with_capacity(starts);
    let (mut y, mut u, mut noise) = (vec![0.0; n_out], vec![0.0; k], vec![0.0; k]);
    let (cu, hu) = (&lat.input_map.center, &lat.input_map.scale);
    // An Ornstein-Uhlenbeck process per input, sd 0.5 of the half-range (clipped to the
    // range), correlation time `INPUT_TIME` network time constants.
    let decay = (-dt / (INPUT_TIME * tau)).exp();
    for s in 0..starts {
        let mut z = if s == 0 {
            lat.inst.init.clone()
        } else {
            let mut z = vec![0.0; d];
            lat.map.from_unit(&others[(s - 1) * d..s * d], &mut z);
            z
        };
        noise.iter_mut().for_each(|v| *v = 0.5 * drng.normal());
        let begin = traj.len() / width;
        for t in 0..total {
            for j in 0..k {
                u[j] = cu[j] + hu[j] * noise[j].clamp(-1.0, 1.0);
                noise[j] = decay * noise[j] + (1.0 - decay * decay).sqrt() * 0.5 * drng.normal();
            }
            oev.eval(&z, &u, &mut y);
            traj.extend_from_slice(&z);
            traj.extend_from_slice(&y);
            traj.extend_from_slice(&u);
            let ok = ev
                .exact_step(lat.kind(), &mut ode, &mut z, &u, t as f64 * dt, dt)
                .is_ok()
                && z.iter().all(|v| v.is_finite());
            if !ok {
                if s == 0 {
                    return Err("the training trajectory from `init` is not finite".into());
                }
                // A start outside the basin the system stays bounded in: dropped.
                traj.truncate(begin * width);
                break;
            }
        }
        if traj.len() / width > begin {
            segments.push(begin..traj.len() / width);
        }
    }
    let rows = traj.len() / width;
    // z-scoring of the fed-back latent, folded into W_fb and the bias.
    let mut mean = vec![0.0; d];
    let mut sd = vec![0.0; d];
    for row in traj.chunks(width) {
        for j in 0..d {
            mean[j] += row[j] / rows as f64;
        }
    }
    for row in traj.chunks(width) {
        for j in 0..d {
            sd[j] += (row[j] - mean[j]).powi(2) / rows as f64;
        }
    }
    let sd: Vec<f64> = sd.iter().map(|v| v.sqrt().max(1e-9)).collect();

    let mut rng = Rng::new(seed, "reservoir");
    let a = random_sparse(n, opts.density, opts.spectral_radius, &mut rng);
    let raw_fb = uniform(n, d, opts.input_scale, &mut rng);
    // Inputs in unit coordinates of their ranges, like the fed-back latent.
    let raw_in = uniform(n, k, opts.input_scale, &mut rng);
    let w_in = Mat::from_fn(n, k, |i, j| raw_in[(i, j)] / hu[j]);
    let mut b: Vec<f64> = (0..n).map(|_| rng.range(-opts.bias, opts.bias)).collect();
    let w_fb = Mat::from_fn(n, d, |i, j| raw_fb[(i, j)] / sd[j]);
    for (i, bi) in b.iter_mut().enumerate() {
        for j in 0..d {
            *bi -= w_fb[(i, j)] * mean[j];
        }
        for j in 0..k {
            *bi -= w_in[(i, j)] * cu[j];
        }
    }

    let alpha = (dt / tau).min(1.0);
    let mut ridge = SharedRidge::new(n, w);
    let mut r = vec![0.0; n];
    let (mut drive, mut scratch, mut input) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut samples = 0;
    let zeros = vec![0.0; n];
    for seg in &segments {
        // Every start from rest, its washout dropped.
        r.iter_mut().for_each(|v| *v = 0.0);
        for (t, row) in traj[seg.start * width..seg.end * width]
            .chunks(width)
            .enumerate()
        {
            if t >= washout {
                ridge.add(&r, &row[..w]);
                samples += 1;
            }
            affine(&w_fb, &row[..d], &b, &mut drive);
            if k > 0 {
                affine(&w_in, &row[w..], &zeros, &mut input);
                for (dr, i) in drive.iter_mut().zip(&input) {
                    *dr += i;
                }
            }
            step(&a, alpha, &mut r, &drive, &mut scratch);
        }
    }
    let (w_out, b_out) = ridge.solve(opts.ridge)?;
    let mut net = assemble(
        &a,
        w_in,
        b,
        w_out,
        b_out,
        Some((w_fb, (0..d).collect())),
        dt,
        tau,
        meta,
    );
    // A state on the reservoir's driven manifold (teacher forcing starts every run from it).
    net.init_state = r;
    Ok(Fit { net, samples })
}

/// The fed-back teacher of one trial for `feedback = true` (steps x m, row-major): the target
/// on covered steps; between covered segments the previous target (0 before the first)
/// until the inputs first change, then a straight line to the next segment's first target,
/// reached on its first step; after the last segment the last target. The closed loop has
/// to produce its own fed-back values on uncovered steps too, so they are fitted as well, and
/// a ramp that starts at the input event that causes it is a path the network can follow
/// (a jump at a time no input marks is not).
pub fn teacher(target: &[f64], mask: &[f64], inputs: &[f64], steps: usize, m: usize) -> Vec<f64> {
    let k = inputs.len() / steps.max(1);
    let changed = |s: usize| {
        let now = &inputs[s * k..(s + 1) * k];
        if s == 0 {
            now.iter().any(|v| *v != 0.0)
        } else {
            now != &inputs[(s - 1) * k..s * k]
        }
    };
    let mut out = vec![0.0; steps * m];
    for o in 0..m {
        let covered = |s: usize| mask[s * m + o] == 1.0;
        let mut prev = 0.0;
        let mut s = 0;
        while s < steps {
            if covered(s) {
                prev = target[s * m + o];
                out[s * m + o] = prev;
                s += 1;
                continue;
            }
            let start = s;
            let end = (start..steps).find(|&t| covered(t)).unwrap_or(steps);
            let onset = if end < steps {
                (start..end).find(|&t| changed(t)).unwrap_or(end)
            } else {
                end
            };
            let next = if end < steps {
                target[end * m + o]
            } else {
                prev
            };
            for t in start..end {
                out[t * m + o] = if t < onset {
                    prev
                } else {
                    prev + (next - prev) * (t + 1 - onset) as f64 / (end + 1 - onset) as f64
                };
            }
            s = end;
        }
    }
    out
}

/// The correlation time of a system's training inputs, in network time constants.
const INPUT_TIME: f64 = 10.0;

/// The standard deviation of the noise added to a fed-back teacher in training (Jaeger 2002's
/// stabilizing teacher noise).
const FEEDBACK_NOISE: f64 = 0.02;

/// Drives a reservoir with a task's trials; the readout rows are the task's outputs.
pub fn task(
    task: &Task,
    opts: &Options,
    setup: crate::methods::Setup,
    meta: Meta,
) -> Result<Fit, String> {
    let crate::methods::Setup { n, dt, tau, seed } = setup;
    // Trials: one set, or fresh sets (new draws and noise) up to `train` seconds.
    let first = crate::task::generate(task, dt, seed, "training trials")?;
    let m = first.outputs.len();
    let k = first.inputs.len();
    let mut sets = vec![first];
    let per_set: usize = sets[0].trials.iter().map(|t| t.steps).sum();
    let wanted = crate::time::steps(opts.train, dt);
    let mut rep = 1;
    while rep * per_set < wanted && rep < 64 {
        let next = crate::task::generate(task, dt, seed, &format!("training trials {rep}"))?;
        if next.trials == sets[0].trials {
            break; // nothing random in the task: one set says it all
        }
        sets.push(next);
        rep += 1;
    }

    let mut rng = Rng::new(seed, "reservoir");
    let a = random_sparse(n, opts.density, opts.spectral_radius, &mut rng);
    let w_in = uniform(n, k, opts.input_scale, &mut rng);
    let b: Vec<f64> = (0..n).map(|_| rng.range(-opts.bias, opts.bias)).collect();
    let w_fb = opts.feedback.then(|| uniform(n, m, 1.0, &mut rng));

    let alpha = (dt / tau).min(1.0);
    let mut ridge = Ridge::new(n, m);
    let (mut drive, mut scratch) = (vec![0.0; n], vec![0.0; n]);
    let mut fed = vec![0.0; m];
    // With feedback, a deterministic task's one set is run several times, each with fresh
    // noise on the fed-back teacher, so the readout learns to pull a perturbed loop back.
    let passes = if w_fb.is_some() && sets.len() == 1 {
        (wanted / per_set.max(1)).clamp(1, 64)
    } else {
        1
    };
    let mut fb_rng = Rng::new(seed, "reservoir feedback noise");
    for set in std::iter::repeat_n(&sets, passes).flatten() {
        for (i, tr) in set.trials.iter().enumerate() {
            let (target, mask) = set.targets(i);
            let taught = w_fb
                .as_ref()
                .map(|_| teacher(&target, &mask, &tr.inputs, tr.steps, m));
            let mut r = vec![0.0; n];
            fed.iter_mut().for_each(|v| *v = 0.0);
            for s in 0..tr.steps {
                for o in 0..m {
                    if let Some(t) = &taught {
                        ridge.add(o, &r, t[s * m + o]);
                        fed[o] = t[s * m + o] + FEEDBACK_NOISE * fb_rng.normal();
                    } else if mask[s * m + o] == 1.0 {
                        ridge.add(o, &r, target[s * m + o]);
                    }
                }
                affine(&w_in, &tr.inputs[s * k..(s + 1) * k], &b, &mut drive);
                if let Some(w_fb) = &w_fb {
                    for (o, &v) in fed.iter().enumerate() {
                        for (i, dr) in drive.iter_mut().enumerate() {
                            *dr += w_fb[(i, o)] * v;
                        }
                    }
                }
                step(&a, alpha, &mut r, &drive, &mut scratch);
            }
        }
    }
    let samples = (0..m).map(|o| ridge.count(o)).min().unwrap_or(0);
    let (w_out, b_out) = ridge.solve(opts.ridge)?;
    let net = assemble(
        &a,
        w_in,
        b,
        w_out,
        b_out,
        w_fb.map(|w| (w, (0..m).collect())),
        dt,
        tau,
        meta,
    );
    Ok(Fit { net, samples })
}

#[cfg(test)]
mod tests {
    use super::teacher;

    #[test]
    fn the_teacher_ramps_from_the_input_event_to_the_next_target() {
        // One output, one input: a pulse at step 2, the target 1 covered on steps 4-5, then
        // an uncovered tail.
        let inputs = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let mask = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0];
        let target = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0];
        let t = teacher(&target, &mask, &inputs, 7, 1);
        let want = [0.0, 0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0, 1.0, 1.0];
        for (a, b) in t.iter().zip(want) {
            assert!((a - b).abs() < 1e-15, "{t:?}");
        }
        // No input event before the segment: the teacher jumps on its first step.
        let t = teacher(&target, &mask, &[0.0; 7], 7, 1);
        assert_eq!(t, vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    }
}
