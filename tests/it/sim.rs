//! The simulator's paths agree with each other, and divergence is an error.

use rnnc::driver;
use rnnc::methods;
use rnnc::net::{Net, Recurrent};
use rnnc::sim;
use rnnc::source::{MemLoader, SourceDb};

fn oscillator(neurons: usize) -> Net {
    build(&format!(
        "import std.systems\nnetwork n for Oscillator {{ neurons = {neurons} }}"
    ))
}

fn build(src: &str) -> Net {
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "t.rnn", src);
    methods::build(&a.program, 0).expect("builds").net
}

fn trace(net: &Net, x0: &[f64], steps: usize, kick: f64) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    sim::run(
        net,
        x0,
        steps,
        &mut |t, u| {
            u[0] = if t < 10 { kick } else { 0.0 };
        },
        &mut |s| out.push(s.y.to_vec()),
    )
    .expect("finite");
    out
}

#[test]
fn factored_dense_and_batched_runs_agree() {
    let net = oscillator(300);
    assert_eq!(net.w_rec.rank(), Some(2));
    let mut dense = net.clone();
    dense.w_rec = Recurrent::Dense(net.w_rec.dense());
    let x0 = net.init_state.clone();
    let a = trace(&net, &x0, 500, 0.5);
    let b = trace(&dense, &x0, 500, 0.5);
    assert_eq!(a.len(), 501);
    for (ra, rb) in a.iter().zip(&b) {
        for (va, vb) in ra.iter().zip(rb) {
            assert!((va - vb).abs() <= 1e-9 * va.abs().max(1e-3), "{va} vs {vb}");
        }
    }
    // Three trials with different kicks in one batch = three single runs.
    let kicks = [0.5, -0.3, 0.0];
    let x0m = faer::Mat::from_fn(net.n(), 3, |i, _| x0[i]);
    let mut batch: Vec<Vec<Vec<f64>>> = vec![Vec::new(); 3];
    for w in [&net, &dense] {
        batch.iter_mut().for_each(Vec::clear);
        sim::run_batch(
            w,
            x0m.as_ref(),
            500,
            &mut |t, mut u| {
                for c in 0..3 {
                    u[(0, c)] = if t < 10 { kicks[c] } else { 0.0 };
                }
            },
            &mut |_, y| {
                for c in 0..3 {
                    batch[c].push((0..y.nrows()).map(|i| y[(i, c)]).collect());
                }
            },
        )
        .expect("finite");
        for (c, kick) in kicks.iter().enumerate() {
            let single = trace(&net, &x0, 500, *kick);
            for (ra, rb) in single.iter().zip(&batch[c]) {
                for (va, vb) in ra.iter().zip(rb) {
                    assert!((va - vb).abs() <= 1e-9 * va.abs().max(1e-3), "{va} vs {vb}");
                }
            }
        }
    }
}

#[test]
fn divergence_is_an_error_not_a_nan_trace() {
    let mut net = oscillator(50);
    // A linear network with gain 3 on its own state blows up.
    net.phi = rnnc::net::Phi::Linear;
    net.w_rec = Recurrent::Dense(faer::Mat::from_fn(
        50,
        50,
        |i, j| if i == j { 3.0 } else { 0.0 },
    ));
    net.alpha = vec![1.0; 50];
    let x0 = vec![1.0; 50];
    let mut rows = 0;
    let err = sim::run(&net, &x0, 10_000, &mut |_, _| {}, &mut |s| {
        assert!(s.y.iter().all(|v| v.is_finite()), "a NaN reached the trace");
        rows += 1;
    })
    .unwrap_err();
    assert!(err.step > 100 && err.step < 1000, "{err}");
    assert_eq!(rows, err.step);
    let x0m = faer::Mat::from_fn(50, 2, |_, _| 1.0);
    let err =
        sim::run_batch(&net, x0m.as_ref(), 10_000, &mut |_, _| {}, &mut |_, _| {}).unwrap_err();
    assert!(err.step > 100 && err.step < 1000, "{err}");
}

#[test]
fn sparse_rows_agree_with_the_dense_product() {
    let net = build(
        "import std.systems\nnetwork n for Oscillator { neurons = 200\n constraints { sparsity(density = 20%) } }",
    );
    let w = net.w_rec.dense();
    assert!(rnnc::constraints::verify::density(&w) <= 0.2);
    let x0 = net.init_state.clone();
    // Single trials step through compressed rows; a batch of one through the dense product.
    let single = trace(&net, &x0, 300, 0.5);
    let x0m = faer::Mat::from_fn(net.n(), 1, |i, _| x0[i]);
    let mut batch = Vec::new();
    sim::run_batch(
        &net,
        x0m.as_ref(),
        300,
        &mut |t, mut u| u[(0, 0)] = if t < 10 { 0.5 } else { 0.0 },
        &mut |_, y| batch.push((0..y.nrows()).map(|i| y[(i, 0)]).collect::<Vec<_>>()),
    )
    .expect("finite");
    for (ra, rb) in single.iter().zip(&batch) {
        for (va, vb) in ra.iter().zip(rb) {
            assert!((va - vb).abs() <= 1e-9 * va.abs().max(1e-3), "{va} vs {vb}");
        }
    }
}

#[test]
fn a_large_dense_step_split_over_threads_matches_the_factors() {
    // 1100^2 > 2^20 entries: the dense step takes a band of rows per thread.
    let net = oscillator(1100);
    let mut dense = net.clone();
    dense.w_rec = Recurrent::Dense(net.w_rec.dense());
    let x0 = net.init_state.clone();
    let (a, b) = (trace(&net, &x0, 60, 0.5), trace(&dense, &x0, 60, 0.5));
    for (ra, rb) in a.iter().zip(&b) {
        for (va, vb) in ra.iter().zip(rb) {
            assert!((va - vb).abs() <= 1e-9 * va.abs().max(1e-3), "{va} vs {vb}");
        }
    }
}
