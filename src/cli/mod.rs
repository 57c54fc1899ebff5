//! The command line. Every command reads files, calls the library, renders the library's
//! diagnostics with miette and maps outcomes to exit statuses: 0 good, 1 a check failed,
//! 2 invalid input. Nothing here decides what a program means.

mod build;
mod check;
mod plot;
mod progress;
mod repl;
mod run;

use clap::{Parser, Subcommand, ValueEnum};
use rnnc::diag::render::{render_all, Style};
use rnnc::diag::{codes, Diagnostic};
use rnnc::driver;
use rnnc::source::{FsLoader, SourceDb};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
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
    /// Memory budget for one command (`16GB`, `512MB`); the default is 80 % of the available
    /// memory, at most 8 GB and at most half of a `ulimit -v`.
    #[arg(long, global = true, value_name = "SIZE", value_parser = rnnc::budget::parse)]
    memory: Option<u64>,
}

/// The default memory budget: 80 % of `MemAvailable`, at most 8 GB, at most half of the
/// address-space limit (`ulimit -v`); the library's default where `/proc` says nothing.
fn machine_budget() -> u64 {
    let field = |text: &str, key: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line[key.len()..].split_whitespace().next()?.parse().ok()
    };
    let mut budget = 8e9_f64;
    let mut known = false;
    if let Ok(info) = std::fs::read_to_string("/proc/meminfo") {
        if let Some(kb) = field(&info, "MemAvailable:") {
            budget = budget.min(0.8 * kb * 1024.0);
            known = true;
        }
    }
    if let Ok(limits) = std::fs::read_to_string("/proc/self/limits") {
        // "Max address space   unlimited   unlimited   bytes", or a number of bytes.
        if let Some(bytes) = field(&limits, "Max address space") {
            budget = budget.min(0.5 * bytes);
            known = true;
        }
    }
    if known {
        budget.max(1e8) as u64
    } else {
        rnnc::budget::DEFAULT
    }
}

#[derive(Subcommand)]
enum Command {
    /// Compile a program: one weight file (.npz) per network.
    Build(build::Args),
    /// Simulate a network beside the exact solution of its program and write the trace.
    Run(run::Args),
    /// Verify networks against their program's checks.
    Check(check::Args),
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

/// How `rnnc check` reports.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Exit statuses of CHECKS.md: 0 all good, 1 a check failed, 2 invalid input.
pub const EXIT_INVALID: u8 = 2;

/// What every command shares: the diagnostics' style and the sources seen.
pub struct Shell {
    pub style: Style,
    pub db: SourceDb,
}

impl Shell {
    /// Prints diagnostics (errors and warnings) to standard error.
    pub fn report(&self, diags: &[Diagnostic]) {
        if !diags.is_empty() {
            eprint!("{}", render_all(&self.db, diags, self.style));
        }
    }

    /// Prints diagnostics and returns exit status 2.
    pub fn fail(&self, diags: &[Diagnostic]) -> ExitCode {
        self.report(diags);
        ExitCode::from(EXIT_INVALID)
    }

    /// Runs the front end on `file` and prints its diagnostics; `None` when the program has
    /// errors or cannot be read.
    pub fn front_end(&mut self, file: &Path) -> Option<rnnc::sema::Analysis> {
        let analysis = match driver::analyze_path(&mut self.db, &FsLoader, file) {
            Ok(a) => a,
            Err(e) => {
                self.report(&[io_error(format!("cannot read {}: {e}", file.display()))]);
                return None;
            }
        };
        self.report(&driver::sorted(analysis.diagnostics.clone()));
        (!analysis.has_errors()).then_some(analysis)
    }
}

/// A file that cannot be read or written.
pub fn io_error(message: String) -> Diagnostic {
    Diagnostic::error(&codes::CLI_IO, message)
}

/// Writes `path` whole or not at all: into a temporary file beside it, renamed when
/// complete, so an interrupted or failed write never leaves a partial file (or destroys the
/// old one). A symbolic link at `path` is replaced, never followed.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(std::io::BufWriter<std::fs::File>) -> Result<(), String>,
) -> Result<(), Diagnostic> {
    atomic_path(path, |tmp| {
        // `create_new`: never write through a link someone left at the temporary name.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)
            .map_err(|e| e.to_string())
            .and_then(|f| write(std::io::BufWriter::new(f)))
    })
}

/// [`write_atomic`] for writers that want a path: `write` fills a temporary path beside `path`
/// (same extension, so format detection by name works), which is then renamed onto `path`.
pub fn atomic_path(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), Diagnostic> {
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().to_string());
    let tmp = path.with_file_name(format!(".rnnc-tmp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = write(&tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(format!("cannot write {}: {e}", path.display()))
    })
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = if cli.no_color
        || !std::io::stderr().is_terminal()
        || std::env::var_os("NO_COLOR").is_some()
    {
        Style::Plain
    } else {
        Style::Fancy
    };
    rnnc::budget::set(cli.memory.unwrap_or_else(machine_budget));
    let mut shell = Shell {
        style,
        db: SourceDb::new(),
    };
    match cli.command {
        Command::Build(args) => build::command(&mut shell, args),
        Command::Run(args) => run::command(&mut shell, args),
        Command::Check(args) => check::command(&mut shell, args),
        Command::Repl { file } => repl::command(file, style),
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
                None => shell.fail(&[Diagnostic::error(
                    &codes::CLI_BAD_ARGUMENT,
                    format!("no diagnostic code `{code}`"),
                )
                .help("`rnnc explain --list` lists them")]),
            }
        }
    }
}
