//! The task engine: a `task` turned into trials of numbers, run through a network, and scored
//! (LANGUAGE.md section 4, CHECKS.md `accuracy(Task)`).
//!
//! [`generate`] expands the trial set (named trials x `vary` product x `trials n`), draws each
//! trial's `draw`s and random durations from one seeded stream, rounds every period to whole
//! steps of the network's `dt`, and samples the inputs (held midpoint samples, as in a
//! `simulate`; `t` is time since the period began) with their noise. Each `expect` becomes a
//! [`Rule`] over a range of steps with its target sampled at the step start, because the
//! output of step k is read before the k-th update. [`run`] drives a network with every trial
//! (batched, the weights read once per step for all trials of a batch) and [`score`] says which
//! trials hold every rule. No IO here.

use crate::flat::{self, Code, Noise, Source};
use crate::net::Net;
use crate::rng::Rng;
use crate::sema::hir::{HExpr, Var};
use crate::sema::model::{Dist, Duration, LocalKind, Rule as SemaRule, Task};
use crate::trace::Trace;
use faer::Mat;

/// What an expectation asks of an output over its steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// `|out - target| <= tol` (largest component for a vector output).
    Within(f64),
    /// `out > target` (every component).
    Above,
    /// `out < target`.
    Below,
}

/// One `expect` of one trial, in steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The output channel's first component among the task's output components.
    pub output: usize,
    pub width: usize,
    pub kind: Kind,
    /// Steps `start..end` of the trial.
    pub start: usize,
    pub end: usize,
    /// The target per step, `(end - start) x width`, row-major.
    pub target: Vec<f64>,
    /// The period it belongs to, and the step where that period starts.
    pub period: String,
    pub period_start: usize,
}

/// One trial in numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// The trial's name (`trial` when unnamed).
    pub name: String,
    /// Whether the program names it (`trial remember_set { ... }`).
    pub named: bool,
    /// The value of each `vary`/`draw` local, in declaration order.
    pub values: Vec<f64>,
    /// Each period's name and steps `start..end`.
    pub periods: Vec<(String, usize, usize)>,
    pub steps: usize,
    /// `steps x k`, row-major: the input held over each step.
    pub inputs: Vec<f64>,
    pub rules: Vec<Rule>,
}

/// A task's trial set.
#[derive(Clone, Debug, PartialEq)]
pub struct Trials {
    pub task: String,
    pub dt: f64,
    /// Input and output component names (`u`, `v[0]`, ...).
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    /// Names of the `vary` and `draw` locals.
    pub locals: Vec<String>,
    pub trials: Vec<Trial>,
}

impl Trials {
    /// The targets of the `=` rules and where they apply, `steps x m` each (targets 0 where
    /// the mask is 0). Sign rules are checked but never trained on (LANGUAGE.md's GoNoGo).
    pub fn targets(&self, trial: usize) -> (Vec<f64>, Vec<f64>) {
        let tr = &self.trials[trial];
        let m = self.outputs.len();
        let mut target = vec![0.0; tr.steps * m];
        let mut mask = vec![0.0; tr.steps * m];
        for r in &tr.rules {
            if !matches!(r.kind, Kind::Within(_)) {
                continue;
            }
            for k in r.start..r.end {
                for c in 0..r.width {
                    target[k * m + r.output + c] = r.target[(k - r.start) * r.width + c];
                    mask[k * m + r.output + c] = 1.0;
                }
            }
        }
        (target, mask)
    }

    pub fn max_steps(&self) -> usize {
        self.trials.iter().map(|t| t.steps).max().unwrap_or(0)
    }
}

fn offsets(channels: &[crate::sema::model::Channel]) -> Vec<usize> {
    let mut at = 0;
    channels
        .iter()
        .map(|c| {
            let o = at;
            at += c.len();
            o
        })
        .collect()
}

/// Compiles `e` with `t` in slot 0 and the locals in slots `1..`.
fn compile(task: &Task, e: &HExpr) -> Result<Code, String> {
    let env = |v: Var| match v {
        Var::Time => Some(Source::Slots(0)),
        Var::Local(i) => Some(Source::Slots(1 + i)),
        Var::Param(i) => task.params.get(i).map(|p| Source::Value(p.default.clone())),
        _ => None,
    };
    flat::compile(&[e], 1 + task.locals.len(), &env)
}

