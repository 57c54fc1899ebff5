//! `reservoir(mode = compile)` at default options on every stdlib system, run by a loop of
//! our own written from FORMAT's update rule (not `rnnc::sim`) on the stored arrays
//! perturbed by 1e-9 relative noise: the compiled weights must be bounded and well
//! conditioned enough that another implementation reproduces the network.

use rnnc::driver;
use rnnc::latent::Latent;
use rnnc::net::{Net, Recurrent};
use rnnc::rng::Rng;
use rnnc::source::{FsLoader, SourceDb};

/// The arrays of a weight file, each entry times `1 + noise * xi`, `xi ~ N(0, 1)`.
struct Arrays {
    left: Vec<Vec<f64>>,  // N x r
    right: Vec<Vec<f64>>, // r x N
    w_in: Vec<Vec<f64>>,  // N x k
    b_rec: Vec<f64>,
    w_out: Vec<Vec<f64>>, // d_out x N
    b_out: Vec<f64>,
    w_enc: Vec<Vec<f64>>, // N x d
    b_enc: Vec<f64>,
    alpha: Vec<f64>,
}

fn rows(m: faer::MatRef<'_, f64>, rng: &mut Rng, noise: f64) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| {
            (0..m.ncols())
                .map(|j| m[(i, j)] * (1.0 + noise * rng.normal()))
                .collect()
        })
        .collect()
}

fn perturbed(net: &Net, noise: f64, seed: u64) -> Arrays {
    let mut rng = Rng::new(seed, "perturb");
    let (left, right) = match &net.w_rec {
        Recurrent::Factored { left, right } => (
            rows(left.as_ref(), &mut rng, noise),
            rows(right.as_ref(), &mut rng, noise),
        ),
        Recurrent::Dense(w) => {
            let n = w.nrows();
            let eye = faer::Mat::<f64>::identity(n, n);
            (
                rows(w.as_ref(), &mut rng, noise),
                rows(eye.as_ref(), &mut rng, 0.0),
            )
        }
    };
    let vec = |v: &[f64], rng: &mut Rng| -> Vec<f64> {
        v.iter().map(|x| x * (1.0 + noise * rng.normal())).collect()
    };
    let (w_enc, b_enc) = net.enc.as_ref().expect("a compiled network has W_enc");
    Arrays {
        left,
        right,
        w_in: rows(net.w_in.as_ref(), &mut rng, noise),
        b_rec: vec(&net.b_rec, &mut rng),
        w_out: rows(net.w_out.as_ref(), &mut rng, noise),
        b_out: vec(&net.b_out, &mut rng),
        w_enc: rows(w_enc.as_ref(), &mut rng, noise),
        b_enc: vec(b_enc, &mut rng),
        alpha: net.alpha.clone(),
    }
}

impl Arrays {
    fn n(&self) -> usize {
        self.b_rec.len()
    }

    /// FORMAT.md's rate-form encoding: `r = tanh(W_enc z + b_enc)`, then the least-squares
    /// correction along `W_out[:d]` so that `r` reads out `z`.
    fn encode(&self, z: &[f64]) -> Vec<f64> {
        let (n, d) = (self.n(), z.len());
        let mut r: Vec<f64> = (0..n)
            .map(|i| (self.b_enc[i] + (0..d).map(|j| self.w_enc[i][j] * z[j]).sum::<f64>()).tanh())
            .collect();
        let e: Vec<f64> = (0..d)
            .map(|j| z[j] - self.b_out[j] - (0..n).map(|i| self.w_out[j][i] * r[i]).sum::<f64>())
            .collect();
        // G y = e, G = W W^T (d x d), by Gaussian elimination with partial pivoting.
        let mut g: Vec<Vec<f64>> = (0..d)
            .map(|a| {
                let mut row: Vec<f64> = (0..d)
                    .map(|b| (0..n).map(|i| self.w_out[a][i] * self.w_out[b][i]).sum())
                    .collect();
                row.push(e[a]);
                row
            })
            .collect();
        for c in 0..d {
            let p = (c..d)
                .max_by(|&a, &b| g[a][c].abs().total_cmp(&g[b][c].abs()))
                .unwrap();
            g.swap(c, p);
            let pivot = g[c].clone();
            for row in g.iter_mut().skip(c + 1) {
                let f = row[c] / pivot[c];
                for (x, p) in row.iter_mut().zip(&pivot).skip(c) {
                    *x -= f * p;
                }
            }
        }
        let mut y = vec![0.0; d];
        for c in (0..d).rev() {
            y[c] = (g[c][d] - (c + 1..d).map(|c2| g[c][c2] * y[c2]).sum::<f64>()) / g[c][c];
        }
        for (i, ri) in r.iter_mut().enumerate() {
            *ri += (0..d).map(|j| self.w_out[j][i] * y[j]).sum::<f64>();
        }
        r
    }

