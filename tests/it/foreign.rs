//! Foreign weight files checked against programs (issue 13): rows bound by declaration,
//! measurements taken outside what the program specifies, and the convergence of a
//! finite-time Lyapunov estimate. Every file is written here, manifest-less (PsychRNN-like),
//! with the archive builders of `tests/it/npz/hostile.rs`, so the test knows every number in it.

use crate::npz::hostile::{archive, npy_f8, stored};

use crate::check::{rnnc, tmp};

/// A linear network (`alpha = 1`, identity encoder) whose step is exactly `w` (row-major,
/// n x n): its state after k steps is `w^k x0`. `w_out` has `rows` rows (row-major, n
/// columns), `k` input columns that `b_in` fills (row-major, n x k).
pub(crate) struct Linear {
    pub n: usize,
    pub w: Vec<f64>,
    pub w_out: Vec<f64>,
    pub rows: usize,
    pub w_in: Vec<f64>,
    pub k: usize,
    pub init: Vec<f64>,
}

impl Linear {
    pub fn bytes(&self) -> Vec<u8> {
        let n = self.n;
        let eye: Vec<f64> = (0..n * n)
            .map(|i| if i / n == i % n { 1.0 } else { 0.0 })
            .collect();
        archive(&[
            stored("W_rec.npy", npy_f8(&[n, n], &self.w)),
            stored("W_in.npy", npy_f8(&[n, self.k], &self.w_in)),
            stored("b_rec.npy", npy_f8(&[n], &vec![0.0; n])),
            stored("W_out.npy", npy_f8(&[self.rows, n], &self.w_out)),
            stored("W_enc.npy", npy_f8(&[n, n], &eye)),
            stored("b_enc.npy", npy_f8(&[n], &vec![0.0; n])),
            stored("alpha.npy", npy_f8(&[n], &vec![1.0; n])),
            stored("init_state.npy", npy_f8(&[n], &self.init)),
        ])
    }

    /// Writes the file and checks it against `src` (written beside it).
    pub fn check(&self, name: &str, src: &str, extra: &[&str]) -> (i32, String, String) {
        let dir = tmp(name);
        let prog = dir.join("p.rnn");
        std::fs::write(&prog, src).unwrap();
        let file = dir.join("w.npz");
        std::fs::write(&file, self.bytes()).unwrap();
        let mut args = vec![
            "check",
            prog.to_str().unwrap(),
            "--weights",
            file.to_str().unwrap(),
            "--dt",
            "1 ms",
            "--phi",
            "linear",
        ];
        args.extend_from_slice(extra);
        rnnc(&args)
    }
}

/// The exact one-step map of `dq/dt = [[0, -w], [w, 0]] q` at 1 ms, w = 2 pi: a rotation.
fn rotation(rows: usize) -> Linear {
    let a = 2.0 * std::f64::consts::PI * 1e-3;
    let (c, s) = (a.cos(), a.sin());
    let mut w_out = vec![1.0, 0.0, 0.0, 1.0];
    // An output row, when asked for: q[0] + q[1].
    if rows == 3 {
        w_out.extend([1.0, 1.0]);
    }
    Linear {
        n: 2,
        w: vec![c, -s, s, c],
        w_out,
        rows,
        w_in: vec![],
        k: 0,
        init: vec![1.0, 0.0],
    }
}

const ROT: &str = "system Rot {\n    state q[2] in radius 2\n    init q = [1, 0]\n    \
                   dq/dt = [[0, -2 * pi], [2 * pi, 0]] @ q\n";

fn rot_program(output: bool) -> String {
    format!(
        "{ROT}{}}}\nnetwork r for Rot {{ neurons = 2 }}\ncheck r {{\n    simulate 1 s\n    \
         expect nrmse < 0.1%\n}}\n",
        if output {
            "    output s = q[0] + q[1]\n"
        } else {
            ""
        }
    )
}

fn nrmse_of(out: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.contains("expect nrmse"))
        .unwrap_or_else(|| panic!("no nrmse line: {out}"));
    let v = line.split("measured ").nth(1).expect("measured");
    v.trim()
        .trim_end_matches('%')
        .trim()
        .parse()
        .expect("number")
}

