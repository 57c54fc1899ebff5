//! Synapse-level constraints (METHODS.md section 6): what the build side enforces, the verify
//! side finds, and the network still does its job.

use rnnc::constraints::{distances, verify};
use rnnc::driver;
use rnnc::methods::{self, Built};
use rnnc::sema::model::{CheckStep, Program};
use rnnc::source::{MemLoader, SourceDb};
use rnnc::trace;

fn program(constraints: &str) -> Program {
    let space = if constraints.contains("space(") {
        ""
    } else {
        "space(grid = [20, 20])"
    };
    let src = format!(
        "import std.systems\n\
         network n for Oscillator {{ neurons = 400\n constraints {{\n {space}\n {constraints}\n }} }}\n\
         check n {{ simulate 2 s from q = [0.8, 0]\n expect nrmse < 5% }}\n"
    );
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "c.rnn", &src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    a.program
}

/// Builds and returns the network with its NRMSE over the check's simulation.
fn build(constraints: &str) -> (Built, f64) {
    let p = program(constraints);
    let built = methods::build(&p, 0).expect("builds");
    let CheckStep::Simulate(sim) = &p.checks[0].steps[0] else {
        panic!()
    };
    let (net, reference) = trace::simulate_network(&p, 0, &built.net, sim).expect("runs");
    let e = trace::nrmse(&net, &reference, &built.net.meta.states, 0).unwrap();
    (built, e)
}

#[test]
fn dale_gives_one_sign_per_column() {
    let (b, e) = build("dale(excitatory = 80%)");
    let w = b.net.w_rec.dense();
    assert!(verify::dale(&w));
    let signs = b.net.dale_sign.as_ref().expect("dale_sign is stored");
    assert_eq!(signs.iter().filter(|&&s| s == 1).count(), 320);
    for j in 0..400 {
        for i in 0..400 {
            assert!(
                f64::from(signs[j]) * w[(i, j)] >= 0.0,
                "W[{i}, {j}] has the wrong sign"
            );
        }
    }
    // The unconstrained network breaks Dale's law: the check can fail.
    let (free, _) = build("");
    assert!(!verify::dale(&free.net.w_rec.dense()));
    assert!(e < 0.02, "nrmse {e}");
}

#[test]
fn sparsity_and_prune_bound_the_density() {
    let (b, e) = build("sparsity(density = 25%)");
    let d = verify::density(&b.net.w_rec.dense());
    assert!(d <= 0.25 && d > 0.2, "density {d}");
    assert!(e < 0.02, "nrmse {e}");
    let (b, e) = build("prune(fraction = 60%)");
    let d = verify::density(&b.net.w_rec.dense());
    assert!(d <= 0.40 + 1e-9, "density {d}");
    assert!(e < 0.02, "nrmse {e}");
    assert_eq!(verify::density(&build("").0.net.w_rec.dense()), 1.0);
}

#[test]
fn wiring_prefers_short_connections() {
    let p = rnnc::methods::nef::grid_positions(&[20, 20], 400);
    let d = distances(&p);
    let (plain, _) = build("sparsity(density = 25%)");
    let (wired, e) = build("sparsity(density = 25%)\n space(grid = [20, 20], wiring = 0.3)");
    let (c0, c1) = (
        verify::wiring_cost(&plain.net.w_rec.dense(), &d),
        verify::wiring_cost(&wired.net.w_rec.dense(), &d),
    );
    assert!(
        c1 < 0.8 * c0,
        "wiring cost {c1} vs {c0} without the penalty"
    );
    assert!(e < 0.05, "nrmse {e}");
}

