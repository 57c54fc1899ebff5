//! Every shipped program is valid: the examples, the standard library, and the `rnn` blocks of
//! LANGUAGE.md concatenated in order (they refer to each other's definitions).

use rnnc::diag::render::{render_all, Style};
use rnnc::driver;
use rnnc::source::{stdlib, FsLoader, MemLoader, SourceDb};
use std::path::Path;

fn assert_valid(path: &Path) -> rnnc::sema::Program {
    let mut db = SourceDb::new();
    let a = driver::analyze_path(&mut db, &FsLoader, path).expect("readable");
    let errors: Vec<_> = a
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    assert!(
        errors.is_empty(),
        "{}:\n{}",
        path.display(),
        render_all(&db, &errors, Style::Plain)
    );
    a.program
}

#[test]
fn every_example_is_valid() {
    let mut n = 0;
    for entry in std::fs::read_dir("examples").expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rnn") {
            let p = assert_valid(&path);
            assert!(
                p.root_networks().count() > 0 || !p.systems.is_empty(),
                "{} defines nothing",
                path.display()
            );
            n += 1;
        }
    }
    assert!(n >= 10, "only {n} examples");
}

#[test]
fn every_stdlib_module_is_valid_and_warning_free() {
    for (name, text) in stdlib::MODULES {
        let mut db = SourceDb::new();
        let a = driver::analyze_text(&mut db, &MemLoader::default(), name, text);
        assert!(
            a.diagnostics.is_empty(),
            "std.{name}:\n{}",
            render_all(&db, &a.diagnostics, Style::Plain)
        );
        assert!(!a.program.systems.is_empty() || !a.program.tasks.is_empty());
    }
}

#[test]
fn language_reference_blocks_are_valid() {
    let p = assert_valid(Path::new("tests/data/language_md.rnn"));
    assert_eq!(p.systems.len(), 5);
    assert_eq!(p.tasks.len(), 2);
    assert_eq!(p.networks.len(), 6);
    assert_eq!(p.checks.len(), 4);
}

/// The copy in tests/data is the contract's text: re-extract it when the contract is beside us.
#[test]
fn language_reference_copy_is_current() {
    let Ok(md) = std::fs::read_to_string("../shared/design/LANGUAGE.md") else {
        return; // The contract is not checked out next to this clone.
    };
    let mut blocks = Vec::new();
    let mut rest = md.as_str();
    while let Some(i) = rest.find("```rnn\n") {
        let body = &rest[i + 7..];
        let end = body.find("```").expect("closed block");
        blocks.push(&body[..end]);
        rest = &body[end + 3..];
    }
    let copy = std::fs::read_to_string("tests/data/language_md.rnn").expect("copy");
    for b in blocks {
        assert!(
            copy.contains(b),
            "tests/data/language_md.rnn is out of date with LANGUAGE.md"
        );
    }
}

#[test]
fn semantic_model_holds_si_values() {
    let p = assert_valid(Path::new("tests/data/language_md.rnn"));
    let osc = p.network("osc").expect("osc");
    assert_eq!(osc.tau, Some(0.05));
    assert_eq!(osc.dt, 1e-3);
    let rnnc::decl::Neuron::Lif(lif) = &osc.neuron.kind else {
        panic!("osc runs lif units: {:?}", osc.neuron.kind)
    };
    assert_eq!(lif.tau_rc, 0.02);
    let dale = osc
        .constraints
        .iter()
        .find_map(|c| match &c.kind {
            rnnc::decl::Constraint::Dale(d) => Some(d),
            _ => None,
        })
        .expect("dale");
    assert_eq!(dale.excitatory, 0.8);
    let Some(rnnc::sema::Target::System(inst)) = Some(&osc.target) else {
        unreachable!()
    };
    assert_eq!(inst.params[0].as_f64(), Some(2.0)); // freq = 2 Hz
    let lorenz = p.system("Lorenz").expect("Lorenz");
    assert_eq!(lorenz.params[2].default.as_f64(), Some(8.0 / 3.0));
    let integ = p.network("integ").expect("integ");
    let rnnc::decl::Method::Nef(nef) = &integ.method.kind else {
        panic!("integ is nef")
    };
    assert_eq!(nef.reg, 1e-3);
    let pd = p.task("PerceptualDecision").expect("task");
    assert_eq!(pd.repeats, 8);
    assert_eq!(pd.trials[0].periods.len(), 4);
    // A draw-duration period and a fixed one.
    assert!(matches!(
        pd.trials[0].periods[2].duration,
        rnnc::sema::Duration::Expr(_)
    ));
}
