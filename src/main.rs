//! The `rnnc` command line: a thin shell over the library. All IO lives here.

use clap::{Parser, Subcommand, ValueEnum};
use rnnc::diag::render::{render_all, Style};
use rnnc::diag::{codes, Diagnostic};
use rnnc::driver;
use rnnc::source::{FsLoader, SourceDb};
use std::io::IsTerminal;
use std::time::Instant;

#[path = "cli/plot.rs"]
mod plot;
use std::path::PathBuf;
use std::process::ExitCode;

/// rnnc: program the latent dynamics of recurrent neural networks.
#[derive(Parser)]
#[command(name = "rnnc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Never colour diagnostics.
    #[arg(long, global = true)]
    no_color: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a program: one weight file (.npz) per network.
    Build {
        /// The .rnn program.
        file: PathBuf,
        /// Where to write the weight files.
        #[arg(short, long, default_value = ".")]
        out: PathBuf,
        /// Build only this network.
        #[arg(long)]
        network: Option<String>,
        /// Run the front end only and print a one-line summary per item.
        #[arg(long)]
        no_emit: bool,
        /// Store `W_rec` as a full matrix even when the network is low rank (by default a
        /// factored network stores `W_rec_left` and `W_rec_right`).
        #[arg(long)]
        dense: bool,
    },
    /// Simulate a network and write its trace.
    Run {
        file: PathBuf,
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
    },
    /// Verify networks against their program's checks.
    Check {
        file: PathBuf,
        #[arg(long)]
        network: Option<String>,
        /// Check weights from elsewhere (a .npz in FORMAT.md's layout).
        #[arg(long)]
        weights: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Time step of a file without manifest, e.g. `1 ms`.
        #[arg(long)]
        dt: Option<String>,
        /// Time constant of a file without `alpha`, e.g. `100 ms`.
        #[arg(long)]
        tau: Option<String>,
        /// `current` or `rate`, for a file without manifest.
        #[arg(long)]
        form: Option<String>,
        /// The neuron nonlinearity of a file without manifest (`tanh`, `relu`, ...).
        #[arg(long)]
        phi: Option<String>,
        /// `before` (default) or `after`: when the readout is taken (PsychRNN reads after).
        #[arg(long)]
        readout: Option<String>,
    },
    /// Explore interactively: evaluate expressions, define systems and networks.
    Repl {
        /// A program to load first.
        file: Option<PathBuf>,
    },
    /// Explain a diagnostic code (`rnnc explain expected_time`); `--list` lists them all.
    Explain {
        code: Option<String>,
        #[arg(long)]
        list: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Exit statuses of CHECKS.md: 0 all good, 1 a check failed, 2 invalid input.
const EXIT_INVALID: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = if cli.no_color
        || !std::io::stderr().is_terminal()
        || std::env::var_os("NO_COLOR").is_some()
    {
        Style::Plain
    } else {
        Style::Fancy
    };
    match cli.command {
        Command::Build {
            file,
            network,
            no_emit,
            out,
            dense,
        } => {
            let Some((db, analysis)) = front_end(&file, style) else {
                return ExitCode::from(EXIT_INVALID);
            };
            if let Some(name) = &network {
                if analysis.program.network(name).is_none() {
                    return invalid(&format!("no network `{name}` in {}", file.display()));
                }
            }
            if no_emit {
                for line in driver::summary(&analysis.program) {
                    if network.as_ref().is_none_or(|n| {
                        !line.starts_with("network") || line.starts_with(&format!("network {n}:"))
                    }) {
                        println!("{line}");
                    }
                }
                return ExitCode::SUCCESS;
            }
            build(
                &db,
                &analysis.program,
                &file,
                network.as_deref(),
                &out,
                dense,
            )
        }
        Command::Run {
            file,
            network,
            duration,
            from,
            with,
            task,
            out,
            plot,
        } => {
            if let Some(task) = task {
                return export_trials(&file, &task, network.as_deref(), out.as_deref(), style);
            }
            run(
                &file,
                network.as_deref(),
                duration.as_deref(),
                from.as_deref(),
                with.as_deref(),
                out.as_deref(),
                plot.as_deref(),
                style,
            )
        }
        Command::Check {
            file,
            network,
            weights,
            format,
            dt,
            tau,
            form,
            phi,
            readout,
        } => {
            let Some((db, analysis)) = front_end(&file, style) else {
                return ExitCode::from(EXIT_INVALID);
            };
            let readout_after = match readout.as_deref() {
                None | Some("before") => false,
                Some("after") => true,
                Some(other) => {
                    return invalid(&format!(
                        "--readout `{other}`: expected `before` or `after`"
                    ))
                }
            };
            if readout_after && weights.is_none() {
                return invalid("--readout describes a weight file: use it with --weights");
            }
            let foreign = match foreign_options(dt, tau, form, phi) {
                Ok(f) => rnnc::npz::Foreign { readout_after, ..f },
                Err(e) => return invalid(&e),
            };
            check(
                &db,
                &analysis.program,
                network.as_deref(),
                weights.as_deref(),
                &foreign,
                matches!(format, Format::Json),
            )
        }
        Command::Repl { file } => repl(file, style),
        Command::Explain { code, list } => {
            if list || code.is_none() {
                for c in codes::ALL {
                    println!("{:<36} {}", c.name, c.summary);
                }
                return ExitCode::SUCCESS;
            }
            let code = code.unwrap_or_default();
            match codes::lookup(&code) {
                Some(c) => {
                    println!("{}: {}\n\n{}", c.name, c.summary, c.explanation);
                    ExitCode::SUCCESS
                }
                None => invalid(&format!(
                    "no diagnostic code `{code}` (see `rnnc explain --list`)"
                )),
            }
        }
    }
}