/// Item 1: `W_out` with exactly one row per state, against a system that also declares an
/// output: the rows are the states (they come first), the file lacks the output, and the
/// exact rotation measures 0 % with or without the output declared.
#[test]
fn state_rows_are_states_whether_or_not_the_program_has_an_output() {
    let (code, out, err) = rotation(2).check("rows-no-output", &rot_program(false), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(nrmse_of(&out) < 1e-6, "{out}");
    let (code, out, err) = rotation(2).check("rows-output", &rot_program(true), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(nrmse_of(&out) < 1e-6, "{out}");
    // The file is told that it lacks the output (a warning: the states are still checked).
    assert!(err.contains("rnnc::weights::missing_output"), "{err}");
    assert!(err.contains("`W_out` has 2 rows"), "{err}");
    // A metric of the missing output is an error with the same code, never a pass.
    let asks = rot_program(true).replace("expect nrmse < 0.1%", "expect nrmse(s) < 0.1%");
    let (code, out, err) = rotation(2).check("rows-ask", &asks, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("[rnnc::weights::missing_output] the weight file has no row"),
        "{out}"
    );
    let (code, out, err) = rotation(3).check("rows-ask-full", &asks, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(nrmse_of(&out) < 1e-6, "{out}");
    // With the output row present, no warning, and the output is compared too.
    let (code, out, err) = rotation(3).check("rows-full", &rot_program(true), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(nrmse_of(&out) < 1e-6, "{out}");
    assert!(!err.contains("missing_output"), "{err}");
}

/// A file without a manifest that names the outputs but lacks their rows is refused; naming
/// nothing it is read as states (above).
#[test]
fn a_manifest_naming_outputs_needs_their_rows() {
    let src = rot_program(true);
    let mut db = rnnc::source::SourceDb::new();
    let a = rnnc::driver::analyze_text(&mut db, &rnnc::source::MemLoader::default(), "p.rnn", &src);
    assert!(
        a.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        a.diagnostics
    );
    let foreign = rnnc::npz::Foreign {
        dt: Some(0.001),
        phi: Some(rnnc::net::Phi::Linear),
        ..Default::default()
    };
    let read = || rnnc::npz::read(std::io::Cursor::new(rotation(2).bytes()), &foreign).unwrap();
    let mut net = read();
    let warnings = rnnc::bind::adopt_names(&mut net, &a.program, 0).expect("binds");
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].code.name, "rnnc::weights::missing_output");
    assert_eq!(net.meta.states, vec!["q[0]", "q[1]"]);
    assert!(net.meta.outputs.is_empty());
    let mut net = read();
    net.meta.outputs = vec!["s".into()];
    let e = rnnc::bind::adopt_names(&mut net, &a.program, 0).expect_err("refused");
    assert_eq!(e.code.name, "rnnc::weights::mismatch");
    assert!(e.message.contains("names the outputs [s]"), "{}", e.message);
    // With the output row, the same manifest binds without a warning.
    let mut net = rnnc::npz::read(std::io::Cursor::new(rotation(3).bytes()), &foreign).unwrap();
    net.meta.outputs = vec!["s".into()];
    let warnings = rnnc::bind::adopt_names(&mut net, &a.program, 0).expect("binds");
    assert!(warnings.is_empty());
    assert_eq!(net.meta.outputs, vec!["s"]);
}

/// The exact integrator `x' = x + dt u` (N = 1, linear, `alpha = 1`).
fn integrator() -> Linear {
    Linear {
        n: 1,
        w: vec![1.0],
        w_out: vec![1.0],
        rows: 1,
        w_in: vec![0.001],
        k: 1,
        init: vec![0.0],
    }
}

fn integ_program(simulate: &str) -> String {
    format!(
        "system Integ {{\n    input u in [-1, 1]\n    state x in [-1, 1]\n    dx/dt = u\n}}\n\
         network i for Integ {{ neurons = 1 }}\ncheck i {{\n    {simulate}\n    \
         expect mean_rate >= 0\n    expect spectral_radius < 2\n}}\n"
    )
}

/// Item 2: a start outside the domain, a drive beyond its declared range and an exact
/// solution that leaves the domain each warn at the clause, and the lines that read the
/// run say they were measured outside the specification (JSON: `outside_spec`); each next
/// to the same run inside the specification.
#[test]
fn runs_outside_the_specification_are_told() {
    let cases = [
        // (simulate, the code that must fire or none)
        ("simulate 1 s from x = 0.5", None),
        (
            "simulate 1 s from x = 2",
            Some("rnnc::check::start_outside_domain"),
        ),
        ("simulate 1 s with u = 0.9", None),
        (
            "simulate 200 ms with u = 1.5",
            Some("rnnc::check::input_out_of_range"),
        ),
        ("simulate 1 s with u = -0.8", None),
        (
            "simulate 2 s with u = 0.8",
            Some("rnnc::check::leaves_domain"),
        ),
    ];
    let codes = [
        "rnnc::check::start_outside_domain",
        "rnnc::check::input_out_of_range",
        "rnnc::check::leaves_domain",
    ];
    for (i, (sim, want)) in cases.iter().enumerate() {
        let src = integ_program(sim);
        let (_, out, err) = integrator().check(&format!("spec{i}"), &src, &[]);
        for c in codes {
            assert_eq!(err.contains(c), *want == Some(c), "{sim}: {c}\n{out}{err}");
        }
        // `mean_rate` reads the run; `spectral_radius` reads the weights alone.
        let drift = out
            .lines()
            .find(|l| l.contains("expect mean_rate"))
            .expect("rate line");
        let radius = out
            .lines()
            .find(|l| l.contains("expect spectral_radius"))
            .expect("radius line");
        assert_eq!(
            drift.contains("outside the specification"),
            want.is_some(),
            "{sim}: {out}"
        );
        assert!(!radius.contains("outside the specification"), "{out}");
        let (_, json, _) = integrator().check(&format!("spec{i}j"), &src, &["--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        let lines = &v["reports"][0]["expectations"];
        assert_eq!(lines[0]["outside_spec"], want.is_some(), "{sim}: {json}");
        assert_eq!(lines[1]["outside_spec"], false, "{json}");
        let warned: Vec<&str> = v["reports"][0]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap())
            .collect();
        assert_eq!(warned, want.iter().copied().collect::<Vec<_>>(), "{json}");
    }
    // The figures: where and when.
    let (_, _, err) =
        integrator().check("spec-fig", &integ_program("simulate 2 s with u = 0.8"), &[]);
    let flat = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("at t = 1.251 s"), "{err}");
    let (_, _, err) = integrator().check(
        "spec-fig2",
        &integ_program("simulate 200 ms with u = 1.5"),
        &[],
    );
    let flat = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("range [-1, 1] at t = 0.000 s and reaches 1.5000"),
        "{err}"
    );
}

/// A diagonal linear network: its exponents are exactly `ln(w_i) / dt`; the largest is
/// `ln(0.999) / 1 ms = -1.0005` per second, the next `ln(0.9985) / 1 ms = -1.5011`.
fn diagonal() -> (Linear, f64) {
    let n = 20;
    let w: Vec<f64> = (0..n * n)
        .map(|k| {
            let i = k / n;
            if i == k % n {
                0.999 - 0.0005 * i as f64
            } else {
                0.0
            }
        })
        .collect();
    let eye: Vec<f64> = (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect();
    (
        Linear {
            n,
            w,
            w_out: eye,
            rows: n,
            w_in: vec![],
            k: 0,
            init: vec![0.0; n],
        },
        0.999f64.ln() / 1e-3,
    )
}

fn lyap_program(duration: &str, bound: &str) -> String {
    format!(
        "system Decay {{\n    state z[20] in radius 1\n    dz/dt = -z\n}}\n\
         network d for Decay {{ neurons = 20 }}\ncheck d {{\n    simulate {duration}\n    \
         expect lyapunov_max < {bound}\n}}\n"
    )
}

/// `-1.200000 (+- 2.10e-1)` -> (-1.2, 0.21).
fn estimate_of(out: &str) -> (f64, f64) {
    let line = out
        .lines()
        .find(|l| l.contains("expect lyapunov_max"))
        .unwrap_or_else(|| panic!("no line: {out}"));
    let v = line.split("measured ").nth(1).expect("measured");
    let value: f64 = v.split_whitespace().next().unwrap().parse().expect("value");
    let e: f64 = v
        .split("(+- ")
        .nth(1)
        .expect("a convergence figure")
        .trim_end_matches(')')
        .trim()
        .parse()
        .expect("figure");
    (value, e)
}

/// Item 3: the estimate is shown with its convergence figure, which covers the true error
/// on a short run and shrinks on a long one; a bound inside the figure warns.
#[test]
fn a_finite_time_lyapunov_estimate_carries_its_convergence() {
    let (net, exact) = diagonal();
    let (code, out, err) = net.check("lyap-short", &lyap_program("5 s", "-1.1"), &[]);
    let (v, e) = estimate_of(&out);
    eprintln!("5 s: {v} +- {e} (exact {exact})");
    assert!((v - exact).abs() <= e, "the figure covers the error: {out}");
    assert!(e > 0.02, "{out}");
    // The bound -1.1 lies within it: the verdict warns.
    assert!(
        err.contains("rnnc::check::unconverged"),
        "{code} {out}{err}"
    );
    let (code, out, err) = net.check("lyap-long", &lyap_program("60 s", "-0.9"), &[]);
    let (v, e) = estimate_of(&out);
    eprintln!("60 s: {v} +- {e} (exact {exact})");
    assert_eq!(code, 0, "{out}{err}");
    assert!((v - exact).abs() <= e.max(1e-4), "{out}");
    assert!((v - exact).abs() < 0.01 && e < 0.02, "{out}");
    assert!(!err.contains("unconverged"), "{err}");
    // A bound far outside the short run's figure: no warning.
    let (code, out, err) = net.check("lyap-far", &lyap_program("5 s", "0"), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("unconverged"), "{err}");
}