    /// `r <- r + alpha (tanh(W_rec r + W_in u + b_rec) - r)`.
    fn step(&self, r: &mut [f64], u: &[f64]) {
        let low: Vec<f64> = self
            .right
            .iter()
            .map(|row| row.iter().zip(r.iter()).map(|(a, b)| a * b).sum())
            .collect();
        let next: Vec<f64> = (0..self.n())
            .map(|i| {
                let a = self.b_rec[i]
                    + self.left[i]
                        .iter()
                        .zip(&low)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                    + self.w_in[i].iter().zip(u).map(|(a, b)| a * b).sum::<f64>();
                a.tanh()
            })
            .collect();
        for ((x, v), a) in r.iter_mut().zip(next).zip(&self.alpha) {
            *x += a * (v - *x);
        }
    }

    /// `W_out r + b_out`, the first `d` rows.
    fn read(&self, r: &[f64], d: usize) -> Vec<f64> {
        (0..d)
            .map(|j| self.b_out[j] + self.w_out[j].iter().zip(r).map(|(a, b)| a * b).sum::<f64>())
            .collect()
    }
}

fn program(src: &str) -> rnnc::sema::Analysis {
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "t.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    a
}

fn latent(p: &rnnc::sema::Program) -> Latent<'_> {
    let rnnc::sema::model::Target::System(inst) = &p.networks[0].target else {
        panic!("a system")
    };
    Latent::new(&p.systems[inst.system], inst).unwrap()
}

/// The exact one-step map with `u` held (RK4 in 20 substeps, or the map).
fn exact_step(lat: &Latent, z: &mut [f64], u: &[f64], dt: f64) {
    let mut ev = lat.evaluator();
    ev.flow_map(lat.kind(), z, u, dt, 20);
}

/// Median valid prediction time (Lyapunov times) of the perturbed arrays run by `Arrays`:
/// from `starts` points of the exact attractor (after `transient` s, `gap` s apart), until
/// the z-scored error `sqrt(mean_i ((y_i - z_i) / sigma_i)^2)` passes 0.4.
fn independent_vpt(
    net: &Net,
    lat: &Latent,
    lyapunov: f64,
    (transient, gap, starts, horizon): (f64, f64, usize, f64),
) -> Vec<f64> {
    let (d, dt) = (lat.d, net.dt);
    let arrays = perturbed(net, 1e-9, 7);
    let u = vec![0.0; lat.k];
    let mut z = lat.inst.init.clone();
    for _ in 0..(transient / dt).round() as usize {
        exact_step(lat, &mut z, &u, dt);
    }
    let gap_steps = (gap / dt).round() as usize;
    let mut points = Vec::new();
    let mut all = Vec::new();
    for _ in 0..starts {
        points.push(z.clone());
        for _ in 0..gap_steps {
            exact_step(lat, &mut z, &u, dt);
            all.push(z.clone());
        }
    }
    let sigma: Vec<f64> = (0..d)
        .map(|j| {
            let m = all.iter().map(|p| p[j]).sum::<f64>() / all.len() as f64;
            (all.iter().map(|p| (p[j] - m).powi(2)).sum::<f64>() / all.len() as f64).sqrt()
        })
        .collect();
    let steps = (horizon / dt).round() as usize;
    let mut vpt: Vec<f64> = points
        .iter()
        .map(|z0| {
            let mut z = z0.clone();
            let mut r = arrays.encode(z0);
            for t in 0..steps {
                let y = arrays.read(&r, d);
                let e = (0..d)
                    .map(|j| ((y[j] - z[j]) / sigma[j]).powi(2))
                    .sum::<f64>()
                    / d as f64;
                if e.is_nan() || e.sqrt() > 0.4 {
                    return t as f64 * dt * lyapunov;
                }
                arrays.step(&mut r, &u);
                exact_step(lat, &mut z, &u, dt);
            }
            steps as f64 * dt * lyapunov
        })
        .collect();
    vpt.sort_by(f64::total_cmp);
    vpt
}

/// NRMSE of the perturbed arrays against the exact solution over `secs` from `init` (or
/// half-way out along the first axis when `init` is a fixed point), each input a slow sine
/// over half its range: `sqrt(mean_i mse_i / var_i)` over the states that move.
fn independent_nrmse(net: &Net, lat: &Latent, secs: f64) -> (f64, f64) {
    let (d, k, dt) = (lat.d, lat.k, net.dt);
    let arrays = perturbed(net, 1e-9, 7);
    let mut z = lat.inst.init.clone();
    let mut r = arrays.encode(&z);
    let steps = (secs / dt).round() as usize;
    let (mut us, mut u) = (vec![0.0; k], vec![0.0; k]);
    let mut ys = Vec::with_capacity(steps);
    let mut zs = Vec::with_capacity(steps);
    for t in 0..steps {
        for (j, v) in us.iter_mut().enumerate() {
            *v = 0.5 * (std::f64::consts::TAU * (j + 1) as f64 * t as f64 * dt / secs * 2.0).sin();
        }
        lat.input_map.from_unit(&us, &mut u);
        ys.push(arrays.read(&r, d));
        zs.push(z.clone());
        arrays.step(&mut r, &u);
        exact_step(lat, &mut z, &u, dt);
    }
    let mut sum = 0.0;
    let mut moving = 0;
    let mut abs = 0.0;
    for j in 0..d {
        let m = zs.iter().map(|p| p[j]).sum::<f64>() / steps as f64;
        let var = zs.iter().map(|p| (p[j] - m).powi(2)).sum::<f64>() / steps as f64;
        let mse = zs
            .iter()
            .zip(&ys)
            .map(|(a, b)| (a[j] - b[j]).powi(2))
            .sum::<f64>()
            / steps as f64;
        abs += mse / lat.map.scale[j].powi(2);
        if var > 1e-12 {
            sum += mse / var;
            moving += 1;
        }
    }
    ((sum / moving.max(1) as f64).sqrt(), (abs / d as f64).sqrt())
}

