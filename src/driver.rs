//! The front end in one call: load a root file, analyse it with its imports, and summarize.
//! No terminal IO: callers decide what to print.

use crate::diag::Diagnostic;
use crate::sema::{self, Analysis, Program, Target, TimeKind};
use crate::source::{Loader, Origin, SourceDb};
use std::path::Path;

/// Compiles the front end for a file read through `loader`.
pub fn analyze_path(
    db: &mut SourceDb,
    loader: &dyn Loader,
    path: &Path,
) -> Result<Analysis, String> {
    let text = loader.load(path)?;
    let root = db.add(Origin::Path(path.to_path_buf()), text);
    Ok(sema::analyze(db, loader, root))
}

/// Compiles the front end for text that is not a file (REPL, tests).
pub fn analyze_text(db: &mut SourceDb, loader: &dyn Loader, name: &str, text: &str) -> Analysis {
    let root = db.add(Origin::Input(name.to_string()), text.to_string());
    sema::analyze(db, loader, root)
}

/// Errors first by position, warnings interleaved: the order the user reads the file in.
pub fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by_key(|d| {
        d.primary_span()
            .map(|s| (s.file, s.start, s.end))
            .unwrap_or_default()
    });
    diags
}

fn ms(x: f64) -> String {
    if x >= 1.0 {
        format!("{} s", crate::sema::lower::fmt_num(x))
    } else {
        format!(
            "{} ms",
            crate::sema::lower::fmt_num((x * 1e6).round() / 1e3)
        )
    }
}

/// One line per item of the root file: what `rnnc build --no-emit` prints.
pub fn summary(p: &Program) -> Vec<String> {
    let mut out = Vec::new();
    for s in &p.systems {
        if s.span.file != p.root {
            continue;
        }
        let kind = match s.kind {
            TimeKind::Flow => "flow",
            TimeKind::Map => "map",
        };
        out.push(format!(
            "system  {}: {} state dim, {} input dim, {} output(s), {kind}, {} parameter(s)",
            s.name,
            s.state_dim(),
            s.input_dim(),
            s.outputs.len(),
            s.params.len()
        ));
    }
    for t in &p.tasks {
        if t.span.file != p.root {
            continue;
        }
        out.push(format!(
            "task    {}: {} input(s), {} output(s), {} trial kind(s), {} condition variable(s), x{}",
            t.name,
            t.inputs.len(),
            t.outputs.len(),
            t.trials.len(),
            t.locals.len(),
            t.repeats
        ));
    }
    for n in p.root_networks() {
        let target = match &n.target {
            Target::System(i) => format!("for {}", p.systems[i.system].name),
            Target::Task(i) => format!("for {}", p.tasks[*i].name),
            Target::None => "direct".to_string(),
        };
        let neurons = n.neurons.map_or("sized by its file".to_string(), |k| {
            format!("{k} {}", n.neuron.name())
        });
        let tau = n.tau.map_or(String::new(), |t| format!(", tau {}", ms(t)));
        let cons = if n.constraints.is_empty() {
            String::new()
        } else {
            format!(
                ", constraints: {}",
                n.constraints
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        out.push(format!(
            "network {}: {} {target}, {neurons}, dt {}{tau}, seed {}{cons}",
            n.name,
            n.method.name(),
            ms(n.dt),
            n.seed
        ));
    }
    for c in &p.checks {
        if c.span.file != p.root {
            continue;
        }
        let sims = c
            .steps
            .iter()
            .filter(|s| matches!(s, sema::CheckStep::Simulate(_)))
            .count();
        let exps = c.steps.len() - sims;
        out.push(format!(
            "check   {}: {sims} simulate, {exps} expect",
            p.networks[c.network].name
        ));
    }
    out
}

/// The network a command means: `name` when given (an error when the program has none of
/// that name), else the root file's only network (an error when it has none or several).
pub fn pick_network(p: &Program, name: Option<&str>) -> Result<usize, Diagnostic> {
    use crate::diag::codes;
    if let Some(n) = name {
        return p.networks.iter().position(|x| x.name == n).ok_or_else(|| {
            let names: Vec<&str> = p.networks.iter().map(|x| x.name.as_str()).collect();
            let d = Diagnostic::error(&codes::CLI_NETWORK, format!("no network `{n}`"));
            match crate::diag::did_you_mean(n, names.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None if names.is_empty() => d.help("the program defines no network"),
                None => d.help(format!("its networks are {}", names.join(", "))),
            }
        });
    }
    let roots: Vec<usize> = p
        .networks
        .iter()
        .enumerate()
        .filter(|(_, n)| n.span.file == p.root)
        .map(|(i, _)| i)
        .collect();
    match roots.as_slice() {
        [one] => Ok(*one),
        [] => Err(
            Diagnostic::error(&codes::CLI_NETWORK, "the program defines no network")
                .help("add `network name for System { ... }`"),
        ),
        several => {
            let names: Vec<&str> = several
                .iter()
                .map(|&i| p.networks[i].name.as_str())
                .collect();
            let mut d = Diagnostic::error(
                &codes::CLI_NETWORK,
                format!("the program defines {} networks: choose one", names.len()),
            )
            .help(format!(
                "add `--network {}` (or one of {})",
                names[0],
                names.join(", ")
            ));
            for &i in several {
                d = d.at(p.networks[i].span, "a network");
            }
            Err(d)
        }
    }
}

/// A short stable hash of a source text for the manifest (64-bit FNV-1a, hex).
pub fn source_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}
