//! Memory capacity (CHECKS.md): a linear 50-unit reservoir with a generic orthogonal weight
//! matrix remembers as much as Jaeger's theory allows, MC = N (Jaeger 2002), within 10 %.

use rnnc::check::memory::capacity;
use rnnc::driver;
use rnnc::methods;
use rnnc::net::{Phi, Recurrent};
use rnnc::source::{MemLoader, SourceDb};

#[test]
fn a_linear_reservoir_remembers_n_steps() {
    let n = 50;
    let src = format!("import std.systems\nnetwork n for Integrator {{ neurons = {n} }}");
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "t.rnn", &src);
    let mut net = methods::build(&a.program, 0).expect("builds").net;
    let mut s: u64 = 0x9E3779B97F4A7C15;
    let mut rnd = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let m = faer::Mat::<f64>::from_fn(n, n, |_, _| rnd());
    let q = m.qr().compute_Q();
    net.w_rec = Recurrent::Dense(faer::Mat::from_fn(n, n, |i, j| 0.95 * q[(i, j)]));
    net.w_in = faer::Mat::from_fn(n, 1, |_, _| rnd());
    net.phi = Phi::Linear;
    net.alpha = vec![1.0; n];
    net.b_rec = vec![0.0; n];
    net.init_state = vec![0.0; n];
    let mc = capacity(&net, 0.01, 1).unwrap();
    eprintln!("memory capacity {mc:.2} of {n}");
    assert!(mc >= 0.9 * n as f64 && mc <= n as f64 + 1.0, "{mc}");
    // A reservoir that forgets fast (spectral radius 0.3) remembers a few steps only.
    net.w_rec = Recurrent::Dense(faer::Mat::from_fn(n, n, |i, j| 0.3 * q[(i, j)]));
    let short = capacity(&net, 0.01, 1).unwrap();
    assert!(short < 0.5 * n as f64, "{short}");
}
