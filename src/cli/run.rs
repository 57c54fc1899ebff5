//! `rnnc run`: simulate a network beside the exact solution of its program (a system), run a
//! task network on its check trials, or export a task's trials.

use super::build::build_one;
use super::progress::Bars;
use super::{plot, write_atomic, Shell, EXIT_INVALID};
use rnnc::diag::{codes, Diagnostic};
use rnnc::driver;
use rnnc::sema::args::RunArgs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The .rnn program.
    file: PathBuf,
    /// The network to run (optional when the program defines one).
    #[arg(long)]
    network: Option<String>,
    /// Simulated time, e.g. `5 s`.
    #[arg(long = "for")]
    duration: Option<String>,
    /// Initial latent state, e.g. "x = 1, y = 0".
    #[arg(long)]
    from: Option<String>,
    /// Input drives, e.g. "u = pulse(200 ms, 100 ms)".
    #[arg(long)]
    with: Option<String>,
    /// Export a task's trials instead (inputs, targets, masks).
    #[arg(long)]
    task: Option<String>,
    /// trace.csv or trace.npz
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// trace.svg or trace.png
    #[arg(long)]
    plot: Option<PathBuf>,
}

fn bad(message: String) -> Diagnostic {
    Diagnostic::error(&codes::CLI_BAD_ARGUMENT, message)
}

