//! Lyapunov exponents by the QR method (CHECKS.md): exact on a linear network, and the sum of
//! the full spectrum equals the average log-determinant of the step's Jacobian.

use faer::linalg::solvers::DenseSolveCore;
use faer::Mat;
use rnnc::check::lyapunov::spectrum;
use rnnc::driver;
use rnnc::methods;
use rnnc::net::{Net, Phi, Recurrent};
use rnnc::source::{MemLoader, SourceDb};

/// Every progress call: (0 begin | 2 advance | 1 end, value).
#[derive(Default)]
struct Record(std::cell::RefCell<Vec<(u8, u64)>>);

impl rnnc::progress::Progress for Record {
    fn begin(&self, _: &str, total: u64) {
        self.0.borrow_mut().push((0, total));
    }
    fn advance(&self, done: u64) {
        self.0.borrow_mut().push((2, done));
    }
    fn end(&self) {
        self.0.borrow_mut().push((1, 0));
    }
}

fn base(n: usize) -> Net {
    let src = format!("import std.systems\nnetwork n for Integrator {{ neurons = {n} }}");
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "t.rnn", &src);
    methods::build(&a.program, 0).expect("builds").net
}

#[test]
fn a_linear_network_has_its_eigenvalues() {
    let n = 6;
    let mut net = base(n);
    net.phi = Phi::Linear;
    net.alpha = vec![1.0; n];
    net.b_rec = vec![0.0; n];
    let lambdas = [1.05, -0.9, 0.6, 0.5, 0.3, 0.1];
    // A similarity transform of the diagonal, so the eigenvectors are not the axes.
    let p = Mat::<f64>::from_fn(n, n, |i, j| {
        if i == j {
            1.0
        } else {
            0.1 * ((i + 2 * j) % 3) as f64
        }
    });
    let d = Mat::<f64>::from_fn(n, n, |i, j| if i == j { lambdas[i] } else { 0.0 });
    let pinv = p.partial_piv_lu().inverse();
    net.w_rec = Recurrent::Dense(&(&p * &d) * &pinv);
    let x0 = vec![1.0; n];
    let progress = Record::default();
    let exps = spectrum(
        &net,
        &x0,
        400,
        50,
        3,
        &|_, u| u.iter_mut().for_each(|v| *v = 0.0),
        &progress,
    );
    // Progress: one analysis of 400 steps, reported in order, then ended.
    let log = progress.0.borrow();
    assert_eq!(log.first().unwrap(), &(0, 400));
    assert_eq!(log.last().unwrap(), &(1, 0));
    assert!(log[1..log.len() - 1]
        .windows(2)
        .all(|w| w[0].0 == 2 && w[0].1 < w[1].1));
    for (k, want) in [1.05f64, 0.9, 0.6].iter().enumerate() {
        let want = want.ln() / net.dt;
        assert!(
            (exps[k] - want).abs() <= 0.01 * want.abs(),
            "{k}: {} vs {want}",
            exps[k]
        );
    }
}

#[test]
fn the_spectrum_sums_to_the_mean_log_determinant() {
    let n = 12;
    let mut net = base(n);
    // A random-ish chaotic tanh network with per-neuron leaks.
    let mut s: u64 = 0x2545F4914F6CDD1D;
    let mut rnd = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let w = Mat::<f64>::from_fn(n, n, |_, _| 3.0 * rnd());
    net.w_rec = Recurrent::Dense(w.clone());
    net.alpha = (0..n).map(|i| 0.2 + 0.05 * i as f64).collect();
    net.b_rec = (0..n).map(|_| 0.2 * rnd()).collect();
    let x0: Vec<f64> = (0..n).map(|_| rnd()).collect();
    let (steps, skip) = (4000, 400);
    let exps = spectrum(
        &net,
        &x0,
        steps,
        skip,
        n,
        &|_, u| u.iter_mut().for_each(|v| *v = 0.0),
        &rnnc::progress::Silent,
    );
    // Mean log|det J| over the same steps.
    let mut x = x0.clone();
    let mut sum = 0.0;
    for t in 0..steps {
        let p: Vec<f64> = x.iter().map(|v| v.tanh()).collect();
        if t >= skip {
            let j = Mat::<f64>::from_fn(n, n, |r, c| {
                let a = net.alpha[r];
                let diag = if r == c { 1.0 - a } else { 0.0 };
                diag + a * w[(r, c)] * (1.0 - p[c] * p[c])
            });
            sum += j.determinant().abs().ln();
        }
        x = (0..n)
            .map(|r| {
                let rec: f64 = (0..n).map(|c| w[(r, c)] * p[c]).sum::<f64>() + net.b_rec[r];
                x[r] + net.alpha[r] * (rec - x[r])
            })
            .collect();
    }
    let mean = sum / (steps - skip) as f64;
    let total: f64 = exps.iter().sum::<f64>() * net.dt;
    assert!(
        (total - mean).abs() <= 0.01 * mean.abs(),
        "{total} vs {mean}"
    );
    assert!(
        exps.windows(2).all(|w| w[0] >= w[1] - 1e-9),
        "ordered: {exps:?}"
    );
}
