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

/// One analysis in progress: `begin` when made, `end` when dropped, so every return path
/// (an early error included) closes the bar.
pub struct Guard<'a> {
    progress: &'a dyn Progress,
}

impl Guard<'_> {
    pub fn advance(&self, done: u64) {
        self.progress.advance(done);
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.progress.end();
    }
}

/// Begins an analysis of `total` units named `what`; it ends when the guard is dropped.
pub fn start<'a>(progress: &'a dyn Progress, what: &str, total: u64) -> Guard<'a> {
    progress.begin(what, total);
    Guard { progress }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Count(Cell<i32>);
    impl Progress for Count {
        fn begin(&self, _: &str, _: u64) {
            self.0.set(self.0.get() + 1);
        }
        fn end(&self) {
            self.0.set(self.0.get() - 1);
        }
    }

    #[test]
    fn an_early_return_closes_the_analysis() {
        let c = Count(Cell::new(0));
        let f = |fail: bool| -> Result<(), ()> {
            let _g = start(&c, "work", 10);
            if fail {
                return Err(());
            }
            Ok(())
        };
        assert!(f(true).is_err());
        assert_eq!(c.0.get(), 0);
        f(false).unwrap();
        assert_eq!(c.0.get(), 0);
    }
}
