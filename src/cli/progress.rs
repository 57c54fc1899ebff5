//! Progress on a terminal: a spinner while a network builds, a bar for long analyses once
//! one has run a second. Nothing is drawn when standard error is not a terminal.

use std::io::IsTerminal;
use std::time::Instant;

/// Progress of long analyses (the library's `Progress` hook).
pub struct Bars {
    on: bool,
    current: std::cell::RefCell<Option<Analysis>>,
}

struct Analysis {
    what: String,
    total: u64,
    start: Instant,
    bar: Option<indicatif::ProgressBar>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            on: std::io::stderr().is_terminal(),
            current: std::cell::RefCell::new(None),
        }
    }
}

impl rnnc::progress::Progress for Bars {
    fn begin(&self, what: &str, total: u64) {
        if self.on {
            *self.current.borrow_mut() = Some(Analysis {
                what: what.to_string(),
                total,
                start: Instant::now(),
                bar: None,
            });
        }
    }

    fn advance(&self, done: u64) {
        let mut current = self.current.borrow_mut();
        let Some(a) = current.as_mut() else { return };
        if a.bar.is_none() && a.start.elapsed().as_secs_f64() > 1.0 {
            let bar = indicatif::ProgressBar::new(a.total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "  {msg} [{bar:30}] {pos}/{len}, {eta} left",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(a.what.clone());
            a.bar = Some(bar);
        }
        if let Some(b) = &a.bar {
            b.set_position(done);
        }
    }

    fn end(&self) {
        if let Some(Analysis { bar: Some(b), .. }) = self.current.borrow_mut().take() {
            b.finish_and_clear();
        }
    }
}

/// A spinner with a message, on a terminal only.
pub fn spinner(msg: String) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(msg);
    pb.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(pb)
}
