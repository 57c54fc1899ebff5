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

/// The `data` of the line measuring `fixed_points`: every point found, as numbers.
fn points(p: &Program, net: &Net) -> Vec<serde_json::Value> {
    let report = check::run(p, &p.checks[0], net);
    let line = &report.lines[0];
    assert!(line.error.is_none(), "{line:?}");
    line.data.as_ref().expect("fixed_points reports its points")["fixed_points"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_double_well_reports_where_its_points_are_and_their_rates() {
    // dm/dt = 10 (m - m^3): roots -1, 0, 1; f'(0) = 10 per s, f'(+-1) = -20 per s. The exact
    // mapping makes the network's one-step map exp(f' dt) along the latent direction, so the
    // rates ln(lambda) / dt are the system's own (the leak's -1/tau = -10 per s beside them).
    let p = program(LATCH);
    let built = methods::build(&p, 0).unwrap().net;
    let pts = points(&p, &built);
    assert_eq!(pts.len(), 3, "{pts:?}");
    let mut found: Vec<(f64, bool, Vec<f64>)> = pts
        .iter()
        .map(|q| {
            assert_eq!(q["in_domain"], true);
            let rates = q["rates_per_s"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r[0].as_f64().unwrap())
                .collect();
            (
                q["state"]["m"].as_f64().unwrap(),
                q["stable"] == true,
                rates,
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    for ((m, stable, rates), (want, want_stable, want_rate)) in
        found
            .iter()
            .zip([(-1.0, true, -20.0), (0.0, false, 10.0), (1.0, true, -20.0)])
    {
        assert!((m - want).abs() < 0.01, "{m} vs {want}");
        assert_eq!(*stable, want_stable, "{m}");
        assert!(
            rates
                .iter()
                .any(|r| (r - want_rate).abs() < 0.05 * want_rate.abs()),
            "{m}: {rates:?} has no rate near {want_rate}"
        );
    }
    // The text names the state and the rates.
    let line = &check::run(&p, &p.checks[0], &built).lines[0];
    let detail = line.detail.as_deref().unwrap();
    assert!(detail.contains("3 in the domain (2 stable)"), "{detail}");
    assert!(
        detail.contains("m = 0.9997: stable, rates -10.000, -20."),
        "{detail}"
    );
}

#[test]
fn a_wrong_count_fails_next_to_the_right_one() {
    let src = LATCH.replace(
        "expect stable_fixed_points == 2",
        "expect stable_fixed_points == 3\n expect fixed_points(domain = all) >= 3",
    );
    let p = program(&src);
    let built = methods::build(&p, 0).unwrap().net;
    let report = check::run(&p, &p.checks[0], &built);
    let verdicts: Vec<Option<bool>> = report.lines.iter().map(|l| l.pass).collect();
    assert_eq!(
        verdicts,
        [Some(true), Some(false), Some(true)],
        "{report:?}"
    );
    // The failing line says where the points are.
    assert!(report.lines[1]
        .detail
        .as_deref()
        .unwrap()
        .contains("m = -0.9998"));
}

/// A 3-bit flip-flop: three bistable units, each written by its own input and read by its
/// own output. 27 roots, 8 of them stable (one per memory).
fn flip_flop3() -> Net {
    let mut net = units(Form::Current, 3, 2.0);
    net.w_in = Mat::from_fn(3, 3, |i, j| if i == j { 10.0 } else { 0.0 });
    net.w_out = Mat::from_fn(3, 3, |i, j| f64::from(u8::from(i == j)));
    net.b_out = vec![0.0; 3];
    net.meta = Meta {
        inputs: vec!["p1".into(), "p2".into(), "p3".into()],
        outputs: vec!["y1".into(), "y2".into(), "y3".into()],
        ..Meta::default()
    };
    net
}

const FLIP_FLOP3: &str = "task FF3 {
    input p1, p2, p3
    output y1, y2, y3
    vary a in [-1, 1]
    vary b in [-1, 1]
    vary c in [-1, 1]
    REPEATS
    trial {
        period pulse 50 ms { p1 = a; p2 = b; p3 = c }
        period hold 300 ms { expect y1 = a within 0.5; expect y2 = b within 0.5; expect y3 = c within 0.5 }
    }
}
network ff for FF3 { neurons = 3\n tau = 10 ms }
check ff {
    expect stable_fixed_points == 8
    expect fixed_points >= 8
    expect accuracy(FF3) == 100%
}
";

#[test]
fn a_flip_flop_shows_its_eight_memories_however_often_its_trials_repeat() {
    let net = flip_flop3();
    let mut counts = Vec::new();
    for repeats in ["", "trials 16"] {
        let p = program(&FLIP_FLOP3.replace("REPEATS", repeats));
        let report = check::run(&p, &p.checks[0], &net);
        let got: Vec<(Option<bool>, Option<String>)> = report
            .lines
            .iter()
            .map(|l| (l.pass, l.value.clone()))
            .collect();
        assert!(
            report.lines.iter().all(|l| l.pass == Some(true)),
            "`{repeats}`: {got:?}"
        );
        counts.push(got[1].1.clone());
    }
    assert_eq!(counts[0], counts[1]);
}

const LORENZ: &str = "import std.systems
network l for Lorenz { method = nef\n neurons = NEURONS\n neuron = tanh\n tau = 100 ms\n dt = 1 ms }
check l {
    expect fixed_points == 3
    expect stable_fixed_points == 0
    expect fixed_points(domain = all) == ALL
    expect stable_fixed_points(domain = all) == STABLE
}
";

fn lorenz(
    neurons: usize,
    all: usize,
    stable: usize,
) -> (Vec<Option<bool>>, Vec<serde_json::Value>) {
    let src = LORENZ
        .replace("NEURONS", &neurons.to_string())
        .replace("ALL", &all.to_string())
        .replace("STABLE", &stable.to_string());
    let p = program(&src);
    let net = methods::build(&p, 0).unwrap().net;
    let report = check::run(&p, &p.checks[0], &net);
    let pts = report.lines[0].data.as_ref().unwrap()["fixed_points"]
        .as_array()
        .unwrap()
        .clone();
    (report.lines.iter().map(|l| l.pass).collect(), pts)
}

#[test]
fn lorenz_has_its_three_saddles_and_a_small_network_spurious_points_outside_its_domain() {
    // Lorenz (10, 28, 8/3): the origin (rates 11.83, -2.67, -22.83 per s) and
    // C+- = (+-8.485, +-8.485, 27) (0.094 +- 10.19i, -13.85), none stable.
    let (verdicts, pts) = lorenz(2000, 3, 0);
    assert_eq!(verdicts, [Some(true); 4], "{pts:?}");
    let c = (72.0f64).sqrt();
    for want in [[0.0, 0.0, 0.0], [c, c, 27.0], [-c, -c, 27.0]] {
        let q = pts
            .iter()
            .find(|q| {
                let s = &q["state"];
                ["x", "y", "z"]
                    .iter()
                    .zip(want)
                    .all(|(n, w)| (s[n].as_f64().unwrap() - w).abs() < 0.1)
            })
            .unwrap_or_else(|| panic!("no point within 0.1 of {want:?}: {pts:?}"));
        let lead = &q["rates_per_s"][0];
        let (re, im) = (lead[0].as_f64().unwrap(), lead[1].as_f64().unwrap());
        if want[2] == 0.0 {
            assert!((re - 11.83).abs() < 0.2 && im == 0.0, "{q}");
        } else {
            assert!(
                (re - 0.094).abs() < 0.05 && (im.abs() - 10.19).abs() < 0.1,
                "{q}"
            );
        }
    }
    // 150 neurons: the same three in the domain, and two more far above it (z > 120, the
    // domain ends at z = 65), one of them stable: a spurious attractor of the network that
    // the counts in the domain leave out and `domain = all` shows.
    let (verdicts, pts) = lorenz(150, 5, 1);
    assert_eq!(verdicts, [Some(true); 4], "{pts:?}");
    let outside: Vec<&serde_json::Value> = pts.iter().filter(|q| q["in_domain"] == false).collect();
    assert_eq!(outside.len(), 2);
    assert!(outside
        .iter()
        .all(|q| q["state"]["z"].as_f64().unwrap() > 120.0));
}
