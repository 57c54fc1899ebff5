//! Golden diagnostics: every `tests/ui/*.rnn` states the codes it must produce in its first
//! line (`// expect: rnnc::units::expected_time, ...`); the rendered diagnostics are
//! snapshots under `tests/ui/snapshots/`. Regenerate with `INSTA_UPDATE=always cargo test --test it ui`.

use rnnc::diag::codes;
use rnnc::diag::render::{render_all, Style};
use rnnc::driver;
use rnnc::source::{FsLoader, SourceDb};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("tests/ui")
        .expect("tests/ui exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rnn"))
        .collect();
    v.sort();
    v
}

fn expected(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).expect("readable");
    let first = text.lines().next().unwrap_or("");
    let list = first
        .strip_prefix("// expect:")
        .unwrap_or_else(|| panic!("{}: first line must be `// expect: CODES`", path.display()));
    list.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn golden_diagnostics() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} golden cases", cases.len());
    let mut failures = Vec::new();
    for path in &cases {
        let mut db = SourceDb::new();
        let analysis = driver::analyze_path(&mut db, &FsLoader, path).expect("readable");
        let diags = driver::sorted(analysis.diagnostics);
        let got: BTreeSet<String> = diags.iter().map(|d| d.code.name.to_string()).collect();
        let want = expected(path);
        if got != want {
            failures.push(format!(
                "{}: expected {want:?}, got {got:?}",
                path.display()
            ));
        }
        let rendered = render_all(&db, &diags, Style::Plain);
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("case")
            .to_string();
        let source = std::fs::read_to_string(path).unwrap_or_default();
        insta::with_settings!({
            snapshot_path => "../ui/snapshots",
            prepend_module_to_snapshot => false,
            description => source,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, rendered);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every diagnostic code has at least one golden case (here or in `tests/cli/`).
#[test]
fn every_code_is_covered() {
    let mut covered = BTreeSet::new();
    for path in cases() {
        covered.extend(expected(&path));
    }
    // The back end's codes have their golden cases on the command line (`tests/cli/`).
    for path in crate::cli_golden::cases() {
        covered.extend(crate::cli_golden::header(&path).1);
    }
    let missing: Vec<&str> = codes::ALL
        .iter()
        .map(|c| c.name)
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a golden case: {missing:?}"
    );
    for c in &covered {
        assert!(
            codes::lookup(c).is_some(),
            "a header names the unknown code {c}"
        );
    }
}

/// A file with several independent errors reports each of them.
#[test]
fn independent_errors_are_all_reported() {
    for name in ["multi_errors", "multi_errors_2", "multi_errors_3"] {
        let path = PathBuf::from(format!("tests/ui/{name}.rnn"));
        let mut db = SourceDb::new();
        let a = driver::analyze_path(&mut db, &FsLoader, &path).expect("readable");
        let errors = a.diagnostics.iter().filter(|d| d.is_error()).count();
        assert!(errors >= 3, "{name}: {errors} errors");
    }
}
