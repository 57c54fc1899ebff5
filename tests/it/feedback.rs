//! Networks whose loop is closed on their own readout (FORMAT.md `W_fb`): opening the loop,
//! the weight file, and `sync_error` (CHECKS.md).

use faer::Mat;
use rnnc::check;
use rnnc::driver;
use rnnc::methods;
use rnnc::net::{Feedback, Form, Net, Phi, Recurrent};
use rnnc::rng::Rng;
use rnnc::sema::model::Program;
use rnnc::source::{FsLoader, SourceDb};

const N: usize = 100;

/// An oscillator program, and a rate-form tanh reservoir `A` of gain `g` whose readout rows
/// q[0], q[1] are fed back through `W_fb` (the readout itself is the NEF build's, irrelevant
/// here: only `A` decides whether the driven reservoir forgets its start).
fn setup(g: f64) -> (Program, Net) {
    let src = format!(
        "import std.systems\nnetwork n for Oscillator(freq = 1 Hz) {{ neurons = {N}\n tau = 10 ms }}\n\
         check n {{\n simulate 3 s from q = [1, 0]\n expect sync_error < 0.01\n}}\n"
    );
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "t.rnn", &src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let mut net = methods::build(&a.program, 0).expect("builds").net;
    let mut rng = Rng::new(1, "test");
    let a_mat = Mat::from_fn(N, N, |_, _| g * rng.normal() / (N as f64).sqrt());
    let w_fb = Mat::from_fn(N, 2, |_, _| rng.range(-0.5, 0.5));
    let b_a: Vec<f64> = (0..N).map(|_| rng.range(-0.2, 0.2)).collect();
    let rows = Mat::from_fn(2, N, |r, j| net.w_out[(r, j)]);
    net.form = Form::Rate;
    net.phi = Phi::Tanh;
    net.w_rec = Recurrent::Dense(&a_mat + &w_fb * &rows);
    net.b_rec = (0..N)
        .map(|i| b_a[i] + w_fb[(i, 0)] * net.b_out[0] + w_fb[(i, 1)] * net.b_out[1])
        .collect();
    net.enc = None;
    net.init_state = vec![0.0; N];
    net.feedback = Some(Feedback {
        w_fb,
        rows: vec![0, 1],
    });
    net.validate().unwrap();
    (a.program, net)
}

#[test]
fn the_open_loop_fed_its_own_readout_is_the_closed_loop() {
    let (_, net) = setup(0.9);
    let open = net.open_loop().unwrap();
    let k = net.n_inputs();
    assert_eq!(open.n_inputs(), k + 2);
    assert_eq!(open.meta.inputs[k..], ["fb:q[0]", "fb:q[1]"]);
    let mut closed = Vec::new();
    let mut fed = Vec::new();
    let x0: Vec<f64> = (0..N).map(|i| 0.1 * (i as f64).sin()).collect();
    rnnc::sim::run(&net, &x0, 300, &mut |_, _| {}, &mut |s| {
        closed.extend_from_slice(s.x);
        fed.push([s.y[0], s.y[1]]);
    })
    .unwrap();
    let mut opened = Vec::new();
    rnnc::sim::run(
        &open,
        &x0,
        300,
        &mut |t, u| {
            u.fill(0.0);
            u[k..].copy_from_slice(&fed[t]);
        },
        &mut |s| opened.extend_from_slice(s.x),
    )
    .unwrap();
    let err = closed
        .iter()
        .zip(&opened)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-12, "{err}");
}

#[test]
fn w_fb_travels_in_the_weight_file() {
    let (_, mut net) = setup(0.9);
    net.feedback.as_mut().unwrap().rows = vec![1, 0];
    let mut buf = std::io::Cursor::new(Vec::new());
    rnnc::npz::write(&mut buf, &net, &Default::default()).unwrap();
    buf.set_position(0);
    let back = rnnc::npz::read(&mut buf, &Default::default()).unwrap();
    let (a, b) = (net.feedback.unwrap(), back.feedback.unwrap());
    assert_eq!(b.rows, [1, 0]);
    assert_eq!(a.w_fb, b.w_fb);
}

#[test]
fn sync_error_separates_echo_states_from_chaos() {
    // Gain 0.5: the driven reservoir forgets its start (echo state property): after the
    // washout of 10 tau = 100 steps the two responses differ by 4e-4 of the response's rms
    // (the early part of the 2.9 s that remain). Gain 3: chaotic, two starts never meet.
    let measured = |g: f64| {
        let (p, net) = setup(g);
        let line = check::run(&p, &p.checks[0], &net).lines.remove(0);
        assert!(line.error.is_none(), "{line:?}");
        let v: f64 = line.value.unwrap().parse().unwrap();
        (v, line.pass.unwrap())
    };
    let (v, pass) = measured(0.5);
    assert!(v < 1e-3 && pass, "{v}");
    let (v, pass) = measured(3.0);
    assert!(v > 0.3 && !pass, "{v}");
}

