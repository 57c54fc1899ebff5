//! Programs the front end accepts but that cannot be built or run give a clear error and
//! exit status 2, never a panic or a NaN trace.

use std::process::Command;

fn rnnc_on(src: &str, args: &[&str]) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("rnnc-build-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("p{}.rnn", src.len()));
    std::fs::write(&file, src).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rnnc"))
        .args(
            args.iter()
                .map(|a| a.replace("FILE", file.to_str().unwrap())),
        )
        .arg("-o")
        .arg(dir.join(if args[0] == "run" { "trace.csv" } else { "out" }))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn nan_flow_in_the_domain() {
    let src =
        "system S {\n state x in [-1, 1]\n dx/dt = sqrt(x)\n}\nnetwork n for S { neurons = 50 }\n";
    let (code, err) = rnnc_on(src, &["build", "FILE"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not finite one step from"), "{err}");
}

#[test]
fn reference_that_blows_up() {
    let src = "system S {\n state x in [-1, 1]\n init x = 0.5\n dx/dt = 20 * x^2\n}\nnetwork n for S { neurons = 50 }\n";
    let (code, err) = rnnc_on(src, &["run", "FILE", "--for", "2 s"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exact solution"), "{err}");
}

#[test]
fn unimplemented_methods_say_so() {
    let src = "import std.systems\nnetwork n for Lorenz { method = reservoir\n neurons = 50\n constraints { dale(excitatory = 80%) } }\n";
    let (code, err) = rnnc_on(src, &["build", "FILE"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not implemented yet"), "{err}");
}

#[test]
fn run_options_are_checked_like_source() {
    let src = "import std.systems\nnetwork n for Integrator { neurons = 50 }\n";
    let (code, err) = rnnc_on(src, &["run", "FILE", "--for", "2"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("expected_time") || err.contains("time"),
        "{err}"
    );
    let (code, err) = rnnc_on(src, &["run", "FILE", "--for", "1 s", "--with", "v = 1"]);
    assert_eq!(code, 2, "{err}");
    let (code, err) = rnnc_on(
        src,
        &[
            "run",
            "FILE",
            "--for",
            "100 ms",
            "--with",
            "u = sin(t / (1 s))",
        ],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn compile_limits_say_what_to_change() {
    // Degree 8 in 4 joint variables: C(12, 8) = 495 monomials, past the fit's limit.
    let src = "import std.logic\nnetwork l for SRLatch { method = reservoir(mode = compile, degree = 8)\n neurons = 5000 }\n";
    let (code, err) = rnnc_on(src, &["build", "FILE"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("gives 495 monomials") && err.contains("`blocks = true`"),
        "{err}"
    );
    // An output that reads two blocks' states cannot be read from one block.
    let src =
        "system S {\n state x, y in [-1, 1]\n dx/dt = -x\n dy/dt = -y\n output p = x * y\n}\n\
        network n for S { method = reservoir(mode = compile, blocks = true)\n neurons = 100 }\n";
    let (code, err) = rnnc_on(src, &["build", "FILE"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("output `p` reads variables that no single block sees"),
        "{err}"
    );
}
