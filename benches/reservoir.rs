//! Reservoir computing against ReservoirPy 0.4.2 (bench/README.md): Lorenz valid prediction
//! time and fit time of `reservoir(mode = drive)` at N = 500 and 2000 under the anchor's
//! protocol (`../shared/anchors/rc_lorenz_esn.py`), the data-free compile, and raw
//! simulation throughput in neuron-steps per second.
//!
//! `cargo bench --bench reservoir` prints rnnc's figures; with `bench/results/reservoirpy.json`
//! (written by `bench/run.sh`) it prints ReservoirPy's beside them, with the ratios.
//! `RNNC_BENCH_QUICK=1` runs N = 500 only.

use rnnc::check::forecast::{median, valid_prediction_times, Forecast};
use rnnc::driver;
use rnnc::latent::Latent;
use rnnc::methods;
use rnnc::net::Net;
use rnnc::sema::model::{Program, Target};
use rnnc::sim;
use rnnc::source::{FsLoader, SourceDb};
use serde_json::Value;
use std::time::Instant;

/// The anchor's protocol: dt = 0.02, 10 s washout (500 steps), 200 s of training (10000
/// steps), leak rate 0.3 (tau = dt / 0.3); 3 reservoir seeds x 10 forecasts. The options are
/// rnnc's tuned ones (as ReservoirPy's are its tuned ones, bench/run.sh): spectral radius 0.8,
/// input scaling 0.3, bias U(-2, 2), density 2 %, ridge 1e-8.
fn program(n: usize, seed: u64, extra: &str, setting: Setting) -> Program {
    let tuned: &[(&str, &str)] = &[
        ("mode", "drive"),
        ("spectral_radius", "0.8"),
        ("input_scale", "0.3"),
        ("bias", "2.0"),
        ("density", "0.02"),
        ("ridge", "1e-8"),
        ("washout", "10 s"),
        ("train", "200 s"),
        // One trajectory, as ReservoirPy's (rnnc's default is 4 starts).
        ("starts", "1"),
    ];
    // The defaults: nothing but the mode (washout 10 s and train 200 s are the defaults, as
    // the anchor's protocol), rnnc's default `tau` (100 ms).
    let defaults: &[(&str, &str)] = &[("mode", "drive")];
    let mut opts: Vec<(String, String)> = match setting {
        Setting::Tuned => tuned,
        Setting::Defaults(_) => defaults,
    }
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // `RNNC_BENCH_EXTRA="ridge = 1e-8, input_scale = 0.2"` overrides or adds options.
    for kv in extra.split(',').filter(|s| s.contains('=')) {
        let (k, v) = kv.split_once('=').expect("k = v");
        let (k, v) = (k.trim().to_string(), v.trim().to_string());
        match opts.iter_mut().find(|(o, _)| *o == k) {
            Some(o) => o.1 = v,
            None => opts.push((k, v)),
        }
    }
    let opts: Vec<String> = opts.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let times = match setting {
        Setting::Tuned => "tau = 66.6667 ms\n dt = 20 ms".to_string(),
        Setting::Defaults(dt_ms) => format!("dt = {dt_ms} ms"),
    };
    let src = format!(
        "import std.systems\n\
         network esn for Lorenz {{\n\
           method = reservoir({})\n\
           neurons = {n}\n {times}\n seed = {seed}\n}}\n",
        opts.join(", ")
    );
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "bench.rnn", &src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    a.program
}

fn latent(p: &Program) -> Latent<'_> {
    let Target::System(inst) = &p.networks[0].target else {
        panic!("a system network")
    };
    Latent::new(&p.systems[inst.system], inst).expect("latent")
}

/// The forecasts: 10 starts 30 s apart after the training data (as the anchor's held-out
/// starts, 1500 steps apart), 20 Lyapunov times each.
fn protocol() -> Forecast {
    Forecast {
        starts: 10,
        transient: 240.0,
        gap: 30.0,
        horizon: 20.0 / 0.9056,
        sync: Some(10.0),
        ..Forecast::default()
    }
}

/// Which options a row builds with.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Setting {
    /// The bench's tuned options at the anchor's dt = 20 ms and leak 0.3.
    Tuned,
    /// `reservoir(mode = drive)` with its defaults at this dt (ms) and the default `tau`.
    Defaults(u32),
}

struct Row {
    n: usize,
    vpt: Vec<f64>,
    fit: f64,
    steps_per_s: f64,
}

