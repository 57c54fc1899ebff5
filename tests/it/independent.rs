//! The weight file is the product: every example network, and every standard-library system
//! compiled with each method that applies at its default options, is written to its weight
//! file, perturbed by 1e-9 relative noise, read back by an implementation of docs/format.md's
//! update rule that shares no code with rnnc's simulator (tests/independent/engine.rs), and
//! checked through it. Its verdicts must be rnnc's own, expectation by expectation.

#[path = "../independent/engine.rs"]
mod engine;

use rnnc::driver;
use rnnc::net::{Engine, Net, Recurrent};
use rnnc::sema::model::{Program, Target};
use rnnc::source::{FsLoader, SourceDb};
use std::sync::Arc;

/// Multiplies every weight (not the leak) by `1 + 1e-9 n`, n ~ N(0, 1), seeded.
fn perturb(net: &mut Net, seed: u64) {
    let mut rng = rnnc::rng::Rng::new(seed, "perturb");
    let mut noise = move || 1.0 + 1e-9 * rng.normal();
    let mut mat = |m: &mut faer::Mat<f64>| {
        for j in 0..m.ncols() {
            for i in 0..m.nrows() {
                m[(i, j)] *= noise();
            }
        }
    };
    match &mut net.w_rec {
        Recurrent::Dense(w) => mat(w),
        Recurrent::Factored { left, right } => {
            mat(left);
            mat(right);
        }
    }
    mat(&mut net.w_in);
    mat(&mut net.w_out);
    if let Some((e, _)) = &mut net.enc {
        mat(e);
    }
    if let Some(fb) = &mut net.feedback {
        mat(&mut fb.w_fb);
    }
    let mut vec = |v: &mut Vec<f64>| v.iter_mut().for_each(|x| *x *= noise());
    vec(&mut net.b_rec);
    vec(&mut net.b_out);
    if let Some((_, b)) = &mut net.enc {
        vec(b);
    }
}

/// `net`'s weight file, perturbed, with the independent implementation as its engine.
fn independent(net: &Net, seed: u64) -> Net {
    let mut p = net.clone();
    perturb(&mut p, seed);
    let mut bytes = std::io::Cursor::new(Vec::new());
    rnnc::npz::write(&mut bytes, &p, &rnnc::npz::WriteOpts::default()).unwrap();
    let archive = engine::Archive::read(bytes.get_ref());
    p.engine = Some(Engine(Arc::new(engine::Independent::new(&archive))));
    p
}

fn largest(m: &faer::Mat<f64>) -> f64 {
    let mut x = 0.0f64;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            x = x.max(m[(i, j)].abs());
        }
    }
    x
}

/// What one network's checks gave under rnnc and under the independent implementation.
struct Row {
    what: String,
    w_rec: f64,
    w_out: f64,
    lines: Vec<(String, Option<String>, Option<String>, bool)>,
}

/// Checks network `i` of `program` both ways; `Err` for a network that cannot be built.
fn compare(program: &Program, i: usize, what: &str) -> Result<Row, String> {
    let start = std::time::Instant::now();
    let built = rnnc::methods::build(program, i).map_err(|d| d.code.name.to_string())?;
    let net = &built.net;
    let other = independent(net, 7 + i as u64);
    let w_rec = largest(&net.w_rec.dense());
    let w_out = largest(&net.w_out);
    let mut lines = Vec::new();
    for check in program.checks.iter().filter(|c| c.network == i) {
        let a = rnnc::check::run(program, check, net);
        let b = rnnc::check::run(program, check, &other);
        for (x, y) in a.lines.iter().zip(&b.lines) {
            lines.push((
                x.text.clone(),
                x.value.clone(),
                y.value.clone(),
                x.pass == y.pass,
            ));
        }
    }
    eprintln!("{what}: {:.1} s", start.elapsed().as_secs_f64());
    Ok(Row {
        what: what.to_string(),
        w_rec,
        w_out,
        lines,
    })
}

fn report(rows: &[Row]) -> usize {
    let mut differ = 0;
    for r in rows {
        eprintln!(
            "{}: max |W_rec| {:.3e}, max |W_out| {:.3e}",
            r.what, r.w_rec, r.w_out
        );
        for (text, a, b, same) in &r.lines {
            eprintln!(
                "    {}{text}: rnnc {} | independent {}",
                if *same { "" } else { "DIFFERENT " },
                a.as_deref().unwrap_or("-"),
                b.as_deref().unwrap_or("-")
            );
            differ += usize::from(!same);
        }
    }
    differ
}

