//! Binding a weight file to a program: a foreign network is read by what the *program*
//! declares, not by names the file chooses. The file's rows and columns get the target's
//! names (states, inputs, outputs); names a manifest gives must be those, in that order (a
//! clash is an error naming both). `W_in` must have one column per input of the target and
//! `W_out` a row per latent state of a system (or per output of a task).
//!
//! Rows are bound by declaration, never by counting alone: a system's `W_out` holds its
//! latent states first, then optionally one row per declared `output`. A file with only the
//! state rows is read as states (whatever the counts, so a system with as many outputs as
//! states is never read the other way), and is told that its outputs are missing
//! (`rnnc::weights::missing_output`, a warning: the states are still checked). A manifest
//! that names outputs must carry their rows.

use crate::diag::{codes, Diagnostic};
use crate::net::Net;
use crate::sema::model::{expand, Program, Target};

/// Fills the names a foreign file's manifest would give from network `index`'s target, and
/// checks `W_out` and `W_in` against them. `Ok` carries the warnings of the binding (a
/// system's outputs the file has no rows for).
pub fn adopt_names(
    net: &mut Net,
    program: &Program,
    index: usize,
) -> Result<Vec<Diagnostic>, Diagnostic> {
    let network = &program.networks[index];
    let (name, states, inputs, outputs) = match &network.target {
        Target::System(inst) => {
            let sys = &program.systems[inst.system];
            let outputs = expand(sys.outputs.iter().map(|(n, e)| {
                let len = e.shape().len();
                (n.as_str(), (len != 1).then_some(len))
            }));
            (&sys.name, sys.state_names(), sys.input_names(), outputs)
        }
        Target::Task(ti) => {
            let task = &program.tasks[*ti];
            (
                &task.name,
                Vec::new(),
                task.input_names(),
                task.output_names(),
            )
        }
        Target::None => return Ok(Vec::new()),
    };
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
    let mismatch = |msg: String| {
        Diagnostic::error(&codes::WEIGHTS_MISMATCH, msg).at(
            network.span,
            format!("the file is checked as network `{}`", network.name),
        )
    };
    if let Some(k) = network.neurons.filter(|&k| k != net.n()) {
        return Err(mismatch(format!(
            "the file has N = {} neurons (array `b_rec` has shape ({},)), but network `{}` \
             declares neurons = {k}",
            net.n(),
            net.n(),
            network.name
        )));
    }
    if net.n_out() < rows {
        return Err(mismatch(format!(
            "array `W_out` has shape ({}, {}), expected ({rows}, {}) or more rows: one per \
             {what} of `{name}`",
            net.n_out(),
            net.n(),
            net.n(),
        )));
    }
    if net.n_inputs() != inputs.len() {
        return Err(mismatch(format!(
            "array `W_in` has shape ({}, {}), expected ({}, {}): one column per input of `{name}`",
            net.n(),
            net.n_inputs(),
            net.n(),
            inputs.len(),
        )));
    }
    // A system's readout is its state rows, then optionally one row per output; a task's is
    // one row per output.
    let full = states.len() + outputs.len();
    if net.n_out() > rows && net.n_out() != full {
        let want = if states.is_empty() || outputs.is_empty() {
            format!("({rows}, {})", net.n())
        } else {
            format!("({rows}, {}) or ({full}, {})", net.n(), net.n())
        };
        let per = if states.is_empty() || outputs.is_empty() {
            format!("one per {what} of `{name}`")
        } else {
            format!("one per {what} of `{name}`, then one per output")
        };
        return Err(mismatch(format!(
            "array `W_out` has shape ({}, {}), expected {want}: {per}",
            net.n_out(),
            net.n(),
        )));
    }
    if let (Some((w_enc, _)), false) = (&net.enc, states.is_empty()) {
        if w_enc.ncols() != states.len() {
            return Err(mismatch(format!(
                "array `W_enc` has shape ({}, {}), expected ({}, {}): one column per latent \
                 state of `{name}`",
                net.n(),
                w_enc.ncols(),
                net.n(),
                states.len()
            )));
        }
    }
    // The program decides what is compared: names a manifest gives must be the target's own,
    // in its order (a file that calls its latent state `u`, an input's name, would otherwise
    // compare the input with itself). Then the target's names are used either way.
    let m = &mut net.meta;
    for (what, given, want) in [
        ("states", &m.states, &states),
        ("inputs", &m.inputs, &inputs),
        ("outputs", &m.outputs, &outputs),
    ] {
        if !given.is_empty() && given != want {
            return Err(Diagnostic::error(
                &codes::WEIGHTS_MISMATCH,
                format!(
                    "the manifest's {what} are [{}], but `{name}` declares [{}]",
                    given.join(", "),
                    want.join(", ")
                ),
            )
            .at(network.span, format!("the file is checked as network `{}`", network.name))
            .help("the program's declarations decide which rows are which: rename them in the manifest, or check the file against the program it was made for"));
        }
    }
    // A system's file may carry only the state rows; its outputs are then not in the file,
    // which a manifest naming them contradicts.
    let n_out = net.n_out();
    let has_outputs = n_out >= states.len() + outputs.len();
    let mut warnings = Vec::new();
    if !states.is_empty() && !outputs.is_empty() && !has_outputs {
        if !net.meta.outputs.is_empty() {
            return Err(mismatch(format!(
                "the manifest names the outputs [{}], but array `W_out` has shape ({}, {}): \
                 one row per latent state of `{name}` and none for the outputs",
                outputs.join(", "),
                n_out,
                net.n(),
            ))
            .help(format!(
                "`W_out` holds the latent states first, then one row per output: ({full}, {}) \
                 for this manifest",
                net.n()
            )));
        }
        warnings.push(
            Diagnostic::warning(
                &codes::WEIGHTS_MISSING_OUTPUT,
                format!(
                    "array `W_out` has {n_out} row{}, one per latent state of `{name}`: the file \
                     has no row for its output{} {}, which is not compared",
                    if n_out == 1 { "" } else { "s" },
                    if outputs.len() == 1 { "" } else { "s" },
                    outputs
                        .iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .at(
                network.span,
                format!("the file is checked as network `{}`", network.name),
            )
            .help(format!(
                "the rows are bound by declaration: the latent states first, then one per \
                 output; give `W_out` the shape ({full}, {}) to have the outputs checked",
                net.n()
            )),
        );
    }
    let m = &mut net.meta;
    m.states = states.clone();
    m.inputs = inputs.clone();
    m.outputs = if has_outputs {
        outputs.clone()
    } else {
        Vec::new()
    };
    Ok(warnings)
}
