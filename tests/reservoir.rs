//! `reservoir(mode = drive)`: the streamed ridge readout is exact, and a driven reservoir
//! with its loop closed reproduces a limit cycle from a teacher-forced start.

use faer::linalg::solvers::Solve;
use faer::Mat;
use rnnc::check;
use rnnc::driver;
use rnnc::methods;
use rnnc::methods::reservoir::Ridge;
use rnnc::rng::Rng;
use rnnc::source::{FsLoader, SourceDb};

#[test]
fn the_streamed_ridge_equals_the_direct_solve() {
    // 700 samples (more than one block) of 12 features; a target with an offset.
    let (n, t, lambda) = (12, 700, 0.3);
    let mut rng = Rng::new(1, "test");
    let q = Mat::from_fn(t, n, |_, _| rng.normal() + 0.5);
    let w_true: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let y: Vec<f64> = (0..t)
        .map(|s| 2.0 + (0..n).map(|j| q[(s, j)] * w_true[j]).sum::<f64>() + 0.1 * rng.normal())
        .collect();
    let mut ridge = Ridge::new(n, 1);
    for s in 0..t {
        let row: Vec<f64> = (0..n).map(|j| q[(s, j)]).collect();
        ridge.add(0, &row, y[s]);
    }
    let (w, b) = ridge.solve(lambda).unwrap();
    // Direct: centre, then (Qc^T Qc + lambda I) w = Qc^T yc, b = ybar - w . qbar.
    let qbar: Vec<f64> = (0..n)
        .map(|j| (0..t).map(|s| q[(s, j)]).sum::<f64>() / t as f64)
        .collect();
    let ybar = y.iter().sum::<f64>() / t as f64;
    let qc = Mat::from_fn(t, n, |s, j| q[(s, j)] - qbar[j]);
    let yc = Mat::from_fn(t, 1, |s, _| y[s] - ybar);
    let mut g = qc.transpose() * &qc;
    for i in 0..n {
        g[(i, i)] += lambda;
    }
    let direct = g.partial_piv_lu().solve(&(qc.transpose() * &yc));
    for j in 0..n {
        assert!((w[(0, j)] - direct[(j, 0)]).abs() < 1e-10, "{j}");
    }
    let b_direct = ybar - (0..n).map(|j| direct[(j, 0)] * qbar[j]).sum::<f64>();
    assert!((b[0] - b_direct).abs() < 1e-10);
}

#[test]
fn a_driven_reservoir_runs_the_hopf_cycle() {
    let src = "import std.systems\n\
        network r for HopfOscillator { method = reservoir(train = 20 s, washout = 2 s)\n neurons = 300\n tau = 20 ms\n dt = 5 ms }\n\
        check r {\n simulate 5 s\n expect nrmse < 1%\n expect sync_error < 0.1\n expect divergence_time > 4 s\n}\n";
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "t.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let built = methods::build(&a.program, 0).unwrap().net;
    // The file keeps the loop closed and says how: W_rec = A + W_fb W_out[0..2].
    let fb = built.feedback.as_ref().unwrap();
    assert_eq!(fb.rows, [0, 1]);
    let open = built.open_loop().unwrap();
    let a_mat = open.w_rec.dense();
    let nonzero = (0..300)
        .flat_map(|i| (0..300).map(move |j| (i, j)))
        .filter(|&(i, j)| a_mat[(i, j)].abs() > 1e-12)
        .count() as f64
        / 90000.0;
    assert!((nonzero - 0.1).abs() < 0.01, "{nonzero}");
    let report = check::run(&a.program, &a.program.checks[0], &built);
    for l in &report.lines {
        assert_eq!(l.pass, Some(true), "{l:?}");
    }
}
