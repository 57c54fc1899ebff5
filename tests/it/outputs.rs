//! Outputs are written whole or not at all: plots in the formats they are named for, never a
//! partial or destroyed file, never through a symbolic link, no empty folder after a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn rnnc(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rnnc"))
        .args(args)
        .output()
        .expect("runs rnnc");
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code().unwrap_or(-1), text)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rnnc-outputs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn integrator() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/integrator.rnn")
        .to_string_lossy()
        .into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn plots_are_svg_or_png_and_other_names_are_refused_before_running() {
    let d = tmp("plots");
    let (svg, png, pdf) = (d.join("a.svg"), d.join("a.png"), d.join("a.pdf"));
    let run = |plot: &Path| {
        rnnc(&[
            "run",
            &integrator(),
            "--for",
            "1 s",
            "--with",
            "u = pulse(200 ms, 100 ms)",
            "--plot",
            s(plot),
            "-o",
            s(&d.join("t.csv")),
        ])
    };
    let (code, err) = run(&svg);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&svg).unwrap();
    // Text laid out with the embedded font, the title among it, and the curves.
    assert!(text.starts_with("<svg"), "{}", &text[..100]);
    assert!(text.contains("integ: network (solid) and exact (dashed)"));
    assert!(text.matches("<polyline").count() >= 2, "{}", text.len());
    let (code, err) = run(&png);
    assert_eq!(code, 0, "{err}");
    assert_eq!(&std::fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    std::fs::remove_file(d.join("t.csv")).unwrap();
    let (code, err) = run(&pdf);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot write a plot as `.pdf`: name the file `.svg` or `.png`"),
        "{err}"
    );
    assert!(
        !pdf.exists() && !d.join("t.csv").exists(),
        "nothing is written"
    );
    // Only the two plots and nothing temporary is left.
    let mut names: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.png", "a.svg"]);
}

#[test]
fn a_failed_run_leaves_the_previous_output_and_a_link_is_replaced_not_followed() {
    let d = tmp("atomic");
    let out = d.join("t.csv");
    std::fs::write(&out, "the previous trace").unwrap();
    // 10^12 steps: refused, and the previous file is untouched.
    let (code, err) = rnnc(&["run", &integrator(), "--for", "1e9 s", "-o", s(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rnnc::limits::too_large"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "the previous trace");
    // A link at the output path: the link is replaced by the trace, its target kept.
    let target = d.join("precious.txt");
    std::fs::write(&target, "keep me").unwrap();
    let link = d.join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (code, err) = rnnc(&["run", &integrator(), "--for", "0.1 s", "-o", s(&link)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the link was replaced by a file"
    );
    assert!(std::fs::read_to_string(&link).unwrap().starts_with("t,u,x"));
}

#[test]
fn a_failed_build_leaves_no_folder() {
    let d = tmp("folder");
    let src = d.join("big.rnn");
    std::fs::write(
        &src,
        "system S {\n state x in [-1, 1]\n dx/dt = -x\n}\nnetwork n for S { neurons = 400 }\n",
    )
    .unwrap();
    let out = d.join("weights");
    let (code, err) = rnnc(&["build", s(&src), "-o", s(&out), "--memory", "1MB"]);
    assert_eq!(code, 2, "{err}");
    assert!(!out.exists(), "no empty folder");
    let (code, err) = rnnc(&["build", s(&src), "-o", s(&out)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.join("n.npz").is_file());
}
