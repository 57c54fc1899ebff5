//! `rnnc`: a language and compiler for programming the latent dynamics of recurrent neural
//! networks. See `ARCHITECTURE.md` for the map of this crate.

pub mod diag;
pub mod driver;
pub mod flat;
pub mod repl;
pub mod sema;
pub mod source;
pub mod span;
pub mod syntax;
