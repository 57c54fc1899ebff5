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
