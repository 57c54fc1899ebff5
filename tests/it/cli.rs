//! The binary: exit statuses (0 ok, 2 invalid input), summaries, `explain`, and robustness under
//! random mutations of every example (never a panic).

use proptest::prelude::*;
use std::process::Command;

fn rnnc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rnnc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn no_emit_summarizes_and_exits_zero() {
    let (code, out, err) = rnnc(&["build", "--no-emit", "examples/integrator.rnn"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("network integ: nef for Integrator, 1000 tanh, dt 1 ms, tau 100 ms, seed 1"),
        "{out}"
    );
    assert!(out.contains("check   integ: 1 simulate, 2 expect"), "{out}");
}

#[test]
fn invalid_program_exits_two_with_rendered_diagnostic() {
    let (code, _, err) = rnnc(&["build", "--no-emit", "tests/ui/units_expected_time.rnn"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("rnnc::units::expected_time") && err.contains("write `100 ms`"),
        "{err}"
    );
    let (code, _, err) = rnnc(&["build", "--no-emit", "does/not/exist.rnn"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn explain_prints_long_text() {
    let (code, out, _) = rnnc(&["explain", "rnnc::units::expected_time"]);
    assert_eq!(code, 0);
    assert!(out.contains("100 ms"), "{out}");
    let (code, out, _) = rnnc(&["explain", "--list"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), rnnc::diag::codes::ALL.len());
    let (code, _, _) = rnnc(&["explain", "rnnc::nope::nothing"]);
    assert_eq!(code, 2);
}

#[test]
fn every_command_has_help() {
    for cmd in ["build", "run", "check", "repl", "explain"] {
        let (code, out, _) = rnnc(&[cmd, "--help"]);
        assert_eq!(code, 0, "{cmd}");
        assert!(out.contains("Usage: rnnc"), "{cmd}: {out}");
    }
}

fn examples() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir("examples")
        .expect("examples/")
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "rnn").then(|| {
                (
                    p.display().to_string(),
                    std::fs::read_to_string(&p).ok().unwrap_or_default(),
                )
            })
        })
        .collect();
    v.sort();
    v
}

/// Whitespace-separated pieces: a cheap token approximation that keeps the mutation visible.
fn mutate(text: &str, kind: u8, i: usize, j: usize) -> String {
    let mut toks: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
    if toks.is_empty() {
        return text.to_string();
    }
    let (i, j) = (i % toks.len(), j % toks.len());
    match kind % 3 {
        0 => {
            toks.remove(i);
        }
        1 => {
            let t = toks[i];
            toks.insert(j, t);
        }
        _ => toks.swap(i, j),
    }
    toks.concat()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Deleted, duplicated and swapped tokens: the binary answers 0 or 2, never panics.
    #[test]
    fn mutated_examples_never_panic(which in 0usize..64, kind in 0u8..3, i in 0usize..4096, j in 0usize..4096) {
        let ex = examples();
        let (path, text) = &ex[which % ex.len()];
        let mutated = mutate(text, kind, i, j);
        // A temporary copy (relative imports then fail, which is an exit 2 like any other).
        let dir = std::env::temp_dir().join(format!("rnnc-mut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let target = dir.join(format!("case-{which}-{i}-{j}.rnn"));
        std::fs::write(&target, &mutated).expect("write");
        let (code, _, err) = rnnc(&["build", "--no-emit", target.to_str().expect("utf8")]);
        let _ = std::fs::remove_file(&target);
        prop_assert!(code == 0 || code == 2, "{path} mutated: exit {code}\n{err}");
        prop_assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_lowrank_build_prints_the_mean_field_fixed_points() {
    let dir = std::env::temp_dir().join("rnnc-cli-mean-field");
    let (code, _, err) = rnnc(&[
        "build",
        "tests/data/lowrank_small.rnn",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // DoubleWell's wells at -1 and +1 and its saddle at 0, in the theory's Gaussian field.
    assert!(
        err.contains("mean-field fixed points of x: stable -1.0000, 1.0000; unstable 0.0000"),
        "{err}"
    );
}

#[test]
fn run_of_a_task_network_runs_its_trials() {
    let dir = std::env::temp_dir().join(format!("rnnc-cli-task-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("ff.csv");
    let (code, _, err) = rnnc(&["run", "examples/flipflop.rnn", "-o", csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("ran flipflop on 2 trials of FlipFlop") && err.contains("(100.00 %)"),
        "{err}"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,trial,set,reset,y"));
    // quiet 100 ms + pulse 50 ms + hold 500 ms, then pulse 50 ms + hold 500 ms, at 1 ms.
    assert_eq!(lines.count(), 1200);
    let (code, _, err) = rnnc(&["run", "examples/flipflop.rnn", "--for", "1 s"]);
    assert_eq!(code, 2);
    assert!(err.contains("realizes a task"), "{err}");
}
