//! Sizes from input are priced before they are allocated (src/budget.rs): a network, a run or a
//! trial set over the memory budget or the step limit is an `rnnc::limits::too_large` error,
//! next to the same program at a size that runs.

use rnnc::driver;
use rnnc::sema::Analysis;
use rnnc::source::{MemLoader, SourceDb};

fn analyze(src: &str) -> Analysis {
    let mut db = SourceDb::new();
    driver::analyze_text(&mut db, &MemLoader::default(), "t.rnn", src)
}

fn program(network: &str, check: &str) -> String {
    format!(
        "system S {{\n input u in [-1, 1]\n state x in [-1, 1]\n dx/dt = u - x\n}}\n\
         network n for S {{ {network} }}\ncheck n {{\n {check}\n expect nrmse < 5%\n}}\n"
    )
}

const TOO_LARGE: &str = "rnnc::limits::too_large";

#[test]
fn a_network_over_the_memory_budget_is_refused_before_allocating() {
    // 10^9 neurons: three dense N x N matrices would be 2.4e19 bytes; no budget covers it.
    let a = analyze(&program(
        "neurons = 1e9; seed = 1",
        "simulate 1 s with u = 0.5",
    ));
    assert!(!a.has_errors());
    let e = rnnc::methods::build(&a.program, 0).err().expect("refused");
    assert_eq!(e.code.name, TOO_LARGE);
    assert!(
        e.message
            .starts_with("building network `n` (1000000000 neurons, `nef`) needs about 2.4e7 TB"),
        "{}",
        e.message
    );
    // The same network at 20 neurons builds.
    let a = analyze(&program(
        "neurons = 20; seed = 1",
        "simulate 1 s with u = 0.5",
    ));
    assert!(rnnc::methods::build(&a.program, 0).is_ok());
}

#[test]
fn a_run_over_the_step_limit_is_an_error_on_its_check_lines() {
    let run = |secs: &str| {
        let a = analyze(&program(
            "neurons = 20; seed = 1",
            &format!("simulate {secs} with u = 0.5"),
        ));
        assert!(!a.has_errors());
        let net = rnnc::methods::build(&a.program, 0).ok().unwrap().net;
        rnnc::check::run(&a.program, &a.program.checks[0], &net)
    };
    // 10^12 steps of 1 ms: refused without allocating, with the budget's code and help.
    let r = run("1e9 s");
    let d = r.lines[0].diagnostic.as_ref().expect("an error");
    assert_eq!(d.code.name, TOO_LARGE);
    assert!(
        d.message.contains(
            "a `simulate` of 1e9 s at dt = 0.001 s takes 1.0e12 steps, over the limit of 1e9"
        ),
        "{}",
        d.message
    );
    assert_eq!(r.lines[0].pass, None);
    // One second runs and is judged.
    let r = run("1 s");
    assert_eq!(r.lines[0].pass, Some(true), "{:?}", r.lines[0]);
}

#[test]
fn a_tiny_dt_is_refused_by_the_front_end() {
    let codes = |dt: &str| -> Vec<&str> {
        analyze(&program(
            &format!("neurons = 20; dt = {dt}"),
            "simulate 1 s with u = 0.5",
        ))
        .diagnostics
        .iter()
        .map(|d| d.code.name)
        .collect()
    };
    assert_eq!(codes("1e-300 s"), [TOO_LARGE]);
    // 10^6 steps per tau = 100 ms is the limit: 100 ns is allowed, 10 ns is not.
    assert!(codes("0.1 us").is_empty(), "{:?}", codes("0.1 us"));
    assert_eq!(codes("0.01 us"), [TOO_LARGE]);
    // Not a positive finite time at all.
    assert_eq!(codes("1e400 s"), ["rnnc::expr::invalid_value"]);
}

