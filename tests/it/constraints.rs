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
