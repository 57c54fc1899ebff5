//! One integration-test binary: every file here is a module (21 binaries each linked faer,
//! plotters and rayon; one link is much cheaper on 2-core CI).

mod build_errors;
mod check;
mod cli;
mod cli_golden;
mod compile;
mod constraints;
mod decl;
mod depth;
mod examples;
mod examples_run;
mod feedback;
mod fixed_points;
mod foreign;
mod fuzz;
mod graph;
mod hostile;
mod independent;
mod interop;
mod limits;
mod lowrank;
mod lyapunov;
mod memory;
mod nef;
mod npz;
mod outputs;
mod reference;
mod reservoir;
mod robustness;
mod semantics;
mod sim;
mod task;
mod ui;
