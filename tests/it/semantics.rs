//! Statements of docs/language.md, each as a test.

use rnnc::driver;
use rnnc::sema::Analysis;
use rnnc::source::{MemLoader, SourceDb};

fn analyze(src: &str) -> Analysis {
    let mut db = SourceDb::new();
    driver::analyze_text(&mut db, &MemLoader::default(), "t.rnn", src)
}

fn codes(src: &str) -> Vec<&'static str> {
    analyze(src)
        .diagnostics
        .iter()
        .map(|d| d.code.name)
        .collect()
}

const INTEG: &str =
    "system I { input u\n state x in [-1, 1]\n dx/dt = u }\nnetwork n for I { neurons = 10 }\n";

#[test]
fn bare_numbers_take_the_metric_dimension_and_units_must_match() {
    assert!(codes(&format!("{INTEG}check n {{ expect drift < 0.05 }}")).is_empty());
    assert!(codes(&format!(
        "{INTEG}check n {{ expect divergence_time > 5 s }}"
    ))
    .is_empty());
    assert_eq!(
        codes(&format!(
            "{INTEG}check n {{ expect divergence_time > 5 Hz }}"
        )),
        ["rnnc::units::mismatch"]
    );
    assert_eq!(
        codes(&format!("{INTEG}check n {{ expect drift + 1 s < 2 }}")),
        ["rnnc::units::mismatch"]
    );
}

#[test]
fn metric_arguments() {
    let ok =
        format!("{INTEG}check n {{\n expect lyapunov(2) < 0\n expect nrmse(skip = 1 s) < 2%\n}}");
    assert!(codes(&ok).is_empty(), "{:?}", codes(&ok));
    assert_eq!(
        codes(&format!("{INTEG}check n {{ expect nrmse(skip = 1) < 2% }}")),
        ["rnnc::units::expected_time"]
    );
    assert_eq!(
        codes(&format!("{INTEG}check n {{ expect lyapunov < 0 }}")),
        ["rnnc::expr::arity"]
    );
}

#[test]
fn tasks_take_parameters() {
    let src = "task Delay(T = 500 ms) { input go\n output y\n trial { period wait T { go = 1 } } }\nnetwork r for Delay { neurons = 50 }";
    let a = analyze(src);
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    assert_eq!(a.program.tasks[0].params[0].default.as_f64(), Some(0.5));
}

#[test]
fn durations_are_checked_against_every_network_dt() {
    let task = "task T { input a\n output y\n trial { period p 2.5 ms { a = 1 } } }\n";
    assert!(codes(&format!(
        "{task}network r for T {{ neurons = 5\n dt = 0.5 ms }}"
    ))
    .is_empty());
    assert_eq!(
        codes(&format!("{task}network r for T {{ neurons = 5 }}")),
        ["rnnc::units::off_grid"]
    );
    assert_eq!(
        codes(&format!(
            "{task}network r for T {{ neurons = 5\n dt = 10 ms }}"
        )),
        ["rnnc::task::zero_steps"]
    );
}

#[test]
fn signal_arguments_have_dimensions() {
    assert!(codes(&format!(
        "{INTEG}check n {{ simulate 1 s with u = sine(2 Hz) + ramp(0 s, 500 ms) }}"
    ))
    .is_empty());
    assert_eq!(
        codes(&format!(
            "{INTEG}check n {{ simulate 1 s with u = step(0.5) }}"
        )),
        ["rnnc::units::expected_time"]
    );
    assert_eq!(
        codes(&format!(
            "{INTEG}check n {{ simulate 1 s with u = sine(2 s) }}"
        )),
        ["rnnc::units::mismatch"]
    );
}

#[test]
fn overrides_reinstantiate_domains_and_init() {
    let sys = "system S(r = 1) { state x in radius r\n init x = 0.9\n dx/dt = -x }\n";
    assert!(codes(&format!("{sys}network a for S(r = 2) {{ neurons = 5 }}")).is_empty());
    assert_eq!(
        codes(&format!("{sys}network a for S(r = 0.5) {{ neurons = 5 }}")),
        ["rnnc::system::init_outside"]
    );
    assert_eq!(
        codes(&format!("{sys}network a for S(r = 2 s) {{ neurons = 5 }}")),
        ["rnnc::units::mismatch"]
    );
}

#[test]
fn defaults_fill_every_option() {
    let a = analyze("system D { state x in [-1.5, 1.5]\n dx/dt = x - x^3 }\nnetwork r for D { method = reservoir(mode = compile)\n neurons = 100 }");
    let m = &a.program.networks[0].method;
    assert_eq!(m.call.options.len(), 12);
    let rnnc::decl::Method::Reservoir(r) = &m.kind else {
        panic!("a reservoir")
    };
    assert_eq!(r.washout, 10.0);
    assert_eq!(r.mode, rnnc::decl::ReservoirMode::Compile);
    assert_eq!(r.starts, 4);
}

#[test]
fn percent_is_exact() {
    let a = analyze(&format!("{INTEG}check n {{ expect density <= 70% }}"));
    assert!(a.diagnostics.is_empty());
    let rnnc::sema::CheckStep::Expect { expr, .. } = &a.program.checks[0].steps[0] else {
        panic!()
    };
    let rnnc::sema::hir::HKind::Binary(_, _, rhs) = &expr.kind else {
        panic!()
    };
    assert_eq!(rhs.kind, rnnc::sema::hir::HKind::Num(0.7));
}