#[test]
fn example_networks_have_the_same_verdicts_under_an_independent_simulator() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rnn"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for file in files {
        let mut db = SourceDb::new();
        let a = driver::analyze_path(&mut db, &FsLoader, &file).unwrap();
        let p = &a.program;
        for (i, network) in p.networks.iter().enumerate() {
            if network.span.file != p.root
                || matches!(network.target, Target::None)
                || !p.checks.iter().any(|c| c.network == i)
            {
                continue;
            }
            let what = format!(
                "{} {}",
                file.file_name().unwrap().to_string_lossy(),
                network.name
            );
            if let Ok(row) = compare(p, i, &what) {
                rows.push(row);
            }
        }
    }
    let lines: usize = rows.iter().map(|r| r.lines.len()).sum();
    let differ = report(&rows);
    assert!(rows.len() >= 10 && lines >= 20, "{} networks", rows.len());
    assert_eq!(differ, 0, "verdicts differ under the independent simulator");
}

/// One check per standard-library system: what its dynamics make a fair test.
const SYSTEMS: &[(&str, &str)] = &[
    (
        "Integrator",
        "simulate 2 s with u = 0.5 * sin(2 * pi * 1 Hz * t)\n    expect nrmse < 10%",
    ),
    (
        "PlaneAttractor",
        "simulate 2 s with u = [0.5 * sin(2 * pi * 1 Hz * t), 0.5 * cos(2 * pi * 1 Hz * t)]\n    expect nrmse < 10%",
    ),
    (
        "LeakyIntegrator",
        "simulate 3 s with u = sin(2 * pi * 0.5 Hz * t)\n    expect nrmse < 10%",
    ),
    ("Oscillator", "simulate 3 s from q = [0.8, 0]\n    expect nrmse < 10%"),
    ("DampedOscillator", "simulate 3 s\n    expect nrmse < 10%"),
    ("HopfOscillator", "simulate 3 s\n    expect nrmse < 10%"),
    ("VanDerPol", "simulate 10 s\n    expect nrmse < 10%"),
    ("DoubleWell", "simulate 3 s\n    expect nrmse < 10%"),
    (
        "Latch",
        "simulate 2 s with set = pulse(0.5 s, 100 ms), reset = pulse(1.2 s, 100 ms)\n    expect nrmse < 10%",
    ),
    ("Duffing", "simulate 10 s from x = 0.5, v = 0\n    expect nrmse < 10%"),
    (
        "Lorenz",
        "simulate 60 s\n    expect attractor_distance < 0.6\n    expect lyapunov_max > 0",
    ),
    (
        "Rossler",
        "simulate 200 s\n    expect attractor_distance < 0.6\n    expect lyapunov_max > 0",
    ),
    ("NewtonSqrt", "simulate 2 s\n    expect nrmse < 10%"),
    (
        "LogisticMap",
        "simulate 20 s\n    expect attractor_distance < 0.6\n    expect lyapunov_max > 0",
    ),
];

const METHODS: &[&str] = &[
    "nef",
    "lowrank",
    "reservoir(mode = compile)",
    "reservoir(mode = drive)",
];

#[test]
fn stdlib_systems_at_default_options_have_the_same_verdicts_under_an_independent_simulator() {
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for (system, check) in SYSTEMS {
        for (m, method) in METHODS.iter().enumerate() {
            let text = format!(
                "import std.systems\nnetwork net for {system} {{\n    neurons = 500\n    method = {method}\n}}\ncheck net {{\n    {check}\n}}\n"
            );
            let mut db = SourceDb::new();
            let a = driver::analyze_text(&mut db, &FsLoader, "independent.rnn", &text);
            assert!(!a.has_errors(), "{text}\n{:?}", a.diagnostics);
            match compare(&a.program, 0, &format!("{system} {method}")) {
                Ok(row) => rows.push(row),
                Err(code) => skipped.push(format!("{system} {}: {code}", METHODS[m])),
            }
        }
    }
    for s in &skipped {
        eprintln!("not built: {s}");
    }
    let differ = report(&rows);
    assert!(rows.len() >= 30, "only {} networks built", rows.len());
    assert_eq!(differ, 0, "verdicts differ under the independent simulator");
}
