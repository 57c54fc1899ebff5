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

const ROTOR: &str = "system R {\n state q[2] in radius 1\n state x in [-1, 1]\n \
     dq/dt = [[0, -6], [6, 0]] @ q\n dx/dt = -x\n output phase = atan2(q[1], q[0])\n \
     output v = q\n}\nnetwork n for R { neurons = 10 }\n";

/// The readout components an `nrmse` argument names, as the program binds them.
fn nrmse_components(arg: &str) -> Result<(String, Vec<usize>), Vec<&'static str>> {
    let a = analyze(&format!("{ROTOR}check n {{ expect nrmse({arg}) < 5% }}"));
    if !a.diagnostics.is_empty() {
        return Err(a.diagnostics.iter().map(|d| d.code.name).collect());
    }
    let rnnc::sema::model::CheckStep::Expect { expr, .. } = &a.program.checks[0].steps[0] else {
        panic!("an expect");
    };
    let rnnc::sema::hir::HKind::Binary(_, m, _) = &expr.kind else {
        panic!("a comparison");
    };
    match &m.kind {
        rnnc::sema::hir::HKind::Metric(rnnc::decl::Metric::Nrmse(n)) => {
            let c = n.output.clone().expect("an argument");
            Ok((c.text, c.index))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn metric_arguments_name_states_and_outputs_as_the_program_declares_them() {
    // Readout: q[0], q[1], x (states), then phase, v[0], v[1] (outputs). Indices from 0.
    assert_eq!(nrmse_components("q"), Ok(("q".into(), vec![0, 1])));
    assert_eq!(nrmse_components("q[1]"), Ok(("q[1]".into(), vec![1])));
    assert_eq!(nrmse_components("x"), Ok(("x".into(), vec![2])));
    assert_eq!(nrmse_components("phase"), Ok(("phase".into(), vec![3])));
    assert_eq!(nrmse_components("v[0]"), Ok(("v[0]".into(), vec![4])));
    assert_eq!(
        nrmse_components("[x, q[0]]"),
        Ok(("[x, q[0]]".into(), vec![2, 0]))
    );
    assert_eq!(nrmse_components("output = q"), Ok(("q".into(), vec![0, 1])));
    assert_eq!(nrmse_components("q[2]"), Err(vec!["rnnc::shape::index"]));
    assert_eq!(nrmse_components("x[0]"), Err(vec!["rnnc::shape::index"]));
    assert_eq!(nrmse_components("w"), Err(vec!["rnnc::name::unknown"]));
    assert_eq!(
        nrmse_components("[q, q[1]]"),
        Err(vec!["rnnc::call::bad_value"])
    );
    assert_eq!(
        nrmse_components("1 + 2"),
        Err(vec!["rnnc::call::bad_value"])
    );
    // A task network has no states to name.
    let task = "task T { input c\n output y\n trial { period a 10 ms { c = 1; expect y = 1 within 0.1 } } }\n\
        network tn for T { neurons = 10 }\ncheck tn { expect nrmse(y) < 5% }\n";
    assert_eq!(codes(task), ["rnnc::call::bad_value"]);
}

/// Codes and suggested replacements of `expect LINE` on the integrator.
fn fixes(line: &str) -> Vec<(&'static str, Option<String>)> {
    let src = format!("{INTEG}task Tk {{ input u\n output x\n trial {{ period a 10 ms {{ u = 1; expect x = 1 within 0.1 }} }} }}\nnetwork tn for Tk {{ neurons = 10 }}\ncheck n {{ {line} }}\n");
    let a = analyze(&src);
    a.diagnostics
        .iter()
        .map(|d| {
            let fixed = d.suggestion.as_ref().map(|s| {
                let mut text = src.clone();
                text.replace_range(s.span.range(), &s.replacement);
                text
            });
            (d.code.name, fixed)
        })
        .collect()
}

#[test]
fn a_bare_number_of_one_or_more_on_a_fraction_metric_is_a_warning_with_its_fix() {
    // `nrmse < 5` means 500 %: warned, and the suggestion is `5%`.
    let got = fixes("expect nrmse < 5");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "rnnc::check::bare_fraction");
    let fixed = got[0].1.clone().expect("a replacement");
    assert!(fixed.contains("expect nrmse < 5%"), "{fixed}");
    let a = analyze(&fixed);
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    // Either side, inside `and`, on every fraction metric.
    assert_eq!(
        fixes("expect 10 > nrmse")[0].0,
        "rnnc::check::bare_fraction"
    );
    assert_eq!(
        fixes("expect drift < 1 and density <= 25")[0].0,
        "rnnc::check::bare_fraction"
    );
    assert_eq!(
        fixes("expect nrmse(x) < 2.5")[0].0,
        "rnnc::check::bare_fraction"
    );
    // Exactly 1: ambiguous (1 % or the whole), so a warning without a machine fix.
    let one = fixes("expect nrmse < 1");
    assert_eq!(one, [("rnnc::check::bare_fraction", None)]);
    // A bare fraction below 1 and a percentage are what they say; other metrics are not
    // fractions.
    for quiet in [
        "expect nrmse < 0.05",
        "expect nrmse < 5%",
        "expect density <= 100%",
        "expect drift < 5",
        "expect spectral_radius < 1.5",
        "expect fixed_points == 3",
    ] {
        assert!(fixes(quiet).is_empty(), "{quiet}: {:?}", fixes(quiet));
    }
}
