//! `nef`: the Neural Engineering Framework with the exact discrete Principle 3
//! (METHODS.md section 2). `build` turns a system instance into a rank-d network; `verify`
//! measures the latent one-step map the weights implement against the program's flow map.
//! The two are tested against each other.

mod build;
pub mod verify;

pub use build::{build, grid_positions, Design};
