//! `rnnc check`: expectations pass on the networks rnnc builds, and fail, with exit status 1,
//! on weight files that do not implement the program.

use rnnc::net::Recurrent;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) fn rnnc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rnnc"))
        .args(args)
        .output()
        .expect("runs rnnc");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

pub(crate) fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rnnc-check-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn the_integrator_example_passes() {
    let (code, out, err) = rnnc(&["check", &example("integrator.rnn")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("pass   expect nrmse < 2%"), "{out}");
    assert!(out.contains("2 expectations: 2 passed, 0 failed"), "{out}");
    let (code, out, _) = rnnc(&["check", &example("integrator.rnn"), "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["passed"], 2);
    let nrmse = &v["reports"][0]["expectations"][0];
    assert_eq!(nrmse["expect"], "nrmse < 2%");
    assert_eq!(nrmse["pass"], true);
}

/// Builds `network` of `file`, changes its weights with `edit`, and checks the edited file.
fn check_edited(file: &str, network: &str, edit: impl Fn(&mut rnnc::net::Net)) -> (i32, String) {
    let dir = tmp(network);
    let (code, _, err) = rnnc(&[
        "build",
        file,
        "--network",
        network,
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let path = dir.join(format!("{network}.npz"));
    let mut net =
        rnnc::npz::read(std::fs::File::open(&path).unwrap(), &Default::default()).unwrap();
    edit(&mut net);
    let edited = dir.join("edited.npz");
    rnnc::npz::write(
        std::fs::File::create(&edited).unwrap(),
        &net,
        &rnnc::npz::WriteOpts::default(),
    )
    .unwrap();
    let (code, out, err) = rnnc(&[
        "check",
        file,
        "--network",
        network,
        "--weights",
        edited.to_str().unwrap(),
    ]);
    (code, out + &err)
}

#[test]
fn perturbed_weights_fail_nrmse() {
    // 3 % more recurrent gain: the line attractor leaks upward.
    let (code, out) = check_edited(&example("integrator.rnn"), "integ", |net| {
        if let Recurrent::Factored { left, .. } = &mut net.w_rec {
            for i in 0..left.nrows() {
                left[(i, 0)] *= 1.03;
            }
        }
    });
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL   expect nrmse < 2%"), "{out}");
    // The unedited file passes the same checks.
    let (code, out) = check_edited(&example("integrator.rnn"), "integ", |_| {});
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_column_of_mixed_signs_fails_dale() {
    let src = tmp("dale-src").join("dale.rnn");
    std::fs::write(
        &src,
        "import std.systems\nnetwork d for Integrator { neurons = 120\n constraints { dale(excitatory = 80%) } }\ncheck d {\n expect dale\n expect density <= 25%\n}\n",
    )
    .unwrap();
    let file = src.to_str().unwrap();
    let (code, out) = check_edited(file, "d", |_| {});
    // Both hold: dale alone keeps the N/4 = 30 best of 120 partners per row.
    assert!(out.contains("pass   expect dale"), "{out}");
    assert!(out.contains("density <= 25%"), "{out}");
    assert_eq!(code, 0, "{out}");
    let (code, out) = check_edited(file, "d", |net| {
        let mut w = net.w_rec.dense();
        // An excitatory column gets one inhibitory synapse.
        let (i, j) = (0..w.ncols())
            .flat_map(|j| (0..w.nrows()).map(move |i| (i, j)))
            .find(|&(i, j)| w[(i, j)] > 0.0)
            .expect("a positive weight");
        w[(i, j)] = -w[(i, j)];
        net.w_rec = Recurrent::Dense(w);
    });
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL   expect dale"), "{out}");
}

#[test]
fn unimplemented_metrics_are_errors_not_passes() {
    let src = tmp("unimpl").join("u.rnn");
    std::fs::write(
        &src,
        "import std.systems\nnetwork i for Integrator { neurons = 50 }\ncheck i {\n simulate 1 s\n expect density <= 100%\n expect solved\n}\n",
    )
    .unwrap();
    let (code, out, err) = rnnc(&["check", src.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("error  expect solved"), "{out}");
    assert!(out.contains("pass   expect density <= 100%"), "{out}");
}

#[test]
fn a_double_well_has_two_stable_fixed_points_and_a_saddle() {
    // dm/dt = 10 (m - m^3): wells at -1 and 1, a saddle at 0.
    let src = tmp("well").join("well.rnn");
    std::fs::write(
        &src,
        "import std.systems\nnetwork w for Latch { neurons = 400 }\ncheck w {\n simulate 1 s from m = 0.5\n expect fixed_points == 3\n expect stable_fixed_points == 2\n}\n",
    )
    .unwrap();
    let (code, out, err) = rnnc(&["check", src.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("pass   expect fixed_points == 3"), "{out}");
    // Where: the decoded stable points sit at the wells.
    let mut db = rnnc::source::SourceDb::new();
    let a = rnnc::driver::analyze_path(&mut db, &rnnc::source::FsLoader, &src).unwrap();
    let net = rnnc::methods::build(&a.program, 0).unwrap().net;
    let starts: Vec<Vec<f64>> = (0..40)
        .filter_map(|k| net.encode(&[-1.15 + 2.3 * k as f64 / 39.0]))
        .collect();
    let pts = rnnc::check::fixed_points::find(
        &net,
        &[0.0, 0.0],
        &starts,
        1,
        1.2e-3,
        1,
        &rnnc::progress::Silent,
    )
    .unwrap();
    let mut stable: Vec<f64> = pts.iter().filter(|p| p.stable).map(|p| p.z[0]).collect();
    stable.sort_by(f64::total_cmp);
    assert_eq!(stable.len(), 2, "{pts:?}");
    assert!(
        (stable[0] + 1.0).abs() < 0.01 && (stable[1] - 1.0).abs() < 0.01,
        "{stable:?}"
    );
    let saddle: Vec<f64> = pts.iter().filter(|p| !p.stable).map(|p| p.z[0]).collect();
    assert!(saddle.len() == 1 && saddle[0].abs() < 0.01, "{saddle:?}");
}

#[test]
fn timescale_gradient_follows_the_leaks_in_the_file() {
    let src = tmp("ts-src").join("ts.rnn");
    std::fs::write(
        &src,
        "import std.systems\nnetwork h for Integrator { neurons = 100\n constraints {\n space(grid = [10, 10])\n timescales(from = 20 ms, to = 200 ms, along = space.x)\n }\n}\ncheck h {\n expect timescale_gradient > 0.5\n}\n",
    )
    .unwrap();
    let file = src.to_str().unwrap();
    let (code, out) = check_edited(file, "h", |_| {});
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("pass   expect timescale_gradient > 0.5"),
        "{out}"
    );
    // Reversed leaks (10 rows of 10: reversing the order mirrors x): the gradient turns
    // negative and the expectation fails.
    let (code, out) = check_edited(file, "h", |net| net.alpha.reverse());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL   expect timescale_gradient > 0.5"),
        "{out}"
    );
}

#[test]
fn mean_rate_and_lyapunov_of_a_line_attractor() {
    let src = tmp("mr").join("mr.rnn");
    std::fs::write(
        &src,
        "import std.systems\nnetwork i for Integrator { neurons = 200 }\ncheck i {\n simulate 1 s with u = pulse(100 ms, 100 ms)\n expect mean_rate > 0.1\n expect mean_rate < 0.9\n expect lyapunov_max < 0.1\n expect lyapunov_max > -0.1\n}\n",
    )
    .unwrap();
    // tanh rates are in (-1, 1) with most neurons well away from 0; a line attractor's
    // largest exponent is 0 (the neutral direction along the line).
    let (code, out, err) = rnnc(&["check", src.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn attractor_distance_separates_good_and_poor_lorenz_networks() {
    // The example's 2000 neurons pass its bound (measured 0.22); 60 neurons do not (0.95).
    let src = tmp("lz").join("lz.rnn");
    std::fs::write(
        &src,
        "import std.systems\nnetwork l for Lorenz { neurons = 60 }\ncheck l {\n simulate 30 s\n expect attractor_distance < 0.3\n}\n",
    )
    .unwrap();
    let (code, out, err) = rnnc(&["check", src.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("FAIL   expect attractor_distance < 0.3"),
        "{out}"
    );
    // Nengo's recipe (rate LIF, reg = 0.1, the continuous mapping) at 200 neurons collapses
    // onto one wing, and the line says so.
    std::fs::write(
        &src,
        "import std.systems\nnetwork l for Lorenz { neurons = 200\n neuron = lif\n method = nef(reg = 0.1, mapping = continuous) }\ncheck l {\n simulate 30 s\n expect attractor_distance < 0.3\n}\n",
    )
    .unwrap();
    let (code, out, err) = rnnc(&["check", src.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("FAIL   expect attractor_distance < 0.3             measured collapse"),
        "{out}"
    );
}

/// The Lyapunov half of the collapse rule: a network that spreads over the Lorenz domain as
/// widely as the attractor but runs on a limit cycle (built for another system) is a
/// collapse, whatever the bound, and the line says why.
#[test]
fn a_cycle_in_place_of_the_lorenz_attractor_is_a_collapse() {
    let src = "import std.systems\n\
        system Cycle {\n state x, y, z in radius 40 around [0, 0, 25]\n init x = 12, y = 0, z = 25\n\
         let r2 = (x^2 + y^2) / 144\n dx/dt = 2 * (1 - r2) * x - 6 * y\n dy/dt = 2 * (1 - r2) * y + 6 * x\n\
         dz/dt = 6 * (25 + x - z)\n}\n\
        network l for Lorenz { neurons = 1000 }\n\
        network c for Cycle { neurons = 1000 }\n\
        check l {\n simulate 30 s\n expect attractor_distance < 2\n}\n";
    let mut db = rnnc::source::SourceDb::new();
    let a = rnnc::driver::analyze_text(&mut db, &rnnc::source::FsLoader, "t.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let cycle = rnnc::methods::build(&a.program, 1).unwrap().net;
    let line = rnnc::check::run(&a.program, &a.program.checks[0], &cycle)
        .lines
        .remove(0);
    assert_eq!(line.pass, Some(false), "{line:?}");
    assert!(
        line.value.as_deref().unwrap().starts_with("collapse"),
        "{line:?}"
    );
    let why = line.detail.unwrap();
    assert!(why.contains("lyapunov_max"), "{why}");
    eprintln!("{why}");
    // The Lorenz network itself passes the same line.
    let lorenz = rnnc::methods::build(&a.program, 0).unwrap().net;
    let line = rnnc::check::run(&a.program, &a.program.checks[0], &lorenz)
        .lines
        .remove(0);
    assert_eq!(line.pass, Some(true), "{line:?}");
}

/// A weight file that does not fit the program's network is an invalid input (exit 2) whose
/// message names the array and both shapes, for a system and for a task.
#[test]
fn weights_of_the_wrong_shape_name_the_array_and_both_shapes() {
    let dir = tmp("shapes");
    let src = dir.join("s.rnn");
    std::fs::write(
        &src,
        "import std.systems\nimport std.tasks\nnetwork i for Integrator { neurons = 50 }\n\
         network o for Oscillator(freq = 1 Hz) { neurons = 50 }\n\
         network f for FlipFlop { neurons = 50 }\n\
         check o {\n simulate 1 s\n expect nrmse < 1%\n}\ncheck f {\n expect accuracy(FlipFlop) == 100%\n}\n",
    )
    .unwrap();
    let (code, _, err) = rnnc(&[
        "build",
        src.to_str().unwrap(),
        "--network",
        "i",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let file = dir.join("i.npz");
    let (code, out, err) = rnnc(&[
        "check",
        src.to_str().unwrap(),
        "--network",
        "o",
        "--weights",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("rnnc::weights::mismatch"), "{err}");
    assert!(
        flat(&err).contains("array `W_out` has shape (1, 50), expected (2, 50) or more rows: one per latent state of `Oscillator`"),
        "{err}"
    );
    let (code, out, err) = rnnc(&[
        "check",
        src.to_str().unwrap(),
        "--network",
        "f",
        "--weights",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        flat(&err).contains(
            "array `W_in` has shape (50, 1), expected (50, 2): one column per input of `FlipFlop`"
        ),
        "{err}"
    );
}

/// A rendered diagnostic's text with miette's line wrapping undone.
fn flat(rendered: &str) -> String {
    rendered
        .lines()
        .map(|l| l.trim_start().trim_start_matches(['│', '×']).trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs check block 0 of `src` on network 0 as built (then changed by `prepare`) and as
/// `violate` changes that: per line its text and verdict with the value on each.
fn both(
    src: &str,
    prepare: impl Fn(&mut rnnc::net::Net),
    violate: impl Fn(&mut rnnc::net::Net),
) -> Vec<(String, String, String)> {
    let mut db = rnnc::source::SourceDb::new();
    let a = rnnc::driver::analyze_text(&mut db, &rnnc::source::FsLoader, "t.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let mut built = rnnc::methods::build(&a.program, 0).unwrap().net;
    prepare(&mut built);
    let mut edited = built.clone();
    violate(&mut edited);
    let verdict = |l: &rnnc::check::Line| match l.pass {
        Some(true) => format!("pass {}", l.value.as_deref().unwrap_or("")),
        Some(false) => format!("FAIL {}", l.value.as_deref().unwrap_or("")),
        None => format!("error {:?}", l.error),
    };
    let check = &a.program.checks[0];
    let a_lines = rnnc::check::run(&a.program, check, &built).lines;
    let b_lines = rnnc::check::run(&a.program, check, &edited).lines;
    a_lines
        .iter()
        .zip(&b_lines)
        .map(|(x, y)| (x.text.clone(), verdict(x), verdict(y)))
        .collect()
}

/// Every line passes on the first network and fails on the second.
fn assert_separates(lines: &[(String, String, String)]) {
    for (text, good, bad) in lines {
        assert!(
            good.starts_with("pass") && bad.starts_with("FAIL"),
            "{text}: {good} / {bad}\n{lines:#?}"
        );
    }
}

/// Positions: every neuron at the origin, or spread 100 apart along x.
fn positions(net: &mut rnnc::net::Net, spacing: f64) {
    let n = net.n();
    net.positions = Some(faer::Mat::from_fn(n, 3, |i, j| {
        if j == 0 {
            spacing * i as f64
        } else {
            0.0
        }
    }));
}

/// The audit of issue 13: each metric fails on a network that violates it, next to one on
/// which it passes. Elsewhere: `nrmse`, `dale`, `attractor_distance`, `timescale_gradient`
/// above, `sync_error` in feedback.rs, `accuracy` in task.rs and tests/cli, `nrmse(q[1])` in
/// tests/cli/check_nrmse_components.rnn.
#[test]
fn each_metric_of_a_run_fails_on_a_leaky_integrator_and_passes_on_the_built_one() {
    // The integrator ramps to 0.2 and holds it for 1 s without input. With the recurrent
    // gain at 0.9 the line attractor leaks with a time constant of about 1 s: it drifts,
    // diverges from the exact solution, its one-step map is wrong by about (1 - 0.9) / tau
    // = 1 per second, and its largest exponent is about -1 per second.
    let src = "import std.systems\nnetwork i for Integrator { neurons = 100 }\ncheck i {\n \
        simulate 1.5 s with u = pulse(100 ms, 400 ms)\n expect drift < 0.1\n \
        expect divergence_time > 1 s\n expect vector_field_error < 0.2\n \
        expect lyapunov_max > -0.3\n expect lyapunov(1) > -0.3\n}\n";
    let lines = both(
        src,
        |_| {},
        |net| {
            if let Recurrent::Factored { left, .. } = &mut net.w_rec {
                for i in 0..left.nrows() {
                    left[(i, 0)] *= 0.9;
                }
            }
        },
    );
    eprintln!("{lines:#?}");
    assert_separates(&lines);
}

#[test]
fn each_metric_of_the_weights_fails_on_a_network_that_violates_it() {
    // Built: dense (density 100 %, spectral radius 1.26), positions at one point (no wiring
    // cost). Violating: four in five weights zero and ten times larger (a sparse, strong
    // matrix: density 20 %, spectral radius 2.93), units saturated
    // by a bias of 20 (mean rate about 1), neurons 100 apart.
    let src = "import std.systems\nnetwork i for Integrator { neurons = 60 }\ncheck i {\n \
        simulate 0.5 s with u = 0.5\n expect mean_rate < 0.9\n expect density > 50%\n \
        expect spectral_radius < 2\n expect wiring_cost < 1\n}\n";
    let lines = both(
        src,
        |net| positions(net, 0.0),
        |net| {
            let mut w = net.w_rec.dense();
            for i in 0..w.nrows() {
                for j in 0..w.ncols() {
                    w[(i, j)] *= if (i + 2 * j) % 5 == 0 { 10.0 } else { 0.0 };
                }
            }
            net.w_rec = Recurrent::Dense(w);
            net.b_rec.iter_mut().for_each(|b| *b += 20.0);
            positions(net, 100.0);
        },
    );
    eprintln!("{lines:#?}");
    assert_separates(&lines);
}

#[test]
fn fixed_points_fail_on_a_latch_whose_wells_are_gone() {
    // The latch's double well (3 fixed points, 2 stable); with 0.3 times the recurrent gain the
    // wells merge into one stable point at 0 (with tau = 100 ms the weights map z to
    // 2 z - z^3, and 0.3 (2 z - z^3) = z only at 0).
    let src = "import std.systems\nnetwork w for Latch { neurons = 200 }\ncheck w {\n \
        simulate 1 s from m = 0.5\n expect fixed_points == 3\n expect stable_fixed_points == 2\n}\n";
    let lines = both(
        src,
        |_| {},
        |net| {
            let weak = net.w_rec.dense() * faer::Scale(0.3);
            net.w_rec = Recurrent::Dense(weak);
        },
    );
    eprintln!("{lines:#?}");
    assert_separates(&lines);
}

/// A 60-unit matrix whose strongest 10 % of weights are `edge(i, j)`, the rest small and
/// distinct (no ties at the threshold).
fn graph(n: usize, edge: impl Fn(usize, usize) -> bool) -> faer::Mat<f64> {
    faer::Mat::from_fn(n, n, |i, j| {
        let noise = 1e-3 * (((i * 7919 + j * 104729) % 1000) as f64 / 1000.0);
        if i != j && edge(i, j) {
            1.0 + noise
        } else {
            noise
        }
    })
}

#[test]
fn graph_metrics_fail_on_a_random_graph_and_pass_on_two_clustered_modules() {
    // Two blocks of 30 units, each a ring lattice (each unit linked to its 3 neighbours on
    // either side): modular, clustered, with long paths. Against it, a random graph with
    // about as many edges.
    let src = "import std.systems\nnetwork i for Integrator { neurons = 60 }\ncheck i {\n \
        expect modularity > 0.4\n expect small_worldness > 1.5\n}\n";
    let n = 60;
    let ring = |i: usize, j: usize| {
        let d = (i % 30).abs_diff(j % 30);
        i / 30 == j / 30 && (d <= 3 || d >= 27)
    };
    let random = |i: usize, j: usize| (i * 31 + j * 17 + i * j).is_multiple_of(10);
    let lines = both(
        src,
        |net| net.w_rec = Recurrent::Dense(graph(n, ring)),
        |net| net.w_rec = Recurrent::Dense(graph(n, random)),
    );
    eprintln!("{lines:#?}");
    assert_separates(&lines);
}

#[test]
fn memory_capacity_fails_without_input_and_passes_on_a_delay_line() {
    // A linear delay line (alpha = 1, each unit copies the previous one, the input enters
    // unit 0) recalls its input for as many steps as it has units; with W_in zero it recalls
    // nothing.
    let src = "import std.systems\nnetwork i for Integrator { neurons = 30 }\ncheck i {\n \
        expect memory_capacity > 10\n}\n";
    let n = 30;
    let lines = both(
        src,
        |net| {
            net.w_rec =
                Recurrent::Dense(faer::Mat::from_fn(
                    n,
                    n,
                    |i, j| {
                        if j + 1 == i {
                            1.0
                        } else {
                            0.0
                        }
                    },
                ));
            net.phi = rnnc::net::Phi::Linear;
            net.alpha = vec![1.0; n];
            net.b_rec = vec![0.0; n];
            net.w_in = faer::Mat::from_fn(n, 1, |i, _| if i == 0 { 1.0 } else { 0.0 });
        },
        |net| net.w_in = faer::Mat::zeros(n, 1),
    );
    eprintln!("{lines:#?}");
    assert_separates(&lines);
}