#[test]
fn sync_error_needs_w_fb() {
    let (p, mut net) = setup(0.5);
    net.feedback = None;
    let line = check::run(&p, &p.checks[0], &net).lines.remove(0);
    assert!(line.error.unwrap().contains("`W_fb`"));
}

/// A driven network without `W_enc` starts by teacher forcing (CHECKS.md, Simulation): a
/// two-unit linear rate network whose closed loop is the oscillator's exact one-step map
/// (`A = 0`, `W_fb` = the rotation by `2 pi f dt`, `W_out = I`) follows the exact solution
/// from any `from` state once forced onto it, and errs 100 % from its init_state without.
#[test]
fn teacher_forcing_puts_a_driven_network_on_the_trajectory() {
    let src =
        "import std.systems\nnetwork n for Oscillator(freq = 1 Hz) { neurons = 2\n tau = 1 ms }\n\
               check n {\n simulate 2 s from q = [0.5, 0.3]\n expect nrmse < 0.0001%\n}\n";
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "t.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let p = a.program;
    let built = methods::build(&p, 0).expect("builds").net;
    let th = 2.0 * std::f64::consts::PI * 1e-3;
    let rot = Mat::from_fn(2, 2, |i, j| match (i, j) {
        (0, 0) | (1, 1) => th.cos(),
        (0, 1) => -th.sin(),
        _ => th.sin(),
    });
    let mut net = built.clone();
    net.form = Form::Rate;
    net.phi = Phi::Linear;
    net.w_rec = Recurrent::Dense(rot.clone());
    net.w_in = Mat::zeros(2, 2);
    net.b_rec = vec![0.0; 2];
    net.w_out = Mat::from_fn(net.n_out(), 2, |i, j| f64::from(u8::from(i == j)));
    net.b_out = vec![0.0; net.n_out()];
    net.alpha = vec![1.0; 2];
    net.init_state = vec![0.0; 2];
    net.enc = None;
    net.feedback = Some(Feedback {
        w_fb: rot,
        rows: vec![0, 1],
    });
    net.validate().unwrap();
    let report = check::run(&p, &p.checks[0], &net);
    assert_eq!(report.lines[0].pass, Some(true), "{:?}", report.lines);
    // Without W_fb there is no way onto the trajectory: an error, not a silent wrong start.
    let mut bare = net.clone();
    bare.feedback = None;
    let report = check::run(&p, &p.checks[0], &bare);
    let e = report.lines[0].error.as_deref().unwrap();
    assert!(e.contains("neither `W_enc` nor `W_fb`"), "{e}");
}

/// A driven reservoir's closed loop is simulated as its sparse open loop plus the rank-d
/// feedback (`sim::Product`, recovered from `W_fb`); the same `W_rec` without `W_fb` runs
/// the dense product. Trajectories and the Lyapunov exponents along them agree.
#[test]
fn the_split_closed_loop_equals_the_dense_one() {
    let src = "import std.systems\nnetwork esn for Lorenz {\n\
        method = reservoir(spectral_radius = 0.8, bias = 2.0, density = 0.05, ridge = 1e-8, train = 40 s, starts = 1)\n\
        neurons = 300\n tau = 66.6667 ms\n dt = 20 ms\n}\n";
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "t.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let split = methods::build(&a.program, 0).unwrap().net;
    assert!(rnnc::sim::Product::new(&split).is_sparse());
    let mut dense = split.clone();
    dense.feedback = None;
    assert!(!rnnc::sim::Product::new(&dense).is_sparse());
    let run = |net: &Net| {
        let mut xs = Vec::new();
        rnnc::sim::run(net, &net.init_state, 100, &mut |_, _| {}, &mut |s| {
            xs.extend_from_slice(s.y)
        })
        .unwrap();
        xs
    };
    let (ys, yd) = (run(&split), run(&dense));
    let worst = ys
        .iter()
        .zip(&yd)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-8, "readouts differ by {worst}");
    let spectrum = |net: &Net| {
        rnnc::check::lyapunov::spectrum(
            net,
            &net.init_state,
            400,
            50,
            3,
            &|_, u: &mut [f64]| u.fill(0.0),
            &rnnc::progress::Silent,
        )
    };
    let (ls, ld) = (spectrum(&split), spectrum(&dense));
    for (a, b) in ls.iter().zip(&ld) {
        assert!((a - b).abs() < 1e-6, "{ls:?} vs {ld:?}");
    }
}
