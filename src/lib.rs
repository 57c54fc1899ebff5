//! `rnnc`: a language and compiler for programming the latent dynamics of recurrent neural
//! networks. See `ARCHITECTURE.md` for the map of this crate.
//!
//! The front end in one call:
//!
//! ```
//! use rnnc::source::{MemLoader, SourceDb};
//!
//! let src = "import std.systems\nnetwork osc for Oscillator(freq = 2 Hz) { neurons = 500 }";
//! let mut db = SourceDb::new();
//! let analysis = rnnc::driver::analyze_text(&mut db, &MemLoader::default(), "demo.rnn", src);
//! assert!(!analysis.has_errors());
//! let net = analysis.program.network("osc").unwrap();
//! assert!(matches!(net.method.kind, rnnc::decl::Method::Nef(_)));
//! assert_eq!(net.dt, 1e-3); // SI units: the default `dt = 1 ms`
//! ```

// Numeric kernels index several arrays in step; index loops read clearer there.
#![allow(clippy::needless_range_loop)]

pub mod bind;
pub mod budget;
pub mod check;
pub mod constraints;
pub mod decl;
pub mod diag;
pub mod driver;
pub mod flat;
pub mod latent;
pub mod methods;
pub mod net;
pub mod npz;
pub mod ode;
pub mod progress;
pub mod reference;
pub mod repl;
pub mod rng;
pub mod sema;
pub mod sim;
pub mod source;
pub mod span;
pub mod syntax;
pub mod task;
pub mod time;
pub mod trace;