/// The oscillator of issue 13 on a 25 x 40 sheet: Dale (80 % excitatory), density 15 % and a
/// wiring cost `wiring` (0: none), checked the way `rnnc check` checks it.
fn sheet(wiring: f64) -> Program {
    let space = if wiring > 0.0 {
        format!("space(grid = [25, 40], wiring = {wiring})")
    } else {
        "space(grid = [25, 40])".into()
    };
    let src = format!(
        "import std.systems\n\
         network n for Oscillator {{ neurons = 1000\n\
         neuron = lif(tau_rc = 20 ms, tau_ref = 2 ms)\n\
         constraints {{\n dale(excitatory = 80%)\n sparsity(density = 15%)\n {space}\n }} }}\n\
         check n {{ simulate 5 s from q = [0.8, 0]\n expect nrmse < 3%\n expect dale\n\
         expect density <= 15%\n expect wiring_cost < 4000\n }}\n"
    );
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "sheet.rnn", &src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    a.program
}

/// Mean length of the connections that count (`|W_ij| > 1e-12 max |W|`, as `density`).
fn mean_length(w: &faer::Mat<f64>, d: &[f64]) -> f64 {
    let n = w.ncols();
    let max = (0..n)
        .flat_map(|j| (0..w.nrows()).map(move |i| (i, j)))
        .fold(0.0f64, |m, (i, j)| m.max(w[(i, j)].abs()));
    let (mut sum, mut count) = (0.0, 0usize);
    for i in 0..w.nrows() {
        for j in 0..n {
            if w[(i, j)].abs() > 1e-12 * max {
                sum += d[i * n + j];
                count += 1;
            }
        }
    }
    sum / count as f64
}

/// What one build of the sheet gives: the check's verdicts, NRMSE, mean connection length
/// and the build's predicted one-step error (from its warning).
struct Sheet {
    report: rnnc::check::Report,
    nrmse: f64,
    mean_length: f64,
    w: faer::Mat<f64>,
    warning: rnnc::diag::Diagnostic,
}

fn sheet_built(wiring: f64) -> Sheet {
    let p = sheet(wiring);
    let built = methods::build(&p, 0).expect("builds");
    let CheckStep::Simulate(sim) = &p.checks[0].steps[0] else {
        panic!()
    };
    let (net, reference) = trace::simulate_network(&p, 0, &built.net, sim).expect("runs");
    let nrmse = trace::nrmse(&net, &reference, &built.net.meta.states, 0).unwrap();
    let report = rnnc::check::run(&p, &p.checks[0], &built.net);
    let w = built.net.w_rec.dense();
    let d = distances(&rnnc::methods::nef::grid_positions(&[25, 40], 1000));
    let warning = built
        .warnings
        .iter()
        .find(|w| w.message.contains("one-step map"))
        .expect("the build reports the constrained step error")
        .clone();
    Sheet {
        report,
        nrmse,
        mean_length: mean_length(&w, &d),
        w,
        warning,
    }
}

/// Issue 13's bar: Dale, density 15 % and a wiring cost that shortens the mean connection
/// by at least 20 % keep the oscillator under 3 % NRMSE in `rnnc check`.
#[test]
fn wiring_keeps_the_dynamics() {
    let plain = sheet_built(0.0);
    let wired = sheet_built(WIRING);
    let ratio = wired.mean_length / plain.mean_length;
    eprintln!(
        "mean length {:.2} -> {:.2} ({ratio:.3}), nrmse {:.4} -> {:.4}; {}",
        plain.mean_length, wired.mean_length, plain.nrmse, wired.nrmse, wired.warning.message
    );
    assert!(ratio <= 0.8, "mean connection length ratio {ratio}");
    assert!(wired.nrmse < 0.03, "nrmse {}", wired.nrmse);
    assert!(verify::dale(&wired.w));
    let density = verify::density(&wired.w);
    assert!(density <= 0.15, "density {density}");
    // Without the wiring cost the check's `wiring_cost < 4000` fails.
    let wiring_line = |r: &rnnc::check::Report| {
        r.lines
            .iter()
            .find(|l| l.text.contains("wiring_cost"))
            .and_then(|l| l.pass)
    };
    assert_eq!(wiring_line(&plain.report), Some(false));
    // `rnnc check` says the same: every line passes.
    assert_eq!(wired.report.failed() + wired.report.errors(), 0);
    assert!(wired.report.lines.iter().all(|l| l.pass == Some(true)));
    // The build's figure does not warn of the dynamics.
    assert!(!wired
        .warning
        .help
        .as_deref()
        .unwrap_or("")
        .contains("speed"));
}

