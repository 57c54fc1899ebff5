//! Every example network whose method and constraints are implemented builds and passes
//! every expectation of its checks. Networks that need what is not built yet must say so in
//! their build error (never panic, never NaN).

use rnnc::driver;
use rnnc::methods;
use rnnc::sema::model::{CheckStep, Target};
use rnnc::source::{FsLoader, SourceDb};

/// Example networks that build but do not meet their checks yet (none at present; an entry
/// must fail until it is fixed, then it leaves the list).
const OPEN: &[(&str, &str)] = &[];

#[test]
fn example_networks_build_and_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rnn"))
        .collect();
    files.sort();
    let mut ran = 0;
    for file in files {
        let mut db = SourceDb::new();
        let a = driver::analyze_path(&mut db, &FsLoader, &file).unwrap();
        assert!(!a.has_errors(), "{}", file.display());
        let p = &a.program;
        for (i, network) in p.networks.iter().enumerate() {
            if network.span.file != p.root {
                continue;
            }
            let built = match methods::build(p, i) {
                Ok(b) => b,
                Err(e) => {
                    assert_eq!(
                        e.code.name,
                        "rnnc::feature::not_implemented",
                        "{}: {e:?}",
                        file.display()
                    );
                    continue;
                }
            };
            if matches!(network.target, Target::None) {
                continue;
            }
            let open = OPEN
                .iter()
                .any(|(f, n)| file.ends_with(f) && network.name == *n);
            for check in p.checks.iter().filter(|c| c.network == i) {
                // Every expectation of the example holds (README and docs quote them).
                let report = rnnc::check::run(p, check, &built.net);
                for line in &report.lines {
                    eprintln!(
                        "{}: {}: {} -> {}",
                        file.file_name().unwrap().to_string_lossy(),
                        network.name,
                        line.text,
                        line.value.as_deref().unwrap_or("-")
                    );
                    // An open item fails until it is fixed; then it leaves the list.
                    assert_eq!(
                        line.pass,
                        Some(!open),
                        "{}: {}: {line:?}",
                        file.display(),
                        network.name
                    );
                }
                ran += check
                    .steps
                    .iter()
                    .filter(|s| matches!(s, CheckStep::Simulate(_)))
                    .count();
            }
        }
    }
    assert!(ran >= 9, "only {ran} simulations ran");
}
