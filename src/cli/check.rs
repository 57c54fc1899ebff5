//! `rnnc check`: run a program's checks on the networks it builds, or on a weight file.

use super::build::build_one;
use super::progress::Bars;
use super::{Format, Shell, EXIT_INVALID};
use rnnc::decl::Neuron;
use rnnc::diag::{codes, Diagnostic};
use rnnc::driver;
use std::path::PathBuf;
use std::process::ExitCode;

/// `--form` of a foreign file.
#[derive(Clone, Copy, clap::ValueEnum)]
enum FormArg {
    /// `x' = (1 - alpha) x + alpha (W phi(x) + W_in u + b)`
    Current,
    /// `r' = (1 - alpha) r + alpha phi(W r + W_in u + b)`
    Rate,
}

/// `--readout` of a foreign file.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ReadoutArg {
    /// The readout of step k is taken before update k (rnnc's own files).
    Before,
    /// After update k (PsychRNN's timing).
    After,
}

fn neuron_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Neuron::ALL.iter().map(|e| e.name))
}

#[derive(clap::Args)]
pub struct Args {
    /// The .rnn program.
    file: PathBuf,
    /// The network to check (optional with --weights when the program defines one).
    #[arg(long)]
    network: Option<String>,
    /// Check weights from elsewhere (a .npz in the weight format).
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
    /// The update rule of a file without manifest.
    #[arg(long, value_enum)]
    form: Option<FormArg>,
    /// The neuron nonlinearity of a file without manifest.
    #[arg(long, value_parser = neuron_names())]
    phi: Option<String>,
    /// When the readout is taken (PsychRNN reads after).
    #[arg(long, value_enum)]
    readout: Option<ReadoutArg>,
}

pub fn command(shell: &mut Shell, args: Args) -> ExitCode {
    let Some(analysis) = shell.front_end(&args.file) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let program = &analysis.program;
    let bad = |m: &str| Diagnostic::error(&codes::CLI_BAD_ARGUMENT, m.to_string());
    let readout_after = matches!(args.readout, Some(ReadoutArg::After));
    if args.readout.is_some() && args.weights.is_none() {
        return shell.fail(&[bad(
            "--readout describes a weight file: use it with --weights",
        )]);
    }
    let mut time = |flag: &str, v: &Option<String>| -> Result<Option<f64>, Vec<Diagnostic>> {
        v.as_deref()
            .map(|t| rnnc::sema::args::time(&mut shell.db, flag, t))
            .transpose()
    };
    let (dt, tau) = match (time("--dt", &args.dt), time("--tau", &args.tau)) {
        (Ok(dt), Ok(tau)) => (dt, tau),
        (a, b) => {
            let mut d = a.err().unwrap_or_default();
            d.extend(b.err().unwrap_or_default());
            return shell.fail(&d);
        }
    };
    let foreign = rnnc::npz::Foreign {
        dt,
        tau,
        form: args.form.map(|f| match f {
            FormArg::Current => rnnc::net::Form::Current,
            FormArg::Rate => rnnc::net::Form::Rate,
        }),
        phi: args
            .phi
            .as_deref()
            .and_then(|p| rnnc::net::Phi::from_name(p, &|_| None)),
        readout_after,
    };
    // Which networks: the one named; with a weight file, the program's only one; else every
    // network of the root file.
    let only = match (&args.network, &args.weights) {
        (Some(_), _) | (None, Some(_)) => {
            match driver::pick_network(program, args.network.as_deref()) {
                Ok(i) => Some(i),
                Err(d) => return shell.fail(&[d]),
            }
        }
        (None, None) => None,
    };
    let checks: Vec<&rnnc::sema::model::Check> = program
        .checks
        .iter()
        .filter(|c| match only {
            Some(i) => c.network == i,
            None => program.networks[c.network].span.file == program.root,
        })
        .collect();
    if checks.is_empty() {
        eprintln!("no check to run");
        return ExitCode::SUCCESS;
    }
    let json = matches!(args.format, Format::Json);
    let bars = Bars::new();
    let mut reports = Vec::new();
    let mut invalid_input = false;
    let mut line_diags = Vec::new();
    let mut cache: Vec<(usize, rnnc::net::Net)> = Vec::new();
    for c in checks {
        if !cache.iter().any(|(i, _)| *i == c.network) {
            let net = match &args.weights {
                Some(path) => match read_weights(path, &foreign, program, c.network) {
                    Ok((n, warnings)) => {
                        shell.report(&warnings);
                        n
                    }
                    Err(d) => return shell.fail(&[d]),
                },
                None => match build_one(shell, program, c.network) {
                    Some(b) => b.net,
                    None => {
                        invalid_input = true;
                        continue;
                    }
                },
            };
            cache.push((c.network, net));
        }
        let Some((_, net)) = cache.iter().find(|(i, _)| *i == c.network) else {
            continue;
        };
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
                match (&l.error, &l.diagnostic) {
                    (Some(e), Some(d)) => {
                        println!("  {mark:<5}  expect {:<36} [{}] {e}", l.text, d.code.name)
                    }
                    (Some(e), None) => println!("  {mark:<5}  expect {:<36} {e}", l.text),
                    (None, _) => println!(
                        "  {mark:<5}  expect {:<36} measured {value}{}",
                        l.text,
                        if l.outside {
                            ", outside the specification"
                        } else {
                            ""
                        }
                    ),
                }
                if let Some(d) = &l.detail {
                    for line in d.lines() {
                        println!("         {line}");
                    }
                }
            }
        }
        line_diags.extend(report.warnings.iter().cloned());
        line_diags.extend(report.lines.iter().filter_map(|l| l.diagnostic.clone()));
        line_diags.extend(report.lines.iter().flat_map(|l| l.warnings.iter().cloned()));
        reports.push(report);
    }
    shell.report(&line_diags);
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
        match serde_json::to_string_pretty(&out) {
            Ok(s) => println!("{s}"),
            Err(e) => return shell.fail(&[super::io_error(format!("json: {e}"))]),
        }
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

/// Reads a weight file and binds it to network `index` of the program, with the binding's
/// warnings.
fn read_weights(
    path: &std::path::Path,
    foreign: &rnnc::npz::Foreign,
    program: &rnnc::sema::Program,
    index: usize,
) -> Result<(rnnc::net::Net, Vec<Diagnostic>), Diagnostic> {
    // Only a regular file: opening a FIFO blocks, a device streams forever.
    let meta = std::fs::metadata(path)
        .map_err(|e| super::io_error(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(super::io_error(format!(
            "cannot read {}: not a regular file",
            path.display()
        )));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| super::io_error(format!("cannot read {}: {e}", path.display())))?;
    let mut net = rnnc::npz::read(std::io::BufReader::new(file), foreign).map_err(|e| {
        Diagnostic::error(&codes::WEIGHTS_INVALID, format!("{}: {e}", path.display()))
    })?;
    let warnings = rnnc::bind::adopt_names(&mut net, program, index).map_err(|d| Diagnostic {
        message: format!("{}: {}", path.display(), d.message),
        ..d
    })?;
    Ok((net, warnings))
}
