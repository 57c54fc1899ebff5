//! `modularity` and `small_worldness` (CHECKS.md) on connectivity whose structure is known:
//! planted modules and a rewired ring lattice pass, random matrices fail.

use faer::Mat;
use rnnc::check;
use rnnc::driver;
use rnnc::methods;
use rnnc::net::{Net, Recurrent};
use rnnc::rng::Rng;
use rnnc::sema::model::Program;
use rnnc::source::{FsLoader, SourceDb};

const N: usize = 200;

fn setup() -> (Program, Net) {
    let src = format!(
        "import std.systems\nnetwork n for Integrator {{ neurons = {N} }}\n\
         check n {{\n expect modularity > 0.6\n expect small_worldness > 3\n}}\n"
    );
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "t.rnn", &src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let net = methods::build(&a.program, 0).expect("builds").net;
    (a.program, net)
}

/// The measured values of the two expectations, and whether each passed.
fn measure(w: Mat<f64>) -> Vec<(f64, bool)> {
    let (p, mut net) = setup();
    net.w_rec = Recurrent::Dense(w);
    let report = check::run(&p, &p.checks[0], &net);
    report
        .lines
        .iter()
        .map(|l| {
            assert!(l.error.is_none(), "{l:?}");
            (l.value.as_ref().unwrap().parse().unwrap(), l.pass.unwrap())
        })
        .collect()
}

fn random(seed: u64) -> Mat<f64> {
    let mut rng = Rng::new(seed, "test");
    Mat::from_fn(N, N, |_, _| rng.normal())
}

#[test]
fn planted_modules_are_found() {
    // Four modules of 50: strong weights inside, weak ones between; the top 10 % of |W| lies
    // inside the modules, so the best partition is the modules: Q = 1 - 4 (1/4)^2 = 0.75.
    let mut rng = Rng::new(2, "test");
    let w = Mat::from_fn(N, N, |i, j| {
        let scale = if i / 50 == j / 50 { 1.0 } else { 0.05 };
        scale * rng.normal()
    });
    let m = measure(w);
    assert!((m[0].0 - 0.75).abs() < 0.02 && m[0].1, "{m:?}");
    // A random matrix has no modules: Louvain's best is far below.
    let m = measure(random(3));
    assert!(m[0].0 < 0.3 && !m[0].1, "{m:?}");
}

#[test]
fn a_rewired_ring_is_a_small_world() {
    // Watts-Strogatz: each unit linked to its 10 nearest on each side (10 % of the entries),
    // 5 % of the links moved to random partners.
    let mut rng = Rng::new(4, "test");
    let mut w = Mat::from_fn(N, N, |_, _| 0.01 * rng.uniform());
    for i in 0..N {
        for d in 1..=10 {
            let j = if rng.uniform() < 0.05 {
                rng.below(N)
            } else {
                (i + d) % N
            };
            w[(i, j)] = 1.0;
            w[(j, i)] = 1.0;
        }
    }
    let m = measure(w);
    assert!(m[1].0 > 3.0 && m[1].1, "{m:?}");
    // A random matrix is its own reference: sigma close to 1.
    let m = measure(random(5));
    assert!((m[1].0 - 1.0).abs() < 0.15 && !m[1].1, "{m:?}");
}