fn invalid(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_INVALID)
}

/// Runs the front end and prints its diagnostics; `None` when the program has errors.
fn front_end(file: &std::path::Path, style: Style) -> Option<(SourceDb, rnnc::sema::Analysis)> {
    front_end_with(file, "", style)
}

fn front_end_with(
    file: &std::path::Path,
    extra: &str,
    style: Style,
) -> Option<(SourceDb, rnnc::sema::Analysis)> {
    let mut db = SourceDb::new();
    let analysis = match driver::analyze_path_with(&mut db, &FsLoader, file, extra) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return None;
        }
    };
    let diags: Vec<Diagnostic> = driver::sorted(analysis.diagnostics.clone());
    if !diags.is_empty() {
        eprint!("{}", render_all(&db, &diags, style));
    }
    if analysis.has_errors() {
        return None;
    }
    Some((db, analysis))
}

fn repl(file: Option<PathBuf>, style: Style) -> ExitCode {
    use rustyline::completion::{Completer, Pair};
    use rustyline::error::ReadlineError;
    use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};

    #[derive(Helper, Highlighter, Hinter, Validator)]
    struct Complete {
        words: Vec<String>,
    }
    impl Completer for Complete {
        type Candidate = Pair;
        fn complete(
            &self,
            line: &str,
            pos: usize,
            _: &Context<'_>,
        ) -> rustyline::Result<(usize, Vec<Pair>)> {
            let start = line[..pos]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(0, |i| i + 1);
            let prefix = &line[start..pos];
            let hits = self
                .words
                .iter()
                .filter(|w| w.starts_with(prefix))
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w.clone(),
                })
                .collect();
            Ok((start, hits))
        }
    }

    let loader = FsLoader;
    let mut session = rnnc::repl::Session::new(&loader, style);
    if let Some(f) = file {
        let r = session.eval(&format!(":load {}", f.display()));
        println!("{}", r.text);
    }
    let Ok(mut editor) = Editor::<Complete, rustyline::history::DefaultHistory>::new() else {
        return invalid("cannot open a line editor on this terminal");
    };
    editor.set_helper(Some(Complete {
        words: rnnc::repl::completions(session.names()),
    }));
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rnnc_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "rnnc {} REPL. :help for help, Ctrl-D to leave.",
        env!("CARGO_PKG_VERSION")
    );
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { "rnn> " } else { "...> " };
        match editor.readline(prompt) {
            Ok(line) => {
                pending.push_str(&line);
                pending.push('\n');
                if rnnc::repl::needs_more(&pending) {
                    continue;
                }
                let input = std::mem::take(&mut pending);
                let _ = editor.add_history_entry(input.trim_end());
                if matches!(input.trim(), ":quit" | ":q") {
                    break;
                }
                let r = session.eval(&input);
                if r.error {
                    eprint!("{}", r.text);
                } else if !r.text.is_empty() {
                    println!("{}", r.text);
                }
                if let Some(h) = editor.helper_mut() {
                    h.words = rnnc::repl::completions(session.names());
                }
            }
            Err(ReadlineError::Interrupted) => {
                pending.clear();
            }
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    ExitCode::SUCCESS
}

