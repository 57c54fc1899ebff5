//! Fixed points of any network (CHECKS.md): full-weight, rate-form, per-neuron-leak and task
//! networks, whose roots and stability are known by construction.

use faer::Mat;
use rnnc::check;
use rnnc::driver;
use rnnc::methods;
use rnnc::net::{Form, Meta, Net, Phi, Recurrent};
use rnnc::rng::Rng;
use rnnc::sema::model::Program;
use rnnc::source::{FsLoader, SourceDb};

fn program(src: &str) -> Program {
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "t.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    a.program
}

/// The measured values of a check's expectations.
fn values(p: &Program, net: &Net) -> Vec<String> {
    check::run(p, &p.checks[0], net)
        .lines
        .into_iter()
        .map(|l| {
            assert!(l.error.is_none(), "{l:?}");
            l.value.unwrap()
        })
        .collect()
}

const LATCH: &str = "import std.systems\nnetwork w for Latch { neurons = 100 }\ncheck w {\n simulate 1 s from m = 0.5\n expect fixed_points == 3\n expect stable_fixed_points == 2\n}\n";

#[test]
fn the_double_well_as_full_weights_and_with_per_neuron_leaks() {
    let p = program(LATCH);
    let built = methods::build(&p, 0).unwrap().net;
    assert_eq!(values(&p, &built), ["3", "2"]);
    // The same network with its weights multiplied out: Newton in N dimensions.
    let mut dense = built.clone();
    dense.w_rec = Recurrent::Dense(built.w_rec.dense());
    assert_eq!(values(&p, &dense), ["3", "2"]);
    // Leaks do not move the roots of F, and with every alpha in (0, 1] they keep the wells
    // stable and the saddle unstable.
    let mut rng = Rng::new(1, "test");
    let mut leaky = built.clone();
    leaky.alpha = (0..leaky.n()).map(|_| rng.range(0.002, 0.05)).collect();
    assert_eq!(values(&p, &leaky), ["3", "2"]);
    // Without an encoder the starts come from the simulation's network states.
    let mut bare = dense;
    bare.enc = None;
    assert_eq!(values(&p, &bare), ["3", "2"]);
}

/// A task network: `units` tanh units in current or rate form, `W = w I`, no inputs used
/// after the trials start. Each unit is bistable for w > 1, so the network has 3^units roots
/// of which 2^units are stable.
fn units(form: Form, units: usize, w: f64) -> Net {
    Net {
        form,
        phi: Phi::Tanh,
        dt: 1e-3,
        w_rec: Recurrent::Dense(Mat::from_fn(
            units,
            units,
            |i, j| {
                if i == j {
                    w
                } else {
                    0.0
                }
            },
        )),
        w_in: Mat::from_fn(units, 2, |_, j| if j == 0 { 10.0 } else { -10.0 }),
        b_rec: vec![0.0; units],
        w_out: Mat::from_fn(1, units, |_, j| f64::from(u8::from(j == 0))),
        b_out: vec![0.0],
        enc: None,
        alpha: vec![0.1; units],
        init_state: vec![0.0; units],
        gain_input: None,
        dale_sign: None,
        positions: None,
        feedback: None,
        meta: Meta {
            inputs: vec!["set".into(), "reset".into()],
            outputs: vec!["y".into()],
            ..Meta::default()
        },
        engine: None,
    }
}

#[test]
fn bistable_units_in_both_forms() {
    let p = program(
        "import std.tasks\nnetwork ff for FlipFlop { neurons = 1\n tau = 10 ms }\ncheck ff {\n expect fixed_points == 3\n expect stable_fixed_points == 2\n}\n",
    );
    // One unit: x = 2 tanh(x) (current) or r = tanh(2 r) (rate): 0 and two stable roots.
    for form in [Form::Current, Form::Rate] {
        assert_eq!(values(&p, &units(form, 1, 2.0)), ["3", "2"], "{form:?}");
    }
    // w = 0.5: only the origin, stable.
    assert_eq!(values(&p, &units(Form::Rate, 1, 0.5)), ["1", "1"]);
}

#[test]
fn roots_are_found_on_the_full_residual_and_classified() {
    // Two bistable units, seen through one output row: roots are merged by what the
    // readout shows, so this is the search itself (merge on the whole state) at 3^2 roots.
    let net = units(Form::Current, 2, 2.0);
    let s = 1.915_f64;
    let starts: Vec<Vec<f64>> = [-s, 0.0, s]
        .iter()
        .flat_map(|&a| [-s, 0.0, s].map(|b| vec![a * 0.9, b * 0.9]))
        .collect();
    // Merge on both units: W_out reads unit 0 only, so give it a second row.
    let mut net2 = net.clone();
    net2.w_out = Mat::from_fn(2, 2, |i, j| f64::from(u8::from(i == j)));
    net2.b_out = vec![0.0; 2];
    let pts = check::fixed_points::find(
        &net2,
        &[0.0, 0.0],
        &starts,
        2,
        1e-3,
        1,
        &rnnc::progress::Silent,
    )
    .unwrap();
    assert_eq!(pts.len(), 9, "{pts:?}");
    assert_eq!(pts.iter().filter(|p| p.stable).count(), 4);
    for p in &pts {
        for &x in &p.x {
            assert!(x.abs() < 1e-9 || (x.abs() - 1.915008).abs() < 1e-5, "{x}");
        }
    }
}