fn drive_row(n: usize, extra: &str, setting: Setting) -> Row {
    let (mut vpt, mut fits, mut rates) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 0..3 {
        let p = program(n, seed, extra, setting);
        let t = Instant::now();
        let net = methods::build(&p, 0).expect("builds").net;
        fits.push(t.elapsed().as_secs_f64());
        let lat = latent(&p);
        vpt.extend(valid_prediction_times(&net, &lat, &protocol()).expect("runs"));
        rates.push(throughput(&net, 5000));
    }
    vpt.sort_by(f64::total_cmp);
    fits.sort_by(f64::total_cmp);
    rates.sort_by(f64::total_cmp);
    Row {
        n,
        vpt,
        fit: median(&fits),
        steps_per_s: median(&rates),
    }
}

/// Neuron-steps per second of the closed-loop network over `steps` steps.
fn throughput(net: &Net, steps: usize) -> f64 {
    let x0 = net.init_state.clone();
    let t = Instant::now();
    sim::run(net, &x0, steps, &mut |_, u| u.fill(0.0), &mut |_| {}).expect("finite");
    (net.n() * steps) as f64 / t.elapsed().as_secs_f64()
}

/// ReservoirPy's figures by N: (median VPT, median train seconds, teacher-forced and
/// generative neuron-steps/s), from the anchor's `--json` output.
fn theirs(n: usize) -> Option<(f64, f64, f64, f64)> {
    let text = std::fs::read_to_string("bench/results/reservoirpy.json").ok()?;
    let runs: Vec<Value> = serde_json::from_str(&text).ok()?;
    let rs: Vec<&Value> = runs
        .iter()
        .filter(|r| r["units"].as_u64() == Some(n as u64))
        .collect();
    if rs.is_empty() {
        return None;
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        median(&v)
    };
    let vpt = med(rs
        .iter()
        .flat_map(|r| r["vpt_lyap_z0.4"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_f64())
        .collect());
    let num = |k: &str| med(rs.iter().filter_map(|r| r[k].as_f64()).collect());
    Some((
        vpt,
        num("t_train_s"),
        num("teacher_forced_neuron_steps_per_s"),
        num("gen_neuron_steps_per_s"),
    ))
}

/// The data-free compile (issue 5: <= 250 neurons, median >= 10 Lyapunov times, compiled in
/// under 50 ms): 250 units, degree 4, from encoded starts.
fn compiled_row() {
    let src = "import std.systems\n\
        network c for Lorenz { method = reservoir(mode = compile, degree = 4)\n neurons = 250\n tau = 10 ms }\n";
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "bench.rnn", src);
    let p = &a.program;
    let mut times = Vec::new();
    let mut net = None;
    for _ in 0..5 {
        let t = Instant::now();
        net = Some(methods::build(p, 0).expect("builds").net);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let net = net.expect("built");
    let lat = latent(p);
    let vpt = valid_prediction_times(&net, &lat, &Forecast::default()).expect("runs");
    println!(
        "compiled Lorenz, 250 units, degree 4, no data: VPT median {:.2} LT over 30 starts \
         (ReservoirPy tuned ESN, N = 500: {}), compiled in {:.1} ms; {:.1} M neuron-steps/s",
        median(&vpt),
        theirs(500).map_or("-".into(), |t| format!("{:.2}", t.0)),
        median(&times) * 1e3,
        throughput(&net, 5000) / 1e6
    );
}

/// ReservoirPy's raw throughput (`rc_throughput.py`'s table, saved by bench/run.sh): by
/// (N, connectivity), its `run` in M neuron-steps/s.
fn their_throughput(n: usize, conn: f64) -> Option<f64> {
    let text = std::fs::read_to_string("bench/results/rc_throughput.txt").ok()?;
    text.lines().find_map(|l| {
        let v: Vec<f64> = l
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        (v.len() == 6 && v[0] as usize == n && (v[1] - conn).abs() < 1e-3).then(|| v[2])
    })
}

/// Raw simulation, as `rc_throughput.py` measures it: a leaky tanh reservoir (leak 0.5,
/// spectral radius 0.9) driven by 3 random inputs for 5000 steps, no readout in the loop.
fn throughput_rows() {
    use rnnc::methods::reservoir::{assemble, random_sparse, uniform};
    use rnnc::rng::Rng;
    println!("\nraw simulation (M neuron-steps/s), 5000 steps, 3 inputs, leak 0.5:");
    println!(
        "{:>6} {:>8} {:>10} {:>14} {:>8}",
        "N", "density", "rnnc", "ReservoirPy", "ratio"
    );
    for n in [100usize, 500, 2000] {
        for conn in [0.1, (10.0 / n as f64).min(1.0)] {
            let mut rng = Rng::new(0, "throughput");
            let a = random_sparse(n, conn, 0.9, &mut rng);
            let w_in = uniform(n, 3, 0.5, &mut rng);
            let net = assemble(
                &a,
                w_in,
                vec![0.0; n],
                faer::Mat::zeros(0, n),
                Vec::new(),
                None,
                1.0,
                2.0,
                Default::default(),
            );
            let inputs: Vec<f64> = (0..3 * 5001).map(|_| rng.normal()).collect();
            let mut best = f64::INFINITY;
            for _ in 0..3 {
                let t = Instant::now();
                sim::run(
                    &net,
                    &vec![0.0; n],
                    5000,
                    &mut |s, u| u.copy_from_slice(&inputs[3 * s..3 * s + 3]),
                    &mut |_| {},
                )
                .expect("finite");
                best = best.min(t.elapsed().as_secs_f64());
            }
            let ours = (n * 5000) as f64 / best / 1e6;
            let rp = their_throughput(n, conn);
            println!(
                "{:>6} {:>8.3} {:>10.1} {:>14} {:>8}",
                n,
                conn,
                ours,
                rp.map_or("-".into(), |v| format!("{v:.1}")),
                rp.map_or("-".into(), |v| format!("{:.1}x", ours / v)),
            );
        }
    }
}

fn main() {
    let quick = std::env::var("RNNC_BENCH_QUICK").is_ok();
    let extra = std::env::var("RNNC_BENCH_EXTRA").unwrap_or_default();
    let sizes: Vec<usize> = match std::env::var("RNNC_BENCH_SIZES") {
        Ok(s) => s
            .split(',')
            .map(|v| v.trim().parse().expect("a size"))
            .collect(),
        Err(_) if quick => vec![500],
        Err(_) => vec![500, 2000],
    };
    // `RNNC_BENCH_SETTINGS="defaults20"`: which rows (tuned, defaults20, defaults10).
    let settings: Vec<Setting> = std::env::var("RNNC_BENCH_SETTINGS")
        .unwrap_or_else(|_| "tuned,defaults20,defaults10".into())
        .split(',')
        .map(|s| match s.trim() {
            "tuned" => Setting::Tuned,
            other => Setting::Defaults(
                other
                    .strip_prefix("defaults")
                    .and_then(|v| v.parse().ok())
                    .expect("tuned or defaultsDT (dt in ms)"),
            ),
        })
        .collect();
    println!("Lorenz, reservoir(mode = drive), ReservoirPy's protocol (30 forecasts, z-error 0.4)");
    println!(
        "{:>6} {:>16} {:>22} {:>10} {:>12} {:>10} {:>8} {:>16}",
        "N",
        "options",
        "VPT median [IQR] (LT)",
        "rpy VPT",
        "fit (s)",
        "rpy fit",
        "ratio",
        "M neuron-steps/s"
    );
    for &n in &sizes {
        for &setting in &settings {
            let r = drive_row(n, &extra, setting);
            let q = |f: f64| r.vpt[((r.vpt.len() - 1) as f64 * f).round() as usize];
            let rp = theirs(n);
            let name = match setting {
                Setting::Tuned => "tuned, dt 20 ms".to_string(),
                Setting::Defaults(dt) => format!("defaults, dt {dt} ms"),
            };
            println!(
                "{:>6} {:>16} {:>8.2} [{:.2}-{:.2}] {:>10} {:>12.3} {:>10} {:>8} {:>10.1} (rpy {})",
                r.n,
                name,
                median(&r.vpt),
                q(0.25),
                q(0.75),
                rp.map_or("-".into(), |t| format!("{:.2}", t.0)),
                r.fit,
                rp.map_or("-".into(), |t| format!("{:.2}", t.1)),
                rp.map_or("-".into(), |t| format!("{:.1}x", t.1 / r.fit)),
                r.steps_per_s / 1e6,
                rp.map_or("-".into(), |t| format!(
                    "{:.1} tf / {:.1} gen",
                    t.2 / 1e6,
                    t.3 / 1e6
                )),
            );
        }
    }
    if std::env::var("RNNC_BENCH_DRIVE_ONLY").is_ok() {
        return;
    }
    compiled_row();
    throughput_rows();
}
