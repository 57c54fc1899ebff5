//! Every example network whose method and constraints are implemented builds and runs its
//! checks' simulations against the exact solution without diverging. Networks that need
//! what is not built yet must say so in their build error (never panic, never NaN).

use rnnc::driver;
use rnnc::methods;
use rnnc::sema::model::{CheckStep, Target};
use rnnc::source::{FsLoader, SourceDb};
use rnnc::trace;

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
                    assert!(
                        e.0.contains("not implemented yet"),
                        "{}: {e}",
                        file.display()
                    );
                    continue;
                }
            };
            if !matches!(network.target, Target::System(_)) {
                continue;
            }
            for check in p.checks.iter().filter(|c| c.network == i) {
                for step in &check.steps {
                    let CheckStep::Simulate(sim) = step else {
                        continue;
                    };
                    let (net, reference) = trace::simulate_network(p, i, &built.net, sim)
                        .unwrap_or_else(|e| panic!("{}: {}: {e}", file.display(), network.name));
                    let e = trace::nrmse(&net, &reference, &built.net.meta.states, 0);
                    eprintln!(
                        "{}: {} nrmse {}",
                        file.file_name().unwrap().to_string_lossy(),
                        network.name,
                        e.map_or("-".into(), |e| format!("{:.4} %", 100.0 * e))
                    );
                    // Chaotic systems are judged by statistics, not by nrmse.
                    let asks_nrmse = check.steps.iter().any(
                        |s| matches!(s, CheckStep::Expect { text, .. } if text.starts_with("nrmse")),
                    );
                    if let (Some(e), true) = (e, asks_nrmse) {
                        assert!(e < 0.1, "{}: {}: nrmse {e}", file.display(), network.name);
                    }
                    ran += 1;
                }
            }
        }
    }
    assert!(ran >= 9, "only {ran} simulations ran");
}
