//! NEF build and simulation speed against Nengo 4.1 (bench/README.md).
//!
//! `cargo bench --bench nef` prints rnnc's figures; with `bench/results/nengo.json` (written
//! by `bench/nengo_side.py`, which `bench/run.sh` runs first) it prints the ratios too.

use rnnc::driver;
use rnnc::methods;
use rnnc::net::{Net, Recurrent};
use rnnc::sim;
use rnnc::source::{MemLoader, SourceDb};
use serde_json::Value;
use std::time::Instant;

const STEPS: usize = 5000; // 5 s at dt = 1 ms

fn build(system: &str, n: usize, neuron: &str) -> (Net, f64) {
    build_with(system, n, neuron, "")
}

fn build_with(system: &str, n: usize, neuron: &str, constraints: &str) -> (Net, f64) {
    let src = format!(
        "import std.systems\nnetwork b for {system} {{ neurons = {n}\n neuron = {neuron}\n tau = 100 ms\n dt = 1 ms\n seed = 1\n constraints {{ {constraints} }} }}\n"
    );
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "bench.rnn", &src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let t = Instant::now();
    let built = methods::build(&a.program, 0).expect("builds");
    (built.net, t.elapsed().as_secs_f64())
}

/// Seconds per step over `steps` steps with zero input, after a warm-up of `steps / 4`.
fn step_time(net: &Net, steps: usize) -> f64 {
    let x0 = net.init_state.clone();
    sim::run(net, &x0, steps / 4, &mut |_, _| {}, &mut |_| {}).expect("finite");
    let t = Instant::now();
    sim::run(net, &x0, steps, &mut |_, _| {}, &mut |_| {}).expect("finite");
    t.elapsed().as_secs_f64() / steps as f64
}

fn vm_hwm_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Builds in a fresh process so the peak memory is that build's alone.
fn child_build(n: usize, threads: usize) -> (f64, f64) {
    let exe = std::env::current_exe().expect("exe");
    let out = std::process::Command::new(exe)
        .env("RNNC_BENCH_CHILD", n.to_string())
        .env("RAYON_NUM_THREADS", threads.to_string())
        .output()
        .expect("child");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text
        .split_whitespace()
        .map(|v| v.parse::<f64>().unwrap_or(f64::NAN));
    (it.next().unwrap_or(f64::NAN), it.next().unwrap_or(f64::NAN))
}

fn ratio(ours: f64, theirs: Option<f64>, higher_is_better: bool) -> String {
    match theirs {
        Some(t) if t > 0.0 && ours > 0.0 => {
            let r = if higher_is_better { ours / t } else { t / ours };
            format!("{r:6.1}x")
        }
        _ => "     -".into(),
    }
}

fn main() {
    if let Ok(n) = std::env::var("RNNC_BENCH_CHILD") {
        let n: usize = n.parse().expect("size");
        let (_, secs) = build("Integrator", n, "lif");
        println!("{secs} {}", vm_hwm_mb());
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let nengo: Option<Value> = std::fs::read_to_string(root.join("bench/results/nengo.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let get = |path: &[&str]| -> Option<f64> {
        let mut v = nengo.as_ref()?;
        for p in path {
            v = v.get(*p)?;
        }
        v.as_f64()
    };
    if nengo.is_none() {
        println!("(no bench/results/nengo.json: run bench/run.sh for the ratios)");
    }
    println!(
        "rnnc vs Nengo 4.1, dt = 1 ms, tau = 100 ms; rnnc on {} threads",
        rayon::current_num_threads()
    );
    println!();
    println!(
        "M n-steps/s: simulated neuron-steps per second (rnnc: tanh and rate LIF; Nengo: LIFRate)"
    );
    println!(
        "{:<16} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10} {:>8}",
        "problem", "build s", "nengo s", "ratio", "tanh", "lif", "nengo", "ratio"
    );
    for (system, label, n) in [
        ("Integrator", "integrator", 100),
        ("Integrator", "integrator", 1000),
        ("Oscillator", "oscillator", 200),
        ("Oscillator", "oscillator", 2000),
        ("Lorenz", "lorenz", 2000),
    ] {
        let (net, _) = build(system, n, "tanh");
        let rate_tanh = n as f64 / step_time(&net, STEPS);
        let (net, b) = build(system, n, "lif");
        let rate = n as f64 / step_time(&net, STEPS);
        let key = format!("{label}/{n}");
        let nb = get(&["problems", &key, "build_s"]);
        let nr = get(&["problems", &key, "neuron_steps_per_s"]);
        println!(
            "{:<16} {:>10.3} {:>10} {} {:>10.1} {:>10.1} {:>10} {}",
            key,
            b,
            nb.map_or("-".into(), |v| format!("{v:.3}")),
            ratio(b, nb, false),
            rate_tanh / 1e6,
            rate / 1e6,
            nr.map_or("-".into(), |v| format!("{:.1}", v / 1e6)),
            ratio(rate_tanh, nr, true)
        );
    }
    println!();
    println!(
        "{:<16} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10}",
        "build scaling", "build s", "nengo s", "ratio", "peak MB", "nengo MB", "1 thread s"
    );
    for n in [1000, 3000, 6000] {
        let (secs, mb) = child_build(n, 0);
        let (secs1, _) = child_build(n, 1);
        let key = n.to_string();
        let nb = get(&["scaling", &key, "build_s"]);
        let nm = get(&["scaling", &key, "peak_rss_mb"]);
        println!(
            "{:<16} {:>10.3} {:>10} {} {:>10.0} {:>10} {:>10.3}",
            format!("N = {n}"),
            secs,
            nb.map_or("-".into(), |v| format!("{v:.3}")),
            ratio(secs, nb, false),
            mb,
            nm.map_or("-".into(), |v| format!("{v:.0}")),
            secs1
        );
    }
    println!();
    // Dense weights: the memory-bandwidth limit, one trial and batches sharing each pass.
    let (mut net, _) = build("Oscillator", 2000, "tanh");
    net.w_rec = Recurrent::Dense(net.w_rec.dense());
    let dense = step_time(&net, 1000);
    let np = get(&["numpy_matvec_step_s"]);
    let nw = get(&["nengo_weights_step_s"]);
    println!(
        "dense N = 2000: {:.3} ms per step; numpy matvec {}; nengo weights=True {}",
        dense * 1e3,
        np.map_or("-".into(), |v| format!(
            "{:.3} ms ({})",
            v * 1e3,
            ratio(dense, Some(v), false).trim()
        )),
        nw.map_or("-".into(), |v| format!(
            "{:.3} ms ({})",
            v * 1e3,
            ratio(dense, Some(v), false).trim()
        )),
    );
    let (sparse, secs) = build_with("Oscillator", 2000, "tanh", "sparsity(density = 25%)");
    println!(
        "sparse N = 2000 (25 % nonzero, built in {secs:.2} s): {:.3} ms per step",
        step_time(&sparse, 1000) * 1e3
    );
    for b in [8usize, 32] {
        let x0 = faer::Mat::from_fn(net.n(), b, |i, _| net.init_state[i]);
        let t = Instant::now();
        let steps = 200;
        sim::run_batch(&net, x0.as_ref(), steps, &mut |_, _| {}, &mut |_, _| {}).expect("finite");
        let per = t.elapsed().as_secs_f64() / (steps * b) as f64;
        println!(
            "dense N = 2000, batch of {b}: {:.3} ms per trial-step ({:.1}x one trial)",
            per * 1e3,
            dense / per
        );
    }
}
