//! The task engine: trials from `task` definitions (LANGUAGE.md section 4) and
//! `accuracy(Task)` (CHECKS.md) on networks whose behaviour is known by construction.

use faer::Mat;
use rnnc::driver;
use rnnc::net::{Form, Meta, Net, Phi, Recurrent};
use rnnc::progress::Silent;
use rnnc::sema::model::Program;
use rnnc::source::{FsLoader, SourceDb};
use rnnc::task::{self, Kind};

fn program(src: &str) -> Program {
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "t.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    a.program
}

fn stdlib_task(name: &str) -> (Program, usize) {
    let p = program("import std.tasks\n");
    let i = p.tasks.iter().position(|t| t.name == name).unwrap();
    (p, i)
}

/// A one-unit network in current form: `x' = (1 - a) x + a (w phi(x) + W_in u + b)`,
/// read out as `y = c phi(x)`.
fn unit(phi: Phi, w: f64, w_in: &[f64], c: f64, alpha: f64, inputs: &[&str], output: &str) -> Net {
    Net {
        form: Form::Current,
        phi,
        dt: 1e-3,
        w_rec: Recurrent::Dense(Mat::from_fn(1, 1, |_, _| w)),
        w_in: Mat::from_fn(1, w_in.len(), |_, j| w_in[j]),
        b_rec: vec![0.0],
        w_out: Mat::from_fn(1, 1, |_, _| c),
        b_out: vec![0.0],
        enc: None,
        alpha: vec![alpha],
        init_state: vec![0.0],
        gain_input: None,
        feedback: None,
        dale_sign: None,
        positions: None,
        meta: Meta {
            network: "unit".into(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: vec![output.to_string()],
            ..Meta::default()
        },
        engine: None,
    }
}

#[test]
fn flipflop_trials_are_laid_out_in_steps() {
    let (p, i) = stdlib_task("FlipFlop");
    let t = task::generate(&p.tasks[i], 1e-3, 1, "test").unwrap();
    assert_eq!(t.inputs, ["set", "reset"]);
    assert_eq!(t.outputs, ["y"]);
    assert_eq!(t.trials.len(), 2);
    let set = &t.trials[0];
    assert_eq!(set.name, "remember_set");
    assert_eq!(set.steps, 650);
    assert_eq!(
        set.periods,
        [
            ("quiet".to_string(), 0, 100),
            ("pulse".to_string(), 100, 150),
            ("hold".to_string(), 150, 650)
        ]
    );
    // `set` is 1 exactly on the pulse's steps; `reset` never.
    for k in 0..650 {
        let on = (100..150).contains(&k);
        assert_eq!(set.inputs[2 * k], if on { 1.0 } else { 0.0 }, "step {k}");
        assert_eq!(set.inputs[2 * k + 1], 0.0);
    }
    // `expect y = 1 within 0.2 after 50 ms` over the hold period's steps 200..650.
    let r = &set.rules[0];
    assert_eq!((r.start, r.end, r.kind), (200, 650, Kind::Within(0.2)));
    assert!(r.target.iter().all(|&v| v == 1.0));
    let (target, mask) = t.targets(1);
    assert_eq!(mask.iter().filter(|&&m| m == 1.0).count(), 500 - 50);
    assert_eq!(target[549], -1.0);
    assert_eq!(target[99], 0.0);
}

#[test]
fn conditions_draws_and_noise_follow_the_task() {
    let (p, i) = stdlib_task("PerceptualDecision");
    let t = task::generate(&p.tasks[i], 1e-3, 7, "test").unwrap();
    // 6 coherences x 8 trials each; the last `vary` is the slowest to repeat.
    assert_eq!(t.trials.len(), 48);
    assert_eq!(t.locals, ["coh", "delay"]);
    for (n, tr) in t.trials.iter().enumerate() {
        assert_eq!(tr.values[0], [-0.5, -0.2, -0.05, 0.05, 0.2, 0.5][n / 8]);
        let delay = tr.values[1];
        assert!((0.2..=0.6).contains(&delay), "{delay}");
        let (_, start, end) = &tr.periods[2];
        assert_eq!(end - start, (delay / 1e-3).round() as usize);
        assert_eq!(tr.steps, 300 + 750 + (end - start) + 300);
    }
    // Draws differ between trials, and the same seed and stream give the same trials.
    assert_ne!(t.trials[0].values[1], t.trials[1].values[1]);
    assert_eq!(t, task::generate(&p.tasks[i], 1e-3, 7, "test").unwrap());
    assert_ne!(t, task::generate(&p.tasks[i], 1e-3, 7, "other").unwrap());
    // `stim = coh + noise(0.3)`: fresh N(0, 0.3^2) per step around the coherence.
    let mut dev = Vec::new();
    for tr in &t.trials {
        let (_, start, end) = &tr.periods[1];
        dev.extend((*start..*end).map(|k| tr.inputs[2 * k] - tr.values[0]));
        assert!(tr.inputs[2 * start - 2] == 0.0 && tr.inputs[2 * start - 1] == 1.0);
    }
    let mean = dev.iter().sum::<f64>() / dev.len() as f64;
    let sd = (dev.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / dev.len() as f64).sqrt();
    assert!(mean.abs() < 0.01 && (sd - 0.3).abs() < 0.01, "{mean} {sd}");
    // The choice target is sign(coh) on the decide period.
    for tr in &t.trials {
        assert!(tr.rules[0]
            .target
            .iter()
            .all(|&v| v == tr.values[0].signum()));
    }
}

#[test]
fn durations_round_to_the_step_and_zero_steps_is_an_error() {
    let src = "task T {\n input u\n output y\n trial {\n period a 2.5 ms { u = t }\n period b 1 ms { expect y > 0 }\n }\n}\n";
    let p = program(src);
    let t = task::generate(&p.tasks[0], 1e-3, 1, "test").unwrap();
    // 2.5 steps round away from zero to 3; `t` is time since the period began, sampled at
    // each step's midpoint.
    assert_eq!(t.trials[0].periods[0], ("a".to_string(), 0, 3));
    let u: Vec<f64> = (0..3).map(|k| t.trials[0].inputs[k]).collect();
    assert!(
        u.iter()
            .zip([0.5e-3, 1.5e-3, 2.5e-3])
            .all(|(a, b)| (a - b).abs() < 1e-15),
        "{u:?}"
    );
    let e = task::generate(&p.tasks[0], 1e-2, 1, "test").unwrap_err();
    assert!(e.contains("period `a` lasts"), "{e}");
}

#[test]
fn a_bistable_unit_solves_flipflop_and_a_leaky_one_does_not() {
    let (p, i) = stdlib_task("FlipFlop");
    let t = task::generate(&p.tasks[i], 1e-3, 1, "test").unwrap();
    // w = 2: fixed points at x = +-1.915 (tanh = +-0.957); the readout scales that to +-1.
    let c = 1.0 / 1.915_f64.tanh();
    let good = unit(
        Phi::Tanh,
        2.0,
        &[10.0, -10.0],
        c,
        0.1,
        &["set", "reset"],
        "y",
    );
    let (acc, failure) = task::accuracy(&good, &t, &Silent).unwrap();
    assert_eq!((acc, failure), (1.0, None));
    // w = 0.5: one fixed point at 0, the bit decays within tens of ms.
    let leaky = unit(
        Phi::Tanh,
        0.5,
        &[10.0, -10.0],
        c,
        0.1,
        &["set", "reset"],
        "y",
    );
    let (acc, failure) = task::accuracy(&leaky, &t, &Silent).unwrap();
    assert_eq!(acc, 0.0);
    // The earliest violation over both trials: the reset bit decays below -0.8 first.
    let f = failure.unwrap().to_string();
    assert!(
        f.contains("trial `remember_reset` (2 of 2)") && f.contains("period `hold`"),
        "{f}"
    );
    // The inputs are matched by name, not position: swapped names flip every bit.
    let swapped = unit(
        Phi::Tanh,
        2.0,
        &[10.0, -10.0],
        c,
        0.1,
        &["reset", "set"],
        "y",
    );
    assert_eq!(task::accuracy(&swapped, &t, &Silent).unwrap().0, 0.0);
    // A network without the task's channels is an error that names them.
    let other = unit(Phi::Tanh, 2.0, &[10.0, -10.0], c, 0.1, &["set", "go"], "y");
    let e = task::accuracy(&other, &t, &Silent).unwrap_err();
    assert!(
        e.contains("input `reset`") && e.contains("its inputs: set, go"),
        "{e}"
    );
}

#[test]
fn a_line_attractor_recalls_every_drawn_value() {
    // DelayedRecall: a cue held for 200 ms, a 0.5-1.5 s delay, report within 0.15.
    // An exact integrator of the cue (linear unit, w = 1) with gain 1/(a 200 steps) recalls
    // the value exactly; a leak of 1 % per step loses it.
    let (p, i) = stdlib_task("DelayedRecall");
    let t = task::generate(&p.tasks[i], 1e-3, 3, "test").unwrap();
    assert_eq!(t.trials.len(), 32);
    let a = 0.1;
    let g = 1.0 / (a * 200.0);
    let ideal = unit(
        Phi::Linear,
        1.0,
        &[g, 0.0],
        1.0,
        a,
        &["cue", "go"],
        "recall",
    );
    assert_eq!(task::accuracy(&ideal, &t, &Silent).unwrap().0, 1.0);
    let leaky = unit(
        Phi::Linear,
        0.9,
        &[g, 0.0],
        1.0,
        a,
        &["cue", "go"],
        "recall",
    );
    let (acc, _) = task::accuracy(&leaky, &t, &Silent).unwrap();
    // Only values close to 0 survive the decay (|value| e^(-delay / 100 ms) within 0.15).
    let expected = t
        .trials
        .iter()
        .filter(|tr| tr.values[0].abs() <= 0.15)
        .count() as f64
        / 32.0;
    assert!(acc <= expected + 1e-12 && acc < 0.3, "{acc} {expected}");
}

#[test]
fn sign_rules_are_checked() {
    // GoNoGo's respond period: `action > 0 after 50 ms` on go trials, `< 0` on no-go.
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/go_nogo.rnn"))
        .unwrap();
    let p = program(&src);
    let t = task::generate(&p.tasks[0], 1e-3, 1, "test").unwrap();
    assert_eq!(t.trials.len(), 16);
    // The cue integrated and held with gain 1/(a 200 steps), clipped by tanh at +-1: go
    // trials reach contrast in [0.7, 1], which `within 0.3` of 1 accepts.
    let a = 0.1;
    let g = 1.0 / (a * 200.0);
    let net = unit(Phi::Linear, 1.0, &[g], 1.0, a, &["cue"], "action");
    let (acc, failure) = task::accuracy(&net, &t, &Silent).unwrap();
    assert_eq!(acc, 1.0, "{failure:?}");
    // With the readout's sign flipped every trial breaks a sign rule first.
    let flipped = unit(Phi::Linear, 1.0, &[g], -1.0, a, &["cue"], "action");
    let (acc, failure) = task::accuracy(&flipped, &t, &Silent).unwrap();
    assert_eq!(acc, 0.0);
    assert!(failure.unwrap().to_string().contains("expected > 0"));
}

#[test]
fn readout_after_the_update_shifts_outputs_by_one_step() {
    // A copy task: y must equal u on every step of a 5-step period. A unit with alpha = 1
    // and x' = u holds u only after the update that reads it: it fails read before (y = 0
    // on the first step) and passes read after, PsychRNN's timing.
    let p = program(
        "task Copy {\n input u\n output y\n trial {\n period a 5 ms { u = 1; expect y = 1 within 0.01 }\n }\n}\n",
    );
    let t = task::generate(&p.tasks[0], 1e-3, 1, "test").unwrap();
    let mut net = unit(Phi::Linear, 0.0, &[1.0], 1.0, 1.0, &["u"], "y");
    let (acc, failure) = task::accuracy(&net, &t, &Silent).unwrap();
    assert_eq!(acc, 0.0);
    assert!(failure.unwrap().to_string().contains("at 0.000 s"));
    net.meta.readout_after = true;
    assert_eq!(task::accuracy(&net, &t, &Silent).unwrap(), (1.0, None));
}

#[test]
fn the_reported_failure_is_the_earliest_in_time_with_its_condition_and_channel() {
    // y stays 0. Trial 1 (level 0.25) first breaks `y > 1 after 5 ms` at 5 ms; trial 2
    // (level 0.5) breaks `y = level within 0.3`, the second rule in program order, at 0 ms.
    // The report is trial 2 at 0 ms (the earliest in time over the check), not trial 1's
    // first rule; the trial is unnamed, so its condition is its `vary` value.
    let p = program(
        "task Two {\n input u\n output y\n vary level in [0.25, 0.5]\n trial {\n \
         period a 10 ms { u = level; expect y > 1 after 5 ms; expect y = level within 0.3 }\n \
         period b 10 ms { expect y > 1 }\n }\n}\n",
    );
    let t = task::generate(&p.tasks[0], 1e-3, 1, "test").unwrap();
    let net = unit(Phi::Linear, 0.0, &[0.0], 1.0, 0.5, &["u"], "y");
    let (acc, failure) = task::accuracy(&net, &t, &Silent).unwrap();
    assert_eq!(acc, 0.0);
    let f = failure.expect("a failure");
    assert_eq!(
        (
            f.trial,
            f.name.as_deref(),
            f.values.clone(),
            f.output.as_str()
        ),
        (1, None, vec![("level".to_string(), 0.5)], "y")
    );
    assert_eq!((f.time, f.period.as_str(), f.target), (0.0, "a", 0.5));
    assert_eq!(f.kind, task::Kind::Within(0.3));
    assert_eq!(
        f.to_string(),
        "trial 2 of 2 (level = 0.5): `y` = 0.000 at 0.000 s (0.000 s into period `a`), \
         expected 0.500 within 0.3"
    );
    // Trial 1's own earliest violation: 5 ms into period `a`.
    let outcomes = task::score(&t, &task::run(&net, &t, &Silent).unwrap());
    let first = outcomes[0].failure.as_ref().expect("trial 1 fails");
    assert_eq!((first.trial, first.kind), (0, task::Kind::Above));
    assert!((first.time - 0.005).abs() < 1e-12, "{first}");
    // With y = 0.3 every rule of period `a` but the delayed one holds: each trial's earliest
    // violation is at 5 ms; the check reports the first trial.
    let net = unit(Phi::Linear, 0.0, &[0.0], 1.0, 0.5, &["u"], "y");
    let mut held = net.clone();
    held.b_out = vec![0.3];
    let (_, failure) = task::accuracy(&held, &t, &Silent).unwrap();
    let f = failure.expect("a failure");
    assert_eq!(f.trial, 0);
    assert!((f.time - 0.005).abs() < 1e-12, "{f}");
}

/// The build line's task figure: a driven reservoir's accuracy on its own training trials,
/// 100 % where the readout fits the task and 0 % where 30 units cannot hold a level to 0.001.
#[test]
fn a_task_build_reports_its_training_accuracy() {
    let hold = program(
        "task Hold {\n    input cue\n    output y\n    vary level in [0.25, 0.5]\n    trial {\n        period show 50 ms { cue = level; expect y = level within 0.2 after 40 ms }\n        period hold 50 ms { expect y = level within 0.001 }\n    }\n}\nnetwork hold for Hold { neurons = 30 }\n",
    );
    let built = rnnc::methods::build(&hold, 0).unwrap();
    assert_eq!(built.figures.training_accuracy, Some(0.0));
    let go = program(
        "task Show {\n    input cue\n    output y\n    vary level in [0.25, 0.5]\n    trial {\n        period show 100 ms { cue = level; expect y = level within 0.2 after 80 ms }\n    }\n}\nnetwork show for Show { neurons = 200 }\n",
    );
    let built = rnnc::methods::build(&go, 0).unwrap();
    assert_eq!(built.figures.training_accuracy, Some(1.0));
}