#[test]
fn a_trial_set_over_the_budget_is_refused_before_it_is_drawn() {
    let task = |trials: &str, period: &str| {
        format!(
            "task T {{\n input a\n output y\n trials {trials}\n trial {{\n  \
             period go {period} {{ a = 1; expect y = 1 within 0.5 }}\n }}\n}}\n\
             network n for T {{ neurons = 20 }}\n"
        )
    };
    let generate = |src: &str| {
        let a = analyze(src);
        assert!(!a.has_errors(), "{:?}", a.diagnostics);
        rnnc::task::generate(&a.program.tasks[0], 1e-3, 1, "check trials")
    };
    let e = generate(&task("1e9", "100 ms")).err().unwrap();
    assert!(
        e.contains("task `T` (1e9 trials, 1e9 steps) needs about"),
        "{e}"
    );
    let e = generate(&task("1", "1e9 s")).err().unwrap();
    assert!(
        e.contains("takes 1.0e12 steps, over the limit of 1e9"),
        "{e}"
    );
    assert_eq!(generate(&task("3", "100 ms")).unwrap().trials.len(), 3);
}

#[test]
fn a_weight_file_with_an_almost_frozen_unit_is_refused_by_check() {
    let a = analyze(&program(
        "neurons = 20; seed = 1",
        "simulate 1 s with u = 0.5",
    ));
    let mut net = rnnc::methods::build(&a.program, 0).ok().unwrap().net;
    // alpha = 1e-12: 20 time constants of this unit are 2e13 steps.
    net.alpha[3] = 1e-12;
    let r = rnnc::check::run(&a.program, &a.program.checks[0], &net);
    let d = r.lines[0].diagnostic.as_ref().expect("an error");
    assert_eq!(d.code.name, TOO_LARGE);
    assert!(
        d.message
            .contains("alpha = 1.0e-12 gives 1.0e12 steps per time constant"),
        "{}",
        d.message
    );
    // alpha = 1e-3 (a 1 s unit) is slow but fine.
    net.alpha[3] = 1e-3;
    let r = rnnc::check::run(&a.program, &a.program.checks[0], &net);
    assert!(r.lines[0].pass.is_some(), "{:?}", r.lines[0]);
}

/// `rnnc run` streams a system's trace: the streamed rows are the held trace's, and the
/// online NRMSE is the two-pass one.
#[test]
fn a_streamed_run_equals_the_held_one() {
    let a = analyze(&program(
        "neurons = 40; seed = 1",
        "simulate 1 s with u = 0.5 * sin(6 * t)",
    ));
    let net = rnnc::methods::build(&a.program, 0).ok().unwrap().net;
    let rnnc::sema::model::CheckStep::Simulate(sim) = &a.program.checks[0].steps[0] else {
        panic!("a simulate step");
    };
    let rnnc::sema::model::Target::System(inst) = &a.program.networks[0].target else {
        panic!("a system");
    };
    let lat = rnnc::latent::Latent::new(&a.program.systems[inst.system], inst).unwrap();
    let (held, reference) = rnnc::trace::simulate(&net, &lat, sim, 1).unwrap();
    let cols = rnnc::trace::columns(&net, &lat);
    let x = cols.iter().position(|c| c == "x").unwrap();
    let (mut rows, mut refs) = (Vec::new(), Vec::new());
    let mut online = rnnc::trace::OnlineNrmse::default();
    rnnc::trace::simulate_stream(&net, &lat, sim, 1, &mut |a, b| {
        rows.extend_from_slice(a);
        refs.extend_from_slice(b);
        online.push(&[a[x]], &[b[x]]);
    })
    .unwrap();
    assert_eq!(rows, held.data);
    assert_eq!(refs, reference.data);
    let two_pass = rnnc::trace::nrmse(&held, &reference, &["x".to_string()], 0).unwrap();
    let streamed = online.value().unwrap();
    assert!(two_pass > 1e-4, "{two_pass}");
    assert!(
        (streamed - two_pass).abs() < 1e-12 * two_pass,
        "{streamed} vs {two_pass}"
    );
}