/// Progress of long analyses: a bar on stderr (a terminal only) once one has run a second.
struct Bars {
    on: bool,
    current: std::cell::RefCell<Option<Analysis>>,
}

struct Analysis {
    what: String,
    total: u64,
    start: Instant,
    bar: Option<indicatif::ProgressBar>,
}

impl Bars {
    fn new() -> Bars {
        Bars {
            on: std::io::stderr().is_terminal(),
            current: std::cell::RefCell::new(None),
        }
    }
}

impl rnnc::progress::Progress for Bars {
    fn begin(&self, what: &str, total: u64) {
        if self.on {
            *self.current.borrow_mut() = Some(Analysis {
                what: what.to_string(),
                total,
                start: Instant::now(),
                bar: None,
            });
        }
    }

    fn advance(&self, done: u64) {
        let mut current = self.current.borrow_mut();
        let Some(a) = current.as_mut() else { return };
        if a.bar.is_none() && a.start.elapsed().as_secs_f64() > 1.0 {
            let bar = indicatif::ProgressBar::new(a.total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "  {msg} [{bar:30}] {pos}/{len}, {eta} left",
                )
                .expect("template")
                .progress_chars("=> "),
            );
            bar.set_message(a.what.clone());
            a.bar = Some(bar);
        }
        if let Some(b) = &a.bar {
            b.set_position(done);
        }
    }

    fn end(&self) {
        if let Some(Analysis { bar: Some(b), .. }) = self.current.borrow_mut().take() {
            b.finish_and_clear();
        }
    }
}

fn spinner(msg: String) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(msg);
    pb.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(pb)
}