/// Next to it, the check fails where a constraint is broken: the same expectations against
/// the network built without any synapse-level constraint (Dale and density broken), and a
/// plain network's wiring cost above the bound its wired twin keeps.
#[test]
fn the_check_fails_when_a_constraint_breaks() {
    let p = sheet(0.0);
    let mut free = p.clone();
    // The sheet stays (positions for `wiring_cost`); Dale, density and wiring go.
    free.networks[0]
        .constraints
        .retain(|c| matches!(c.kind, rnnc::decl::Constraint::Space(_)));
    let built = methods::build(&free, 0).expect("builds");
    let report = rnnc::check::run(&p, &p.checks[0], &built.net);
    let verdict = |text: &str| {
        report
            .lines
            .iter()
            .find(|l| l.text.contains(text))
            .and_then(|l| l.pass)
    };
    assert_eq!(verdict("dale"), Some(false));
    assert_eq!(verdict("density"), Some(false));
    assert_eq!(verdict("nrmse"), Some(true));
    assert_eq!(verdict("wiring_cost"), Some(false));
}

/// The wiring cost of 0.3 per grid unit: with Dale's inhibitory neurons spread over the sheet
/// (as one block at its edge, a neuron far from the block had no inhibitory partner near it
/// and the oscillator erred 87 %).
const WIRING: f64 = 0.3;

/// Dale's inhibitory neurons are spread over the index (and so over a grid), not one block.
#[test]
fn dale_spreads_the_inhibitory_neurons() {
    let s = rnnc::constraints::dale_signs(1000, 0.8);
    assert_eq!(s.iter().filter(|&&v| v == 1).count(), 800);
    assert!(s
        .chunks(5)
        .all(|c| c.iter().filter(|&&v| v == -1).count() == 1));
    let s = rnnc::constraints::dale_signs(7, 0.5);
    assert_eq!(s.iter().filter(|&&v| v == 1).count(), 4);
    assert!(rnnc::constraints::dale_signs(3, 1.0)
        .iter()
        .all(|&v| v == 1));
    assert!(rnnc::constraints::dale_signs(3, 0.0)
        .iter()
        .all(|&v| v == -1));
    assert!(rnnc::constraints::dale_signs(0, 0.8).is_empty());
}

/// Where the constraints do break the dynamics, the build's line says so before the check
/// fails: 200 neurons, 5 % density (ten partners) of the nearest ones, and Dale.
#[test]
fn the_build_warns_when_the_dynamics_suffer() {
    let src = "import std.systems\n\
         network n for Oscillator { neurons = 200\n\
         neuron = lif(tau_rc = 20 ms, tau_ref = 2 ms)\n\
         constraints {\n dale(excitatory = 80%)\n sparsity(density = 5%)\n\
         space(grid = [10, 20], wiring = 3)\n } }\n\
         check n { simulate 5 s from q = [0.8, 0]\n expect nrmse < 3%\n }\n";
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "weak.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let p = a.program;
    let built = methods::build(&p, 0).expect("builds");
    let warning = built
        .warnings
        .iter()
        .find(|w| w.message.contains("one-step map"))
        .expect("the build reports the step change");
    let report = rnnc::check::run(&p, &p.checks[0], &built.net);
    eprintln!(
        "{} | {:?} | {:?}",
        warning.message, warning.help, report.lines[0].value
    );
    assert_eq!(report.lines[0].pass, Some(false));
    assert!(warning.help.as_deref().unwrap_or("").contains("speed"));
}