fn draw(rng: &mut Rng, d: &Dist) -> f64 {
    match d {
        Dist::Uniform(a, b) => rng.range(*a, *b),
        Dist::Normal(mu, sd) => mu + sd * rng.normal(),
        Dist::Exponential { mean, max } => {
            let x = -mean * (1.0 - rng.uniform()).ln();
            max.map_or(x, |m| x.min(m))
        }
        Dist::Choice(xs) => xs[rng.below(xs.len())],
    }
}

/// Evaluates compiled code at time `t` with the locals and noise values.
fn eval(code: &Code, t: f64, locals: &[f64], noise: &[f64], out: &mut [f64]) {
    let mut args = vec![0.0; code.n_inputs()];
    args[0] = t;
    args[1..1 + locals.len()].copy_from_slice(locals);
    args[code.noise_base..code.noise_base + noise.len()].copy_from_slice(noise);
    let mut regs = code.scratch();
    code.eval(&args, &mut regs, out);
}

/// The trial set of `task` at step `dt`, drawn from `Rng::new(seed, stream)`.
pub fn generate(task: &Task, dt: f64, seed: u64, stream: &str) -> Result<Trials, String> {
    let mut rng = Rng::new(seed, stream);
    let in_at = offsets(&task.inputs);
    let out_at = offsets(&task.outputs);
    let k: usize = task.inputs.iter().map(|c| c.len()).sum();
    // Conditions: the product of the `vary` lists, the last one fastest.
    let varies: Vec<(usize, &Vec<f64>)> = task
        .locals
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match &l.kind {
            LocalKind::Vary(v) => Some((i, v)),
            LocalKind::Draw(_) => None,
        })
        .collect();
    let n_conditions: usize = varies.iter().map(|(_, v)| v.len()).product();
    if n_conditions == 0 {
        return Err(format!("task `{}`: a `vary` list is empty", task.name));
    }
    // Every expression compiled once.
    struct PeriodCode {
        duration: Option<Code>,
        assigns: Vec<(usize, usize, Code)>,
        expects: Vec<(usize, usize, Code)>,
    }
    let mut codes: Vec<Vec<PeriodCode>> = Vec::new();
    for trial in &task.trials {
        let mut pcs = Vec::new();
        for p in &trial.periods {
            let duration = match &p.duration {
                Duration::Expr(h) => Some(compile(task, h)?),
                Duration::Dist(_) => None,
            };
            let mut assigns = Vec::new();
            for (c, e) in &p.assigns {
                assigns.push((in_at[*c], task.inputs[*c].len(), compile(task, e)?));
            }
            let mut expects = Vec::new();
            for x in &p.expects {
                let e = match &x.rule {
                    SemaRule::Within { target, .. } => target,
                    SemaRule::Above(e) | SemaRule::Below(e) => e,
                };
                expects.push((
                    out_at[x.output],
                    task.outputs[x.output].len(),
                    compile(task, e)?,
                ));
            }
            pcs.push(PeriodCode {
                duration,
                assigns,
                expects,
            });
        }
        codes.push(pcs);
    }

    // Every trial holds at least one step of inputs and targets: price the count first, then
    // the steps as the periods' durations are drawn.
    let m: usize = task.outputs.iter().map(|c| c.len()).sum();
    let per_step = crate::budget::f64s((k + 2 * m + 1) as f64);
    let count = task.trials.len() as f64 * n_conditions as f64 * task.repeats as f64;
    let what = |steps: f64| {
        move || {
            use crate::budget::num;
            format!(
                "task `{}` ({} trials, {} steps)",
                task.name,
                num(count),
                num(steps)
            )
        }
    };
    crate::budget::claim(count * per_step, what(count)).map_err(|e| e.to_string())?;
    let mut total = 0.0;
    let mut trials = Vec::new();
    for (ti, trial) in task.trials.iter().enumerate() {
        let name = trial.name.clone().unwrap_or_else(|| "trial".into());
        for cond in 0..n_conditions {
            for _ in 0..task.repeats {
                let mut values = vec![0.0; task.locals.len()];
                let mut rest = cond;
                for (i, v) in varies.iter().rev() {
                    values[*i] = v[rest % v.len()];
                    rest /= v.len();
                }
                for (i, l) in task.locals.iter().enumerate() {
                    if let LocalKind::Draw(d) = &l.kind {
                        values[i] = draw(&mut rng, d);
                    }
                }
                // Period boundaries.
                let mut periods = Vec::new();
                let mut at = 0;
                for (p, pc) in trial.periods.iter().zip(&codes[ti]) {
                    let secs = match (&p.duration, &pc.duration) {
                        (Duration::Dist(d), _) => draw(&mut rng, d),
                        (_, Some(code)) => {
                            let mut v = [0.0];
                            eval(code, 0.0, &values, &[], &mut v);
                            v[0]
                        }
                        (Duration::Expr(_), None) => unreachable!("compiled above"),
                    };
                    if !secs.is_finite() {
                        return Err(format!(
                            "task `{}`, trial `{name}`: period `{}` has no finite duration",
                            task.name, p.name
                        ));
                    }
                    let steps = crate::time::steps(secs, dt);
                    if steps < 1 {
                        return Err(format!(
                            "task `{}`, trial `{name}`: period `{}` lasts {secs} s, less than \
                             half a step of {dt} s",
                            task.name, p.name
                        ));
                    }
                    periods.push((p.name.clone(), at, at + steps));
                    at += steps;
                }
                let steps = at;
                total += steps as f64;
                crate::budget::steps(total, what(total)).map_err(|e| e.to_string())?;
                crate::budget::claim(total * per_step, what(total)).map_err(|e| e.to_string())?;
                // Inputs, sampled at each step's midpoint, with their noise.
                let mut inputs = vec![0.0; steps * k];
                let mut rules = Vec::new();
                for ((p, pc), &(_, start, end)) in
                    trial.periods.iter().zip(&codes[ti]).zip(&periods)
                {
                    for (base, width, code) in &pc.assigns {
                        let mut noise: Vec<f64> = code.noise.iter().map(|_| rng.normal()).collect();
                        let mut out = vec![0.0; code.n_outputs()];
                        for step in start..end {
                            if step > start {
                                for (s, kind) in noise.iter_mut().zip(&code.noise) {
                                    let g = rng.normal();
                                    *s = match *kind {
                                        Noise::White => g,
                                        Noise::Smooth(fc) => {
                                            let a = (-2.0 * std::f64::consts::PI * fc * dt).exp();
                                            a * *s + (1.0 - a * a).sqrt() * g
                                        }
                                    };
                                }
                            }
                            let t = (step - start) as f64 * dt + 0.5 * dt;
                            eval(code, t, &values, &noise, &mut out);
                            for c in 0..*width {
                                inputs[step * k + base + c] =
                                    out[if out.len() == 1 { 0 } else { c }];
                            }
                        }
                    }
                    for (x, (base, width, code)) in p.expects.iter().zip(&pc.expects) {
                        let first = start + crate::time::steps_at_least(x.after, dt);
                        let first = first.min(end);
                        let mut target = Vec::with_capacity((end - first) * width);
                        let mut out = vec![0.0; code.n_outputs()];
                        for step in first..end {
                            let t = (step - start) as f64 * dt;
                            eval(code, t, &values, &[], &mut out);
                            for c in 0..*width {
                                target.push(out[if out.len() == 1 { 0 } else { c }]);
                            }
                        }
                        let kind = match &x.rule {
                            SemaRule::Within { tol, .. } => Kind::Within(*tol),
                            SemaRule::Above(_) => Kind::Above,
                            SemaRule::Below(_) => Kind::Below,
                        };
                        rules.push(Rule {
                            output: *base,
                            width: *width,
                            kind,
                            start: first,
                            end,
                            target,
                            period: p.name.clone(),
                            period_start: start,
                        });
                    }
                }
                trials.push(Trial {
                    name: name.clone(),
                    named: trial.name.is_some(),
                    values,
                    periods,
                    steps,
                    inputs,
                    rules,
                });
            }
        }
    }
    Ok(Trials {
        task: task.name.clone(),
        dt,
        inputs: task.input_names(),
        outputs: task.output_names(),
        locals: task.locals.iter().map(|l| l.name.clone()).collect(),
        trials,
    })
}

