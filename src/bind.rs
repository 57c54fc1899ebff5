//! Binding a weight file to a program: a foreign network is read by what the *program*
//! declares, not by names the file chooses. A file without a manifest gets the target's
//! names (states, inputs, outputs); either way `W_in` must have one column per input of the
//! target and `W_out` a row per latent state of a system (or per output of a task).

use crate::diag::{codes, Diagnostic};
use crate::net::Net;
use crate::sema::model::{expand, Program, Target};

/// Fills the names a foreign file's manifest would give from network `index`'s target, and
/// checks `W_out` and `W_in` against them.
pub fn adopt_names(net: &mut Net, program: &Program, index: usize) -> Result<(), Diagnostic> {
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
        Target::None => return Ok(()),
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
    let mismatch = |msg: String| {
        Diagnostic::error(&codes::WEIGHTS_MISMATCH, msg).at(
            network.span,
            format!("the file is checked as network `{}`", network.name),
        )
    };
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
    Ok(())
}