pub fn command(shell: &mut Shell, args: Args) -> ExitCode {
    if let Some(Err(e)) = args.plot.as_deref().map(plot::format) {
        return shell.fail(&[bad(e)]);
    }
    let Some(analysis) = shell.front_end(&args.file) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let program = &analysis.program;
    if let Some(task) = &args.task {
        return export_trials(
            shell,
            program,
            task,
            args.network.as_deref(),
            args.out.as_deref(),
        );
    }
    let index = match driver::pick_network(program, args.network.as_deref()) {
        Ok(i) => i,
        Err(d) => return shell.fail(&[d]),
    };
    let network = &program.networks[index];
    let name = network.name.clone();
    let inst = match &network.target {
        rnnc::sema::Target::Task(ti) => {
            if args.duration.is_some() || args.from.is_some() || args.with.is_some() {
                return shell.fail(&[bad(format!(
                    "network `{name}` realizes a task: `rnnc run` runs the task's trials, so \
                     --for, --from and --with do not apply"
                ))]);
            }
            return run_task(
                shell,
                program,
                index,
                *ti,
                args.out.as_deref(),
                args.plot.as_deref(),
            );
        }
        rnnc::sema::Target::System(inst) => inst,
        rnnc::sema::Target::None => {
            return shell.fail(&[bad(format!("network `{name}` realizes no system"))])
        }
    };
    let Some(duration) = args.duration.as_deref() else {
        return shell.fail(&[
            bad("say how long to simulate with --for".into()).help("add `--for \"5 s\"`")
        ]);
    };
    // The arguments are sources of their own, analysed like a `simulate` line.
    let run_args = RunArgs {
        duration,
        from: args.from.as_deref(),
        with: args.with.as_deref(),
    };
    let sim = match rnnc::sema::args::simulate(&mut shell.db, program, index, &run_args) {
        Ok(s) => s,
        Err(d) => return shell.fail(&d),
    };
    let sys = &program.systems[inst.system];
    let lat = match rnnc::latent::Latent::new(sys, inst) {
        Ok(l) => l,
        Err(e) => {
            return shell.fail(&[Diagnostic::error(
                &codes::BUILD_FAILED,
                format!("network `{name}`: {e}"),
            )
            .at(network.span, "this network")])
        }
    };
    let Some(built) = build_one(shell, program, index) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let npz = args
        .out
        .as_deref()
        .is_some_and(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz")));
    if !npz {
        return stream_system(shell, &built.net, &lat, &sim, network.seed, &name, &args);
    }
    let start = Instant::now();
    let (trace, reference) = match rnnc::trace::simulate(&built.net, &lat, &sim, network.seed) {
        Ok(t) => t,
        Err(e) => return shell.fail(&[run_error(e, &name, sim.span)]),
    };
    let secs = start.elapsed().as_secs_f64();
    let states = &built.net.meta.states;
    let e = rnnc::trace::nrmse(&trace, &reference, states, 0);
    report_run(&name, trace.rows() - 1, secs, e);
    let mut cols = states.clone();
    cols.extend(built.net.meta.outputs.iter().cloned());
    let title = format!("{name}: network (solid) and exact (dashed)");
    emit(
        shell,
        &trace,
        &reference,
        args.out.as_deref(),
        args.plot.as_deref(),
        &title,
        &cols,
    )
}

fn run_error(e: rnnc::trace::RunError, name: &str, span: rnnc::span::Span) -> Diagnostic {
    match e {
        rnnc::trace::RunError::TooLarge(t) => t.diagnostic(span),
        e => Diagnostic::error(
            &codes::CHECK_SIMULATION_FAILED,
            format!("network `{name}`: {e}"),
        )
        .at(span, "this run"),
    }
}

fn report_run(name: &str, steps: usize, secs: f64, e: Option<f64>) {
    eprintln!(
        "ran {name} for {steps} steps in {secs:.2} s; nrmse against the exact solution: {}",
        e.map_or("undefined (the exact state is constant)".into(), |e| {
            format!("{:.4} %", 100.0 * e)
        })
    );
}

/// Rows a plot keeps of a streamed run: every k-th, at most this many.
const PLOT_ROWS: usize = 20_000;

/// `rnnc run` of a system to CSV (a file or standard output) and/or a plot: the trace is
/// streamed row by row, never held, so its length is bounded by the step limit, not by
/// memory; the plot keeps at most [`PLOT_ROWS`] evenly spaced rows and the NRMSE is
/// accumulated as the rows pass.
fn stream_system(
    shell: &Shell,
    net: &rnnc::net::Net,
    lat: &rnnc::latent::Latent,
    sim: &rnnc::sema::model::Simulate,
    seed: u64,
    name: &str,
    args: &Args,
) -> ExitCode {
    let columns = rnnc::trace::columns(net, lat);
    let steps = rnnc::time::steps(sim.duration, net.dt).max(1);
    let every = (steps + 1).div_ceil(PLOT_ROWS).max(1);
    let states: Vec<usize> = net
        .meta
        .states
        .iter()
        .filter_map(|s| columns.iter().position(|c| c == s))
        .collect();
    let mut online = rnnc::trace::OnlineNrmse::default();
    let (mut kept_net, mut kept_ref) = (Vec::new(), Vec::new());
    let mut rows = 0usize;
    let mut failure: Option<Diagnostic> = None;
    let want_plot = args.plot.is_some();
    let start = Instant::now();
    // Every row: the NRMSE, the plot's sample, and the CSV line (into `w`, when there is one).
    let mut run = |w: Option<&mut dyn std::io::Write>| -> Result<(), String> {
        let mut w = w;
        let mut io: std::io::Result<()> = Ok(());
        if let Some(w) = w.as_deref_mut() {
            io = writeln!(w, "{}", columns.join(","));
        }
        let (mut a, mut b) = (vec![0.0; states.len()], vec![0.0; states.len()]);
        let result = rnnc::trace::simulate_stream(net, lat, sim, seed, &mut |x, y| {
            for (i, &c) in states.iter().enumerate() {
                a[i] = x[c];
                b[i] = y[c];
            }
            online.push(&a, &b);
            if want_plot && rows.is_multiple_of(every) {
                kept_net.extend_from_slice(x);
                kept_ref.extend_from_slice(y);
            }
            rows += 1;
            if let (Some(w), true) = (w.as_deref_mut(), io.is_ok()) {
                io = write_row(w, x);
            }
        });
        if let Err(e) = result {
            let d = run_error(e, name, sim.span);
            let message = d.message.clone();
            failure = Some(d);
            return Err(message);
        }
        io.and_then(|()| w.map_or(Ok(()), |w| w.flush()))
            .map_err(|e| e.to_string())
    };
    let written = match args.out.as_deref() {
        Some(p) => write_atomic(p, |mut w| run(Some(&mut w))).map(|()| Some(p)),
        None if args.plot.is_none() => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            run(Some(&mut out))
                .map(|()| None)
                .map_err(|e| super::io_error(format!("standard output: {e}")))
        }
        None => run(None).map(|()| None).map_err(super::io_error),
    };
    let written = match written {
        Ok(w) => w,
        // A refused or failed run is its own diagnostic; an IO failure names the file.
        Err(d) => return shell.fail(&[failure.take().unwrap_or(d)]),
    };
    report_run(
        name,
        rows.saturating_sub(1),
        start.elapsed().as_secs_f64(),
        online.value(),
    );
    if let Some(p) = written {
        eprintln!("  trace -> {}", p.display());
    }
    if let Some(p) = args.plot.as_deref() {
        let trace = rnnc::trace::Trace {
            columns: columns.clone(),
            data: kept_net,
        };
        let reference = rnnc::trace::Trace {
            columns: columns.clone(),
            data: kept_ref,
        };
        let mut cols = net.meta.states.clone();
        cols.extend(net.meta.outputs.iter().cloned());
        let title = format!("{name}: network (solid) and exact (dashed)");
        if let Err(e) = plot::plot(p, &title, &trace, &reference, &cols) {
            return shell.fail(&[super::io_error(format!("{}: {e}", p.display()))]);
        }
        eprintln!("  plot -> {}", p.display());
    }
    ExitCode::SUCCESS
}