/// Where the task's channels are in the network: input columns and readout rows, by name
/// (the network's readout rows are its latent states, then its outputs).
pub fn channels(net: &Net, trials: &Trials) -> Result<(Vec<usize>, Vec<usize>), String> {
    let inputs = trials
        .inputs
        .iter()
        .map(|name| {
            net.meta.inputs.iter().position(|n| n == name).ok_or_else(|| {
                format!(
                    "task `{}` has the input `{name}`, which network `{}` does not have (its inputs: {})",
                    trials.task,
                    net.meta.network,
                    list(&net.meta.inputs)
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let readout: Vec<&String> = net.meta.states.iter().chain(&net.meta.outputs).collect();
    let outputs = trials
        .outputs
        .iter()
        .map(|name| {
            readout.iter().position(|n| *n == name).ok_or_else(|| {
                format!(
                    "task `{}` has the output `{name}`, which network `{}` does not read out (its readout: {})",
                    trials.task,
                    net.meta.network,
                    list(&readout.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((inputs, outputs))
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Trials per batch: each batch reads the weights once per step.
const BATCH: usize = 64;

/// Runs every trial from the network's `init_state`; per trial the task outputs, `steps x m`
/// row-major, read before each update (after it for a network with `readout_after`).
pub fn run(
    net: &Net,
    trials: &Trials,
    progress: &dyn crate::progress::Progress,
) -> Result<Vec<Vec<f64>>, String> {
    let (in_cols, out_rows) = channels(net, trials)?;
    let _bar = crate::progress::start(progress, "task trials", trials.trials.len() as u64);
    let (k, m) = (trials.inputs.len(), trials.outputs.len());
    let mut outputs: Vec<Vec<f64>> = trials
        .trials
        .iter()
        .map(|t| vec![0.0; t.steps * m])
        .collect();
    for (chunk, outs) in trials.trials.chunks(BATCH).zip(outputs.chunks_mut(BATCH)) {
        let steps = chunk.iter().map(|t| t.steps).max().unwrap_or(0);
        if steps == 0 {
            continue;
        }
        // Step k's output is read before update k, or after it (`readout_after`): then the
        // run takes one more step and sample k + 1 is step k's output.
        let lag = usize::from(net.meta.readout_after);
        let x0 = Mat::from_fn(net.n(), chunk.len(), |i, _| net.init_state[i]);
        crate::sim::run_batch(
            net,
            x0.as_ref(),
            steps - 1 + lag,
            &mut |step, mut u| {
                for (b, tr) in chunk.iter().enumerate() {
                    for r in 0..u.nrows() {
                        u[(r, b)] = 0.0;
                    }
                    if step < tr.steps {
                        for (j, &col) in in_cols.iter().enumerate() {
                            u[(col, b)] = tr.inputs[step * k + j];
                        }
                    }
                }
            },
            &mut |sample, y| {
                let Some(step) = sample.checked_sub(lag) else {
                    return;
                };
                for (b, (tr, out)) in chunk.iter().zip(outs.iter_mut()).enumerate() {
                    if step < tr.steps {
                        for (j, &row) in out_rows.iter().enumerate() {
                            out[step * m + j] = y[(row, b)];
                        }
                    }
                }
            },
        )
        .map_err(|d| format!("task `{}`: {d}", trials.task))?;
    }
    Ok(outputs)
}

/// The trials one after another as traces: columns `t` (continuous across trials), `trial`,
/// the inputs, and the outputs - the network's (from [`run`]) in the first trace, the targets
/// in the second (NaN where no `expect out = v` covers the step).
pub fn traces(trials: &Trials, outputs: &[Vec<f64>], dt: f64) -> (Trace, Trace) {
    let (k, m) = (trials.inputs.len(), trials.outputs.len());
    let mut columns = vec!["t".to_string(), "trial".to_string()];
    columns.extend(trials.inputs.iter().cloned());
    columns.extend(trials.outputs.iter().cloned());
    let (mut net, mut reference) = (Vec::new(), Vec::new());
    let mut step0 = 0;
    for (i, (tr, out)) in trials.trials.iter().zip(outputs).enumerate() {
        let (target, mask) = trials.targets(i);
        for s in 0..tr.steps {
            let head = [(step0 + s) as f64 * dt, i as f64];
            for (rows, ys) in [(&mut net, false), (&mut reference, true)] {
                rows.extend_from_slice(&head);
                rows.extend_from_slice(&tr.inputs[s * k..(s + 1) * k]);
                for o in 0..m {
                    rows.push(match ys {
                        false => out[s * m + o],
                        true if mask[s * m + o] == 1.0 => target[s * m + o],
                        true => f64::NAN,
                    });
                }
            }
        }
        step0 += tr.steps;
    }
    (
        Trace {
            columns: columns.clone(),
            data: net,
        },
        Trace {
            columns,
            data: reference,
        },
    )
}

/// One rule broken at one step: which trial (its condition), when, on which channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The trial's position in the trial set (from 0) and the set's size.
    pub trial: usize,
    pub trials: usize,
    /// The trial's name; `None` when the program does not name it.
    pub name: Option<String>,
    /// Its condition: the value of each `vary` and `draw`, by name.
    pub values: Vec<(String, f64)>,
    /// The output component.
    pub output: String,
    /// What the network gave there, and when: seconds since the trial began, and the period
    /// with the seconds since it began.
    pub value: f64,
    pub time: f64,
    pub period: String,
    pub period_time: f64,
    /// What the rule asked: `within` (the target and tolerance), `above` or `below` the target.
    pub kind: Kind,
    pub target: f64,
}

impl Violation {
    /// `1.000 within 0.2`, `> 0.000`.
    pub fn rule(&self) -> String {
        match self.kind {
            Kind::Within(tol) => format!("{:.3} within {tol}", self.target),
            Kind::Above => format!("> {:.3}", self.target),
            Kind::Below => format!("< {:.3}", self.target),
        }
    }

    /// `trial 3 of 16` or ``trial `remember_set` (3 of 16``, then the condition's values.
    pub fn condition(&self) -> String {
        let values: Vec<String> = self
            .values
            .iter()
            .map(|(n, v)| format!("{n} = {}", short(*v)))
            .collect();
        let mut parts = vec![format!("{} of {}", self.trial + 1, self.trials)];
        parts.extend(values);
        match &self.name {
            Some(n) => format!("trial `{n}` ({})", parts.join(", ")),
            None if parts.len() > 1 => {
                format!("trial {} ({})", parts[0], parts[1..].join(", "))
            }
            None => format!("trial {}", parts[0]),
        }
    }
}

/// A condition's value in at most four decimals (`0.5`, `0.7341`, `3`).
fn short(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: `{}` = {:.3} at {:.3} s ({:.3} s into period `{}`), expected {}",
            self.condition(),
            self.output,
            self.value,
            self.time,
            self.period_time,
            self.period,
            self.rule()
        )
    }
}

/// Whether one trial held every rule, and its earliest violation if not.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub pass: bool,
    /// The violation at the earliest step of the trial (among rules broken at that step, the
    /// first in the program's order, then the first component).
    pub failure: Option<Violation>,
}

/// Scores each trial's outputs (from [`run`]) against its rules.
pub fn score(trials: &Trials, outputs: &[Vec<f64>]) -> Vec<Outcome> {
    let m = trials.outputs.len();
    trials
        .trials
        .iter()
        .zip(outputs)
        .enumerate()
        .map(|(ti, (tr, out))| {
            // Per rule, its first broken step; the earliest of them.
            let mut first: Option<(usize, &Rule, usize, f64, f64)> = None;
            for r in &tr.rules {
                let end = first.map_or(r.end, |f| f.0.min(r.end));
                'steps: for step in r.start..end {
                    for c in 0..r.width {
                        let y = out[step * m + r.output + c];
                        let target = r.target[(step - r.start) * r.width + c];
                        let ok = match r.kind {
                            Kind::Within(tol) => (y - target).abs() <= tol,
                            Kind::Above => y > target,
                            Kind::Below => y < target,
                        };
                        if !ok {
                            first = Some((step, r, c, y, target));
                            break 'steps;
                        }
                    }
                }
            }
            let failure = first.map(|(step, r, c, value, target)| Violation {
                trial: ti,
                trials: trials.trials.len(),
                name: tr.named.then(|| tr.name.clone()),
                values: trials
                    .locals
                    .iter()
                    .cloned()
                    .zip(tr.values.clone())
                    .collect(),
                output: trials.outputs[r.output + c].clone(),
                value,
                time: step as f64 * trials.dt,
                period: r.period.clone(),
                period_time: (step - r.period_start) as f64 * trials.dt,
                kind: r.kind,
                target,
            });
            Outcome {
                pass: failure.is_none(),
                failure,
            }
        })
        .collect()
}

/// The earliest violation in trial time over a trial set (the first trial in the set's order
/// among those that break a rule at that time).
pub fn earliest(outcomes: &[Outcome]) -> Option<&Violation> {
    outcomes
        .iter()
        .filter_map(|o| o.failure.as_ref())
        .min_by(|a, b| a.time.total_cmp(&b.time).then(a.trial.cmp(&b.trial)))
}

/// `accuracy(Task)`: the fraction of trials whose every expectation holds, and the earliest
/// violation in trial time ([`earliest`]).
pub fn accuracy(
    net: &Net,
    trials: &Trials,
    progress: &dyn crate::progress::Progress,
) -> Result<(f64, Option<Violation>), String> {
    if trials.trials.is_empty() {
        return Err(format!("task `{}` has no trials", trials.task));
    }
    let outputs = run(net, trials, progress)?;
    let outcomes = score(trials, &outputs);
    let passed = outcomes.iter().filter(|o| o.pass).count();
    let first = earliest(&outcomes).cloned();
    Ok((passed as f64 / trials.trials.len() as f64, first))
}