/// What the build line reports, per system: built at default options (`degree` automatic,
/// default `tau` and `dt`) in `neurons` units.
fn build(system: &str, neurons: usize) -> (rnnc::sema::Analysis, rnnc::methods::Built, f64) {
    let src = format!(
        "import std.systems\nnetwork c for {system} {{ method = reservoir(mode = compile)\n neurons = {neurons} }}\n"
    );
    let a = program(&src);
    let t0 = std::time::Instant::now();
    let built = rnnc::methods::build(&a.program, 0).unwrap();
    let secs = t0.elapsed().as_secs_f64();
    (a, built, secs)
}

fn report(system: &str, built: &rnnc::methods::Built, secs: f64, figure: &str) {
    let f = &built.figures;
    eprintln!(
        "{system:>16}: degree {:?}, flow error {:.2e}, max |w| {:.2e}, condition {:.2e}, {} warnings, {secs:.2} s; {figure}",
        f.degree,
        f.flow_error.unwrap_or(f64::NAN),
        f.max_weight,
        f.condition.unwrap_or(f64::NAN),
        built.warnings.len()
    );
}

/// The chaotic stdlib systems: at least 5 Lyapunov times (median of the starts) when run
/// by our own loop with every stored weight perturbed by 1e-9 relative noise.
#[test]
fn compiled_chaotic_systems_forecast_five_lyapunov_times_elsewhere() {
    for (system, neurons, lyapunov, protocol) in [
        ("Lorenz", 300, 0.9056, (20.0, 2.0, 10, 12.0)),
        ("Rossler", 300, 0.07, (100.0, 10.0, 5, 110.0)),
    ] {
        let (a, built, secs) = build(system, neurons);
        let lat = latent(&a.program);
        let vpt = independent_vpt(&built.net, &lat, lyapunov, protocol);
        let median = vpt[vpt.len() / 2];
        report(
            system,
            &built,
            secs,
            &format!("valid prediction times {vpt:.2?}"),
        );
        assert!(median >= 5.0, "{system}: median {median}");
        assert!(built.warnings.is_empty(), "{system}: {:?}", built.warnings);
        assert!(built.figures.max_weight < 1e5, "{system}");
    }
}

/// The other stdlib systems: NRMSE of our own loop against the exact solution.
#[test]
fn compiled_stdlib_systems_follow_their_exact_solutions_elsewhere() {
    for (system, bound) in [
        ("Integrator", 0.01),
        ("PlaneAttractor", 0.01),
        ("LeakyIntegrator", 0.01),
        ("Oscillator", 0.01),
        ("DampedOscillator", 0.01),
        ("HopfOscillator", 0.01),
        ("VanDerPol", 0.01),
        ("DoubleWell", 0.01),
        ("Latch", 0.01),
        ("Duffing", 0.01),
        ("NewtonSqrt", 1e-3),
    ] {
        let (a, built, secs) = build(system, 300);
        let lat = latent(&a.program);
        let (e, abs) = independent_nrmse(&built.net, &lat, 5.0);
        report(
            system,
            &built,
            secs,
            &format!(
                "NRMSE {:.3} %, rms error {abs:.1e} of the half-width",
                100.0 * e
            ),
        );
        // Newton's iteration sits at its fixed point after a few steps: the NRMSE divides by
        // a spread near zero, so the absolute error is the figure.
        let figure = if system == "NewtonSqrt" { abs } else { e };
        assert!(figure < bound, "{system}: NRMSE {e}, absolute {abs}");
        // Only Newton's iteration (1/x is no polynomial) misses the degree target in 300
        // units, and says so (`rnnc::build::degree`).
        let codes: Vec<&str> = built.warnings.iter().map(|w| w.code.name).collect();
        let want: &[&str] = if system == "NewtonSqrt" {
            &["rnnc::build::degree"]
        } else {
            &[]
        };
        assert_eq!(codes, want, "{system}");
        assert!(built.figures.max_weight < 1e5, "{system}");
    }
}