fn write_row(w: &mut dyn std::io::Write, row: &[f64]) -> std::io::Result<()> {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "{v}")?;
    }
    w.write_all(b"\n")
}

/// `rnnc run` of a task network: the task's check trials (the ones `accuracy` scores), one
/// after another, the network's outputs beside the targets.
fn run_task(
    shell: &Shell,
    program: &rnnc::sema::Program,
    index: usize,
    task_index: usize,
    out: Option<&Path>,
    plot_to: Option<&Path>,
) -> ExitCode {
    let Some(built) = build_one(shell, program, index) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let network = &program.networks[index];
    let name = &network.name;
    let task = &program.tasks[task_index];
    let net = &built.net;
    let start = Instant::now();
    let result =
        rnnc::task::generate(task, net.dt, network.seed, "check trials").and_then(|trials| {
            let outputs = rnnc::task::run(net, &trials, &Bars::new())?;
            Ok((trials, outputs))
        });
    let (trials, outputs) = match result {
        Ok(r) => r,
        Err(e) => {
            return shell.fail(&[Diagnostic::error(
                &codes::CHECK_SIMULATION_FAILED,
                format!("network `{name}`: {e}"),
            )
            .at(network.span, "this network")])
        }
    };
    let outcomes = rnnc::task::score(&trials, &outputs);
    let passed = outcomes.iter().filter(|o| o.pass).count();
    eprintln!(
        "ran {name} on {} trials of {} in {:.2} s: {passed} pass every expect ({:.2} %)",
        trials.trials.len(),
        task.name,
        start.elapsed().as_secs_f64(),
        100.0 * passed as f64 / trials.trials.len().max(1) as f64
    );
    if let Some(f) = rnnc::task::earliest(&outcomes) {
        eprintln!("  earliest failure: {f}");
    }
    let (trace, reference) = rnnc::task::traces(&trials, &outputs, net.dt);
    let title = format!(
        "{name} on {}: network (solid) and targets (dashed)",
        task.name
    );
    emit(
        shell,
        &trace,
        &reference,
        out,
        plot_to,
        &title,
        &trials.outputs,
    )
}

