//! Golden command-line outputs: every `tests/cli/*.rnn` runs the `rnnc` command lines of its
//! header (`// rnnc: ARGS`) and must print exactly the codes of its `// expect:` line; the last
//! command's rendered output is an insta snapshot (`tests/cli/snapshots/`). These are the
//! golden cases of the back end's codes (build, check, weight files, command line).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("tests/cli")
        .expect("tests/cli exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rnn"))
        .collect();
    v.sort();
    v
}

/// The header: command lines and expected codes.
pub fn header(path: &Path) -> (Vec<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(path).expect("readable");
    let mut runs = Vec::new();
    let mut codes = BTreeSet::new();
    for line in text.lines() {
        if let Some(r) = line.strip_prefix("// rnnc:") {
            runs.push(r.trim().to_string());
        } else if let Some(c) = line.strip_prefix("// expect:") {
            codes.extend(
                c.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
        } else {
            break;
        }
    }
    assert!(!runs.is_empty(), "{}: no `// rnnc:` line", path.display());
    (runs, codes)
}

/// Splits a command line at spaces outside double quotes.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn golden_cli_outputs() {
    let cases = cases();
    assert!(cases.len() >= 14, "only {} cases", cases.len());
    let known: BTreeSet<&str> = rnnc::diag::codes::ALL.iter().map(|c| c.name).collect();
    let mut failures = Vec::new();
    for path in &cases {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("case");
        // A relative folder: its name has the same length on every machine, so miette wraps
        // the rendered messages at the same places (a temporary folder named by the pid did not).
        let dir = PathBuf::from("target").join("cli-golden").join(stem);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = path.to_str().expect("utf-8 path");
        let dir_s = dir.to_str().expect("utf-8 path");
        let (runs, want) = header(path);
        let mut rendered = String::new();
        for run in &runs {
            let args: Vec<String> = words(run)
                .into_iter()
                .map(|w| w.replace("FILE", file).replace("DIR", dir_s))
                .collect();
            let out = Command::new(env!("CARGO_BIN_EXE_rnnc"))
                .args(&args)
                .env("NO_COLOR", "1")
                .output()
                .expect("rnnc runs");
            rendered = format!(
                "exit status {}\n{}{}",
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(!rendered.contains("panicked"), "{stem}: {rendered}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        let rendered = rendered.replace(dir_s, "DIR").replace(file, "FILE");
        // Timings vary: `in 0.12 s` becomes `in T s`.
        let rendered = regex_free_times(&rendered);
        let got: BTreeSet<String> = known
            .iter()
            .filter(|c| rendered.contains(**c))
            .map(|c| c.to_string())
            .collect();
        if got != want {
            failures.push(format!(
                "{stem}: expected {want:?}, got {got:?}\n{rendered}"
            ));
        }
        insta::with_settings!({
            snapshot_path => "../cli/snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(stem.to_string(), rendered);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Replaces the seconds of `in 0.12 s` by `T`.
fn regex_free_times(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut l = line.to_string();
        if let Some(i) = l.find(" in ") {
            let rest = &l[i + 4..];
            if let Some(j) = rest.find(" s") {
                if rest[..j].parse::<f64>().is_ok() {
                    l = format!("{} in T s{}", &l[..i], &rest[j + 2..]);
                }
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}
