//! Interop with numpy (FORMAT.md): a ten-line numpy loop over a built file reproduces
//! `rnnc run` to 1e-9 relative, and archives written by `numpy.savez` /
//! `savez_compressed` read back here. Needs a Python with numpy: `RNNC_PYTHON`, else the
//! repository's `.venv/bin/python`, else `python3`. Without numpy the test says so and
//! passes, unless `RNNC_REQUIRE_NUMPY` is set (`.ci/run` installs numpy into `.venv` and
//! sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> Option<String> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let py = std::env::var("RNNC_PYTHON").unwrap_or_else(|_| {
        if venv.exists() {
            venv.to_string_lossy().into_owned()
        } else {
            "python3".into()
        }
    });
    let ok = Command::new(&py)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    assert!(
        std::env::var_os("RNNC_REQUIRE_NUMPY").is_none(),
        "RNNC_REQUIRE_NUMPY is set but `{py}` cannot import numpy"
    );
    eprintln!("skipping: `{py}` cannot import numpy (set RNNC_PYTHON)");
    None
}

fn rnnc(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_rnnc"))
        .args(args)
        .output()
        .expect("runs rnnc");
    assert!(
        out.status.success(),
        "rnnc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnnc-interop-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn numpy_loop_matches_rnnc_run() {
    let Some(py) = python() else { return };
    let dir = tmp("loop");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/interop.rnn");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/numpy_loop.py");
    let cases: &[(&str, &[&str], bool)] = &[
        (
            "integ_tanh",
            &["--with", "u = sin(2 * pi * 1 Hz * t)"],
            false,
        ),
        ("integ_tanh", &["--with", "u = pulse(100 ms, 50 ms)"], true),
        ("osc_lif", &["--from", "q = [0.5, 0.5]"], false),
        ("vdp_relu", &[], false),
        (
            "gated_softplus",
            &["--with", "u = 0.5, g = 1 + 0.5 * sin(2 * pi * 3 Hz * t)"],
            false,
        ),
        ("ladder", &["--with", "u = pulse(100 ms, 100 ms)"], false),
        // Full weights, 20 % nonzero: the simulator's compressed-row path.
        ("bio", &["--with", "kick = [pulse(0 s, 50 ms), 0]"], false),
    ];
    for (i, (net, extra, dense)) in cases.iter().enumerate() {
        let out = dir.join(format!("case{i}"));
        let out_s = out.to_str().unwrap();
        let mut args = vec![
            "build",
            src.to_str().unwrap(),
            "--network",
            net,
            "-o",
            out_s,
        ];
        if *dense {
            args.push("--dense");
        }
        rnnc(&args);
        let trace = dir.join(format!("trace{i}.csv"));
        let mut args = vec![
            "run",
            src.to_str().unwrap(),
            "--network",
            net,
            "--for",
            "1 s",
            "-o",
            trace.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        rnnc(&args);
        let weights = out.join(format!("{net}.npz"));
        let o = Command::new(&py)
            .arg(&script)
            .arg(&weights)
            .arg(&trace)
            .arg("1000")
            .args(if *net == "osc_lif" {
                &["0.5", "0.5"][..]
            } else {
                &[]
            })
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        eprint!("{text}");
        assert!(o.status.success(), "{net}: {text}");
        assert!(text.contains("1000 steps"), "{text}");
    }
}

#[test]
fn numpy_savez_archives_are_read() {
    let Some(py) = python() else { return };
    let dir = tmp("savez");
    // PsychRNN's array names, no manifest, float32, a Fortran-order matrix, an (1, N)
    // init_state, an unknown member; and an object array that must be refused.
    let code = r#"
import numpy as np, sys
d = sys.argv[1]
rng = np.random.default_rng(0)
N = 7
W = rng.normal(size=(N, N)).astype(np.float32)
arrs = dict(W_rec=np.asfortranarray(W), W_in=rng.normal(size=(N, 2)), b_rec=np.zeros(N),
            W_out=rng.normal(size=(1, N)), b_out=np.zeros(1), init_state=np.ones((1, N)),
            extra=np.arange(3))
np.savez(d + "/plain.npz", **arrs)
np.savez_compressed(d + "/compressed.npz", **arrs)
np.save(d + "/W.npy", W)
bad = dict(arrs); bad["W_in"] = np.array([object()], dtype=object)
np.savez(d + "/pickled.npz", **bad)
short = dict(arrs); short["W_in"] = np.zeros((N - 1, 2))
np.savez(d + "/misshaped.npz", **short)
"#;
    let o = Command::new(&py)
        .args(["-c", code, dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let foreign = rnnc::npz::Foreign {
        dt: Some(0.01),
        tau: Some(0.1),
        ..Default::default()
    };
    let open = |name: &str| std::fs::File::open(dir.join(name)).unwrap();
    let w_ref: Vec<f64> = {
        let bytes = std::fs::read(dir.join("W.npy")).unwrap();
        let f = npyz::NpyFile::new(&bytes[..]).unwrap();
        f.into_vec::<f32>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect()
    };
    for name in ["plain.npz", "compressed.npz"] {
        let net = rnnc::npz::read(open(name), &foreign).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(net.n(), 7);
        assert_eq!(net.n_inputs(), 2);
        assert!(net.alpha.iter().all(|&a| (a - 0.1).abs() < 1e-15));
        assert_eq!(net.init_state, vec![1.0; 7]);
        let w = net.w_rec.dense();
        for i in 0..7 {
            for j in 0..7 {
                assert_eq!(
                    w[(i, j)],
                    w_ref[i * 7 + j],
                    "{name} W_rec[{i}, {j}] (C order)"
                );
            }
        }
    }
    let err = rnnc::npz::read(open("pickled.npz"), &foreign).unwrap_err();
    assert!(err.0.contains("pickled"), "{err}");
    let err = rnnc::npz::read(open("misshaped.npz"), &foreign).unwrap_err();
    assert_eq!(err.0, "array `W_in` has shape (6, 2), expected (7, ?)");
    let no_dt = rnnc::npz::read(open("plain.npz"), &rnnc::npz::Foreign::default()).unwrap_err();
    assert!(no_dt.0.contains("--dt"), "{no_dt}");
}

/// A network trained elsewhere: a numpy script hand-builds a relu line attractor with
/// PsychRNN's array names and no manifest (x' = (1 - a) x + a (W relu(x) + W_in u + b), the
/// line x = c + m z with c orthogonal to m), and `rnnc check --weights` verifies it against
/// the Integrator program; a leaky copy must fail.
#[test]
fn a_psychrnn_style_line_attractor_is_checked() {
    let Some(py) = python() else { return };
    let dir = tmp("psychrnn");
    let code = r#"
import numpy as np, sys
d, leak = sys.argv[1], float(sys.argv[2])
N, dt, tau = 20, 0.01, 0.1
rng = np.random.default_rng(3)
m = rng.normal(size=N); m /= np.linalg.norm(m)
c = 3.0 * np.ones(N); c -= (c @ m) * m           # the line's offset, orthogonal to m
W = leak * np.outer(m, m)                         # W m = leak m, W c = 0
np.savez(d, W_rec=W, W_in=(tau * m)[:, None], b_rec=c, W_out=m[None, :],
         b_out=np.zeros(1), init_state=c[None, :])
"#;
    let src = dir.join("line.rnn");
    std::fs::write(
        &src,
        "import std.systems\nnetwork line for Integrator { neurons = 20\n dt = 10 ms\n tau = 100 ms }\ncheck line {\n simulate 3 s with u = pulse(500 ms, 500 ms) - pulse(2 s, 500 ms)\n expect nrmse < 1%\n expect drift < 0.01\n}\n",
    )
    .unwrap();
    // PsychRNN reads its output after the update: the same file passes read either way.
    for (leak, readout, want) in [
        ("1.0", "before", 0),
        ("1.0", "after", 0),
        ("0.9", "before", 1),
    ] {
        let file = dir.join(format!("line{leak}.npz"));
        let o = Command::new(&py)
            .args(["-c", code, file.to_str().unwrap(), leak])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = Command::new(env!("CARGO_BIN_EXE_rnnc"))
            .args([
                "check",
                src.to_str().unwrap(),
                "--network",
                "line",
                "--weights",
            ])
            .arg(&file)
            .args(["--dt", "10 ms", "--tau", "100 ms", "--phi", "relu"])
            .args(["--readout", readout])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(want),
            "leak {leak} {readout}: {text}"
        );
        if want == 0 {
            assert!(text.contains("pass   expect nrmse < 1%"), "{text}");
        } else {
            assert!(text.contains("FAIL   expect drift < 0.01"), "{text}");
        }
    }
}

/// A task network from elsewhere: a numpy script writes a one-unit tanh flip-flop (w = 2,
/// two stable states) with PsychRNN's names and no manifest; `rnnc check --weights` runs
/// `accuracy(FlipFlop)` on it. A copy with w = 0.5 forgets the bit and fails, naming the
/// first failing trial.
#[test]
fn a_numpy_flipflop_is_scored_on_the_task() {
    let Some(py) = python() else { return };
    let dir = tmp("flipflop");
    let code = r#"
import numpy as np, sys
d, w = sys.argv[1], float(sys.argv[2])
np.savez(d, W_rec=np.array([[w]]), W_in=np.array([[10.0, -10.0]]), b_rec=np.zeros(1),
         W_out=np.array([[1 / np.tanh(1.915)]]), b_out=np.zeros(1), init_state=np.zeros((1, 1)))
"#;
    let src = dir.join("ff.rnn");
    std::fs::write(
        &src,
        "import std.tasks\nnetwork ff for FlipFlop { neurons = 1\n dt = 1 ms\n tau = 10 ms }\ncheck ff {\n expect accuracy(FlipFlop) == 100%\n}\n",
    )
    .unwrap();
    for (w, want) in [("2.0", 0), ("0.5", 1)] {
        let file = dir.join(format!("ff{w}.npz"));
        let o = Command::new(&py)
            .args(["-c", code, file.to_str().unwrap(), w])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = Command::new(env!("CARGO_BIN_EXE_rnnc"))
            .args([
                "check",
                src.to_str().unwrap(),
                "--network",
                "ff",
                "--weights",
            ])
            .arg(&file)
            .args(["--dt", "1 ms", "--tau", "10 ms", "--phi", "tanh"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(want), "w {w}: {text}");
        if want == 0 {
            assert!(text.contains("measured 100.00 %"), "{text}");
        } else {
            assert!(text.contains("measured 0.00 %"), "{text}");
            assert!(
                text.contains("0 of 2 trials pass; earliest failure: trial `remember_"),
                "{text}"
            );
        }
    }
}

/// `rnnc run --task` writes trials numpy reads: padded inputs, targets and masks that agree
/// with the task's periods.
#[test]
fn exported_trials_load_in_numpy() {
    let Some(py) = python() else { return };
    let dir = tmp("trials");
    let file = dir.join("ff.npz");
    let out = rnnc(&[
        "run",
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flipflop.rnn"),
        "--task",
        "FlipFlop",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = r#"
import numpy as np, json, sys
z = np.load(sys.argv[1])
m = json.loads(bytes(z["manifest.json"]).decode())
assert m["inputs"] == ["set", "reset"] and m["outputs"] == ["y"] and m["dt"] == 0.001, m
assert z["inputs"].shape == (2, 650, 2) and z["steps"].tolist() == [650, 550], z["steps"]
assert z["inputs"][0, 100:150, 0].min() == 1 and z["inputs"][0, :, 0].sum() == 50
assert z["inputs"][1, 550:].sum() == 0 and z["mask"][1, 550:].sum() == 0
assert z["mask"][0, :, 0].sum() == 450 and (z["targets"][1][z["mask"][1] == 1] == -1).all()
print("ok")
"#;
    let o = Command::new(&py)
        .args(["-c", code, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