/// Builds one network, printing a progress line; `None` (with the error printed) on failure.
fn build_one(
    db: &SourceDb,
    program: &rnnc::sema::Program,
    index: usize,
) -> Option<rnnc::methods::Built> {
    let network = &program.networks[index];
    let pb = spinner(format!("building {}", network.name));
    let start = Instant::now();
    let result = rnnc::methods::build(program, index);
    let secs = start.elapsed().as_secs_f64();
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    match result {
        Ok(mut built) => {
            let text = db.text(network.span.file);
            let name = db.get(network.span.file).display_name();
            built.net.meta.source = Some((name, driver::source_hash(text)));
            for w in &built.warnings {
                eprintln!("warning: network `{}`: {w}", network.name);
            }
            let rank = built
                .net
                .w_rec
                .rank()
                .map_or("full".to_string(), |r| r.to_string());
            let rmse = built
                .decoder_rmse
                .map_or(String::new(), |e| format!(", decoder rmse {e:.2e}"));
            eprintln!(
                "built {}: N = {}, rank {rank}{rmse} in {secs:.2} s",
                network.name,
                built.net.n()
            );
            // The low-rank theory's cross-check, for `fixed_points` to be compared with.
            if let Some(mf) = &built.mean_field {
                let list = |stable: bool| {
                    let v: Vec<String> = mf
                        .iter()
                        .filter(|p| p.1 == stable)
                        .map(|p| format!("{:.4}", p.0))
                        .collect();
                    if v.is_empty() {
                        "none".to_string()
                    } else {
                        v.join(", ")
                    }
                };
                let state = built.net.meta.states.first().map_or("x", String::as_str);
                eprintln!(
                    "  mean-field fixed points of {state}: stable {}; unstable {}",
                    list(true),
                    list(false)
                );
            }
            Some(built)
        }
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

fn build(
    db: &SourceDb,
    program: &rnnc::sema::Program,
    file: &std::path::Path,
    only: Option<&str>,
    out: &std::path::Path,
    dense: bool,
) -> ExitCode {
    let targets: Vec<usize> = program
        .networks
        .iter()
        .enumerate()
        .filter(|(_, n)| match only {
            Some(name) => n.name == name,
            None => n.span.file == program.root,
        })
        .map(|(i, _)| i)
        .collect();
    if targets.is_empty() {
        eprintln!("{} defines no network: nothing to build", file.display());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = std::fs::create_dir_all(out) {
        return invalid(&format!("cannot create {}: {e}", out.display()));
    }
    let opts = rnnc::npz::WriteOpts {
        dense,
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let mut failed = false;
    for i in targets {
        let Some(built) = build_one(db, program, i) else {
            failed = true;
            continue;
        };
        let path = out.join(format!("{}.npz", program.networks[i].name));
        let written = std::fs::File::create(&path)
            .map_err(|e| e.to_string())
            .and_then(|f| {
                rnnc::npz::write(std::io::BufWriter::new(f), &built.net, &opts)
                    .map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => eprintln!("  -> {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    file: &std::path::Path,
    network: Option<&str>,
    duration: Option<&str>,
    from: Option<&str>,
    with: Option<&str>,
    out: Option<&std::path::Path>,
    plot_to: Option<&std::path::Path>,
    style: Style,
) -> ExitCode {
    // Find the network first, from the program as written.
    let Some((db0, analysis)) = front_end(file, style) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let roots: Vec<&str> = analysis
        .program
        .root_networks()
        .map(|n| n.name.as_str())
        .collect();
    let name = match (network, roots.as_slice()) {
        (Some(n), _) => {
            if analysis.program.network(n).is_none() {
                return invalid(&format!("no network `{n}` in {}", file.display()));
            }
            n.to_string()
        }
        (None, [one]) => one.to_string(),
        (None, []) => return invalid(&format!("{} defines no network", file.display())),
        (None, _) => {
            return invalid(&format!(
                "{} defines several networks ({}): choose one with --network",
                file.display(),
                roots.join(", ")
            ))
        }
    };
    if let Some(rnnc::sema::Target::Task(ti)) =
        analysis.program.network(&name).map(|n| n.target.clone())
    {
        if duration.is_some() || from.is_some() || with.is_some() {
            return invalid(&format!(
                "network `{name}` realizes a task: `rnnc run` runs the task's trials, so \
                 --for, --from and --with do not apply"
            ));
        }
        return run_task(&db0, &analysis.program, &name, ti, out, plot_to);
    }
    let Some(duration) = duration else {
        return invalid("say how long to simulate with --for, e.g. --for \"5 s\"");
    };
    // The options become a check block, so the front end checks them like source: units,
    // names, dimensions, with spans into the appended text.
    let mut block = format!("\n\n// rnnc run\ncheck {name} {{\n    simulate {duration}");
    if let Some(f) = from {
        block.push_str(&format!(" from {f}"));
    }
    if let Some(w) = with {
        block.push_str(&format!(" with {w}"));
    }
    block.push_str("\n}\n");
    let Some((db, analysis)) = front_end_with(file, &block, style) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let program = &analysis.program;
    let Some(index) = program.networks.iter().position(|n| n.name == name) else {
        return invalid(&format!("no network `{name}`"));
    };
    let Some(rnnc::sema::CheckStep::Simulate(sim)) =
        program.checks.last().and_then(|c| c.steps.first())
    else {
        return invalid("internal: the run block did not analyse to a simulation");
    };
    let network = &program.networks[index];
    let rnnc::sema::Target::System(inst) = &network.target else {
        return invalid(&format!("network `{name}` realizes no system"));
    };
    let sys = &program.systems[inst.system];
    let lat = match rnnc::methods::latent::Latent::new(sys, inst) {
        Ok(l) => l,
        Err(e) => return invalid(&e),
    };
    let Some(built) = build_one(&db, program, index) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let start = Instant::now();
    let (trace, reference) = match rnnc::trace::simulate(&built.net, &lat, sim, network.seed) {
        Ok(t) => t,
        Err(e) => return invalid(&format!("network `{name}`: {e}")),
    };
    let secs = start.elapsed().as_secs_f64();
    let states = &built.net.meta.states;
    let e = rnnc::trace::nrmse(&trace, &reference, states, 0);
    eprintln!(
        "ran {name} for {} steps in {secs:.2} s; nrmse against the exact solution: {}",
        trace.rows() - 1,
        e.map_or(
            "undefined (the exact state is constant)".into(),
            |e| format!("{:.4} %", 100.0 * e)
        )
    );
    let mut cols = states.clone();
    cols.extend(built.net.meta.outputs.iter().cloned());
    let title = format!("{name}: network (solid) and exact (dashed)");
    emit(&trace, &reference, out, plot_to, &title, &cols)
}

/// `rnnc run` of a task network: the task's check trials (the ones `accuracy` scores), one
/// after another, the network's outputs beside the targets.
fn run_task(
    db: &SourceDb,
    program: &rnnc::sema::Program,
    name: &str,
    task_index: usize,
    out: Option<&std::path::Path>,
    plot_to: Option<&std::path::Path>,
) -> ExitCode {
    let Some(index) = program.networks.iter().position(|n| n.name == name) else {
        return invalid(&format!("no network `{name}`"));
    };
    let Some(built) = build_one(db, program, index) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let task = &program.tasks[task_index];
    let net = &built.net;
    let start = Instant::now();
    let result = rnnc::task::generate(task, net.dt, program.networks[index].seed, "check trials")
        .and_then(|trials| {
            let outputs = rnnc::task::run(net, &trials, &Bars::new())?;
            Ok((trials, outputs))
        });
    let (trials, outputs) = match result {
        Ok(r) => r,
        Err(e) => return invalid(&format!("network `{name}`: {e}")),
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
    if let Some(f) = outcomes.iter().find_map(|o| o.failure.as_ref()) {
        eprintln!("  first failure: {f}");
    }
    let (trace, reference) = rnnc::task::traces(&trials, &outputs, net.dt);
    let title = format!(
        "{name} on {}: network (solid) and targets (dashed)",
        task.name
    );
    emit(&trace, &reference, out, plot_to, &title, &trials.outputs)
}

/// Writes a run's trace (CSV, or NPZ with the reference) and plot; the CSV to standard output
/// when neither is asked for.
fn emit(
    trace: &rnnc::trace::Trace,
    reference: &rnnc::trace::Trace,
    out: Option<&std::path::Path>,
    plot_to: Option<&std::path::Path>,
    title: &str,
    cols: &[String],
) -> ExitCode {
    if let Some(p) = plot_to {
        if let Err(e) = plot::plot(p, title, trace, reference, cols) {
            return invalid(&format!("{}: {e}", p.display()));
        }
        eprintln!("  plot -> {}", p.display());
    }
    match out {
        Some(p) => {
            let npz = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz"));
            let result = std::fs::File::create(p)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    let w = std::io::BufWriter::new(f);
                    if npz {
                        rnnc::npz::write_trace(w, trace, reference).map_err(|e| e.to_string())
                    } else {
                        write_csv(w, trace).map_err(|e| e.to_string())
                    }
                });
            if let Err(e) = result {
                return invalid(&format!("cannot write {}: {e}", p.display()));
            }
            eprintln!("  trace -> {}", p.display());
        }
        None if plot_to.is_none() => {
            if let Err(e) = write_csv(std::io::stdout().lock(), trace) {
                return invalid(&e.to_string());
            }
        }
        None => {}
    }
    ExitCode::SUCCESS
}

/// `rnnc run FILE --task NAME -o trials.npz`: the task's trials as arrays, at the `dt` and
/// seed of `--network` (or of the first network realizing the task; else 1 ms and seed 0),
/// from the trial stream a network trains on.
fn export_trials(
    file: &std::path::Path,
    name: &str,
    network: Option<&str>,
    out: Option<&std::path::Path>,
    style: Style,
) -> ExitCode {
    let Some((_, analysis)) = front_end(file, style) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let program = &analysis.program;
    let Some(ti) = program.tasks.iter().position(|t| t.name == name) else {
        let names: Vec<&str> = program.tasks.iter().map(|t| t.name.as_str()).collect();
        return invalid(&format!(
            "no task `{name}` in {} (its tasks: {})",
            file.display(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ));
    };
    let Some(out) = out.filter(|o| o.extension().is_some_and(|e| e == "npz")) else {
        return invalid("say where to write the trials with -o trials.npz");
    };
    let chosen = match network {
        Some(n) => match program.network(n) {
            Some(net) => Some(net),
            None => return invalid(&format!("no network `{n}`")),
        },
        None => program
            .networks
            .iter()
            .find(|n| matches!(n.target, rnnc::sema::Target::Task(t) if t == ti)),
    };
    let (dt, seed) = chosen.map_or((1e-3, 0), |n| (n.dt, n.seed));
    let trials = match rnnc::task::generate(&program.tasks[ti], dt, seed, "training trials") {
        Ok(t) => t,
        Err(e) => return invalid(&e),
    };
    let written = std::fs::File::create(out)
        .map_err(|e| e.to_string())
        .and_then(|f| {
            rnnc::npz::write_trials(std::io::BufWriter::new(f), &trials).map_err(|e| e.to_string())
        });
    if let Err(e) = written {
        return invalid(&format!("{}: {e}", out.display()));
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

/// A time like `1 ms`, `0.1 s`, `100us`.
fn parse_time(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| c.is_alphabetic() || c == 'µ')
        .unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let x: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a time (write e.g. `1 ms`)"))?;
    let scale = match unit {
        "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "min" => 60.0,
        "" => return Err(format!("`{text}` needs a unit (write e.g. `{text} ms`)")),
        other => return Err(format!("`{other}` is not a unit of time")),
    };
    if !(x > 0.0 && x.is_finite()) {
        return Err(format!("`{text}` must be a positive time"));
    }
    Ok(x * scale)
}

fn foreign_options(
    dt: Option<String>,
    tau: Option<String>,
    form: Option<String>,
    phi: Option<String>,
) -> Result<rnnc::npz::Foreign, String> {
    Ok(rnnc::npz::Foreign {
        dt: dt.as_deref().map(parse_time).transpose()?,
        tau: tau.as_deref().map(parse_time).transpose()?,
        form: form
            .as_deref()
            .map(|f| {
                rnnc::net::Form::from_name(f)
                    .ok_or_else(|| format!("--form `{f}`: expected `current` or `rate`"))
            })
            .transpose()?,
        phi: phi
            .as_deref()
            .map(|p| {
                rnnc::net::Phi::from_name(p, &|_| None).ok_or_else(|| {
                    format!("--phi `{p}`: expected tanh, relu, sigmoid, softplus, linear or lif")
                })
            })
            .transpose()?,
        readout_after: false,
    })
}

/// Fills the names a foreign file's manifest would give from the program (a system's states,
/// inputs and outputs, or a task's channels), and checks `W_out` and `W_in` against them.
fn adopt_names(
    net: &mut rnnc::net::Net,
    program: &rnnc::sema::Program,
    index: usize,
) -> Result<(), String> {
    let (name, states, inputs, outputs) = match &program.networks[index].target {
        rnnc::sema::Target::System(inst) => {
            let sys = &program.systems[inst.system];
            let outputs = rnnc::sema::model::expand(sys.outputs.iter().map(|(n, e)| {
                let len = e.shape().len();
                (n.as_str(), (len != 1).then_some(len))
            }));
            (&sys.name, sys.state_names(), sys.input_names(), outputs)
        }
        rnnc::sema::Target::Task(ti) => {
            let task = &program.tasks[*ti];
            (
                &task.name,
                Vec::new(),
                task.input_names(),
                task.output_names(),
            )
        }
        rnnc::sema::Target::None => return Ok(()),
    };
    let m = &mut net.meta;
    if m.states.is_empty() && m.inputs.is_empty() && m.outputs.is_empty() {
        m.states = states.clone();
        m.inputs = inputs.clone();
        m.outputs = outputs.clone();
    }
    // A system's file needs its state rows (outputs are optional); a task's its output rows.
    let rows = if states.is_empty() {
        outputs.len()
    } else {
        states.len()
    };
    let what = if states.is_empty() {
        "output"
    } else {
        "latent state"
    };
    if net.n_out() < rows {
        return Err(format!(
            "array `W_out` has shape ({}, {}), expected ({rows}, {}) or more rows: one per {what} of `{name}`",
            net.n_out(),
            net.n(),
            net.n(),
        ));
    }
    if net.n_inputs() != inputs.len() {
        return Err(format!(
            "array `W_in` has shape ({}, {}), expected ({}, {}): one column per input of `{name}`",
            net.n(),
            net.n_inputs(),
            net.n(),
            inputs.len(),
        ));
    }
    Ok(())
}

fn check(
    db: &SourceDb,
    program: &rnnc::sema::Program,
    only: Option<&str>,
    weights: Option<&std::path::Path>,
    foreign: &rnnc::npz::Foreign,
    json: bool,
) -> ExitCode {
    if let Some(name) = only {
        if program.network(name).is_none() {
            return invalid(&format!("no network `{name}`"));
        }
    }
    if weights.is_some() && only.is_none() {
        return invalid("--weights needs --network NAME: which network of the program the file is");
    }
    let checks: Vec<&rnnc::sema::model::Check> = program
        .checks
        .iter()
        .filter(|c| {
            let n = &program.networks[c.network];
            match only {
                Some(name) => n.name == name,
                None => n.span.file == program.root,
            }
        })
        .collect();
    if checks.is_empty() {
        eprintln!("no check to run");
        return ExitCode::SUCCESS;
    }
    let bars = Bars::new();
    let mut reports = Vec::new();
    let mut invalid_input = false;
    let mut cache: Vec<(usize, rnnc::net::Net)> = Vec::new();
    for c in checks {
        if !cache.iter().any(|(i, _)| *i == c.network) {
            let net = match weights {
                Some(path) => {
                    let read = std::fs::File::open(path)
                        .map_err(|e| e.to_string())
                        .and_then(|f| {
                            rnnc::npz::read(std::io::BufReader::new(f), foreign)
                                .map_err(|e| e.to_string())
                        })
                        .and_then(|mut n| adopt_names(&mut n, program, c.network).map(|_| n));
                    match read {
                        Ok(n) => n,
                        Err(e) => return invalid(&format!("{}: {e}", path.display())),
                    }
                }
                None => match build_one(db, program, c.network) {
                    Some(b) => b.net,
                    None => {
                        invalid_input = true;
                        continue;
                    }
                },
            };
            cache.push((c.network, net));
        }
        let net = &cache
            .iter()
            .find(|(i, _)| *i == c.network)
            .expect("cached")
            .1;
        let report = rnnc::check::run_with(program, c, net, &bars);
        if !json {
            println!("check {}", report.network);
            for l in &report.lines {
                let mark = match l.pass {
                    Some(true) => "pass",
                    Some(false) => "FAIL",
                    None => "error",
                };
                let value = l.value.as_deref().unwrap_or("-");
                match &l.error {
                    Some(e) => println!("  {mark:<5}  expect {:<36} {e}", l.text),
                    None => println!("  {mark:<5}  expect {:<36} measured {value}", l.text),
                }
                if let Some(d) = &l.detail {
                    println!("         {d}");
                }
            }
        }
        reports.push(report);
    }
    let failed: usize = reports.iter().map(|r| r.failed()).sum();
    let errors: usize = reports.iter().map(|r| r.errors()).sum();
    let total: usize = reports.iter().map(|r| r.lines.len()).sum();
    if json {
        let out = serde_json::json!({
            "reports": reports.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
            "passed": total - failed - errors,
            "failed": failed,
            "errors": errors,
        });
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    } else {
        println!(
            "{} expectations: {} passed, {failed} failed, {errors} could not be evaluated",
            total,
            total - failed - errors
        );
    }
    if errors > 0 || invalid_input {
        ExitCode::from(EXIT_INVALID)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
