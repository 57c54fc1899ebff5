//! `rnnc build`: one weight file per network.

use super::progress::spinner;
use super::{write_atomic, Shell, EXIT_INVALID};
use rnnc::diag::Diagnostic;
use rnnc::driver;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn command(shell: &mut Shell, args: Args) -> ExitCode {
    let Some(analysis) = shell.front_end(&args.file) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let program = &analysis.program;
    let only = match &args.network {
        Some(n) => match driver::pick_network(program, Some(n)) {
            Ok(i) => Some(i),
            Err(d) => return shell.fail(&[d]),
        },
        None => None,
    };
    if args.no_emit {
        for line in driver::summary(program) {
            let keep = only.is_none_or(|i| {
                !line.starts_with("network")
                    || line.starts_with(&format!("network {}:", program.networks[i].name))
            });
            if keep {
                println!("{line}");
            }
        }
        return ExitCode::SUCCESS;
    }
    let targets: Vec<usize> = match only {
        Some(i) => vec![i],
        None => program
            .networks
            .iter()
            .enumerate()
            .filter(|(_, n)| n.span.file == program.root)
            .map(|(i, _)| i)
            .collect(),
    };
    if targets.is_empty() {
        eprintln!(
            "{} defines no network: nothing to build",
            args.file.display()
        );
        return ExitCode::SUCCESS;
    }
    let opts = rnnc::npz::WriteOpts {
        dense: args.dense,
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let mut failed = false;
    for i in targets {
        let Some(built) = build_one(shell, program, i) else {
            failed = true;
            continue;
        };
        // The folder is made when the first network is ready, so a failed build leaves none.
        if !args.out.is_dir() {
            if let Err(e) = std::fs::create_dir_all(&args.out) {
                return shell.fail(&[super::io_error(format!(
                    "cannot create {}: {e}",
                    args.out.display()
                ))]);
            }
        }
        let path = args.out.join(format!("{}.npz", program.networks[i].name));
        let written = write_atomic(&path, |w| {
            rnnc::npz::write(w, &built.net, &opts).map_err(|e| e.to_string())
        });
        match written {
            Ok(()) => eprintln!("  -> {}", path.display()),
            Err(d) => {
                shell.report(&[d]);
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

/// Builds one network, printing a progress line and its warnings; `None` (with the error
/// printed) on failure.
pub fn build_one(
    shell: &Shell,
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
    let mut built = match result {
        Ok(b) => b,
        Err(d) => {
            shell.report(&[d]);
            return None;
        }
    };
    let text = shell.db.text(network.span.file);
    let name = shell.db.get(network.span.file).display_name();
    built.net.meta.source = Some((name, driver::source_hash(text)));
    let warnings: Vec<Diagnostic> = built.warnings.clone();
    shell.report(&warnings);
    let rank = built
        .net
        .w_rec
        .rank()
        .map_or("full".to_string(), |r| r.to_string());
    let rmse = built
        .decoder_rmse
        .map_or(String::new(), |e| format!(", decoder rmse {e:.2e}"));
    let measured = figures_text(&built.figures);
    eprintln!(
        "built {}: N = {}, rank {rank}{rmse}{measured} in {secs:.2} s",
        network.name,
        built.net.n()
    );
    // Options a drive left `auto` and chose by its validation search (the manifest's
    // `options.chosen`).
    if let Some(c) = built.net.meta.options.get("chosen") {
        let parts: Vec<String> = ["spectral_radius", "input_scale", "bias", "ridge"]
            .iter()
            .filter_map(|k| {
                c.get(*k)
                    .and_then(|v| v.as_f64())
                    .map(|v| format!("{k} = {v:.3e}"))
            })
            .collect();
        if !parts.is_empty() {
            eprintln!(
                "  chosen by validation: {} ({} candidates)",
                parts.join(", "),
                c.get("candidates").map_or("?".into(), |v| v.to_string())
            );
        }
    }
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

/// What the build measured on the network, for its line: the one-step flow-map error, the
/// degree and readout condition of a compile, the largest weight.
fn figures_text(f: &rnnc::methods::Figures) -> String {
    let mut out = String::new();
    if let Some(e) = f.flow_error {
        out += &format!(
            ", flow error {}",
            rnnc::methods::reservoir::compile::percent(e)
        );
    }
    if let Some(d) = f.degree {
        out += &format!(", degree {d}");
    }
    if let Some(c) = f.condition {
        out += &format!(", condition {c:.1e}");
    }
    if let Some(a) = f.training_accuracy {
        out += &format!(", training accuracy {:.1} %", 100.0 * a);
    }
    out += &format!(", max |w| {:.1e}", f.max_weight);
    out
}