/// Writes a run's trace (CSV, or NPZ with the reference) and plot; the CSV to standard output
/// when neither is asked for.
fn emit(
    shell: &Shell,
    trace: &rnnc::trace::Trace,
    reference: &rnnc::trace::Trace,
    out: Option<&Path>,
    plot_to: Option<&Path>,
    title: &str,
    cols: &[String],
) -> ExitCode {
    if let Some(p) = plot_to {
        if let Err(e) = plot::plot(p, title, trace, reference, cols) {
            return shell.fail(&[super::io_error(format!("{}: {e}", p.display()))]);
        }
        eprintln!("  plot -> {}", p.display());
    }
    match out {
        Some(p) => {
            let npz = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz"));
            let result = write_atomic(p, |w| {
                if npz {
                    rnnc::npz::write_trace(w, trace, reference).map_err(|e| e.to_string())
                } else {
                    write_csv(w, trace).map_err(|e| e.to_string())
                }
            });
            if let Err(d) = result {
                return shell.fail(&[d]);
            }
            eprintln!("  trace -> {}", p.display());
        }
        None if plot_to.is_none() => {
            if let Err(e) = write_csv(std::io::stdout().lock(), trace) {
                return shell.fail(&[super::io_error(format!("standard output: {e}"))]);
            }
        }
        None => {}
    }
    ExitCode::SUCCESS
}

/// `rnnc run FILE --task NAME -o trials.npz`: the task's trials as arrays, at the `dt` and
/// seed of `--network` (or of the first network realizing the task; else the defaults),
/// from the trial stream a network trains on.
fn export_trials(
    shell: &Shell,
    program: &rnnc::sema::Program,
    name: &str,
    network: Option<&str>,
    out: Option<&Path>,
) -> ExitCode {
    let Some(ti) = program.tasks.iter().position(|t| t.name == name) else {
        let names: Vec<&str> = program.tasks.iter().map(|t| t.name.as_str()).collect();
        let d = bad(format!("no task `{name}`"));
        let d = match rnnc::diag::did_you_mean(name, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if names.is_empty() => d.help("the program defines no task"),
            None => d.help(format!("its tasks are {}", names.join(", "))),
        };
        return shell.fail(&[d]);
    };
    let Some(out) = out.filter(|o| o.extension().is_some_and(|e| e == "npz")) else {
        return shell
            .fail(&[bad("say where to write the trials".into()).help("add `-o trials.npz`")]);
    };
    let chosen = match network {
        Some(n) => match driver::pick_network(program, Some(n)) {
            Ok(i) => Some(&program.networks[i]),
            Err(d) => return shell.fail(&[d]),
        },
        None => program
            .networks
            .iter()
            .find(|n| matches!(n.target, rnnc::sema::Target::Task(t) if t == ti)),
    };
    let (dt, seed) = chosen.map_or((rnnc::sema::DEFAULT_DT, rnnc::sema::DEFAULT_SEED), |n| {
        (n.dt, n.seed)
    });
    let trials = match rnnc::task::generate(&program.tasks[ti], dt, seed, "training trials") {
        Ok(t) => t,
        Err(e) => {
            return shell.fail(&[Diagnostic::error(
                &codes::BUILD_FAILED,
                format!("task `{name}`: {e}"),
            )
            .at(program.tasks[ti].span, "this task")])
        }
    };
    let written = write_atomic(out, |w| {
        rnnc::npz::write_trials(w, &trials).map_err(|e| e.to_string())
    });
    if let Err(d) = written {
        return shell.fail(&[d]);
    }
    eprintln!(
        "{name}: {} trials, up to {} steps of {} ms, written to {}",
        trials.trials.len(),
        trials.max_steps(),
        dt * 1e3,
        out.display()
    );
    ExitCode::SUCCESS
}

fn write_csv(mut w: impl std::io::Write, trace: &rnnc::trace::Trace) -> std::io::Result<()> {
    writeln!(w, "{}", trace.columns.join(","))?;
    for r in 0..trace.rows() {
        let row: Vec<String> = trace.row(r).iter().map(|v| format!("{v}")).collect();
        writeln!(w, "{}", row.join(","))?;
    }
    w.flush()
}
