//! How a long analysis says how far it is. The checker calls these hooks; the CLI draws a
//! progress bar for analyses that take more than a second (the core does no terminal IO).

/// Receives the progress of one analysis at a time: `begin`, any number of `advance`, `end`.
pub trait Progress {
    /// A new analysis of `total` units of work (steps, starts, trials), named for a person.
    fn begin(&self, _what: &str, _total: u64) {}
    /// `done` units of the current analysis are finished.
    fn advance(&self, _done: u64) {}
    fn end(&self) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}
