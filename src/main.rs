//! The `rnnc` command line: a thin shell over the library. All IO lives here.

use clap::{Parser, Subcommand, ValueEnum};
use rnnc::diag::render::{render_all, Style};
use rnnc::diag::{codes, Diagnostic};
use rnnc::driver;
use rnnc::source::{FsLoader, SourceDb};
use std::io::IsTerminal;
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
            out: _,
        } => {
            let Some((db, analysis)) = front_end(&file, style) else {
                return ExitCode::from(EXIT_INVALID);
            };
            if let Some(name) = &network {
                if analysis.program.network(name).is_none() {
                    return invalid(&format!("no network `{name}` in {}", file.display()));
                }
            }
            let _ = db;
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
            not_yet("writing weight files (NEF lowering, issue 3)")
        }
        Command::Run { file, .. } => {
            if front_end(&file, style).is_none() {
                return ExitCode::from(EXIT_INVALID);
            }
            not_yet("simulation (issue 3)")
        }
        Command::Check { file, .. } => {
            if front_end(&file, style).is_none() {
                return ExitCode::from(EXIT_INVALID);
            }
            not_yet("running checks (issue 4)")
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

fn not_yet(what: &str) -> ExitCode {
    eprintln!("error: {what} is not implemented in this version of rnnc; `rnnc build --no-emit` checks a program");
    ExitCode::from(EXIT_INVALID)
}

/// Runs the front end and prints its diagnostics; `None` when the program has errors.
fn front_end(file: &std::path::Path, style: Style) -> Option<(SourceDb, rnnc::sema::Analysis)> {
    let mut db = SourceDb::new();
    let analysis = match driver::analyze_path(&mut db, &FsLoader, file) {
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
