//! The memory budget: every size that comes from input (a `neurons` count, a `simulate`
//! length over `dt`, a number of trials) is priced before it is allocated, so a program asking
//! for 10^12 steps gets an error naming the estimate and the budget instead of an abort.
//!
//! Time is bounded the same way: one run (a `simulate`, a training drive, a task's trials)
//! takes at most [`MAX_STEPS`] steps, and a time constant spans at most [`MAX_STEPS_PER_TAU`]
//! steps, so no `dt` of 1e-300 s turns a 20-time-constant window into an endless loop.
//!
//! The memory budget is one number for the process, set once by the command line (`--memory`, else
//! a share of what the machine offers); the library's default is [`DEFAULT`]. Estimates are
//! in `f64` bytes so that no product of input sizes can overflow on its way here.

use std::sync::atomic::{AtomicU64, Ordering};

/// The budget when nobody set one: 4 GB.
pub const DEFAULT: u64 = 4_000_000_000;

static LIMIT: AtomicU64 = AtomicU64::new(DEFAULT);

/// The most steps one run takes: 10^9 (about 20 minutes for 1000 neurons).
pub const MAX_STEPS: f64 = 1e9;

/// The most steps of `dt` in one time constant: 10^6. The analyses of `rnnc check` settle
/// and measure over tens of time constants.
pub const MAX_STEPS_PER_TAU: f64 = 1e6;

/// Sets the process's budget in bytes.
pub fn set(bytes: u64) {
    LIMIT.store(bytes.max(1), Ordering::Relaxed);
}

/// The process's budget in bytes.
pub fn limit() -> u64 {
    LIMIT.load(Ordering::Relaxed)
}

/// Work whose estimate is over the budget.
#[derive(Clone, Debug, PartialEq)]
pub struct TooLarge {
    /// What needs it, as a phrase: "a `simulate` of 2 s at dt = 1e-12 s".
    pub what: String,
    /// The estimate: bytes, or steps.
    pub amount: f64,
    /// The limit, in the same unit.
    pub limit: f64,
    /// Whether `amount` counts steps (else bytes).
    pub steps: bool,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.steps {
            write!(
                f,
                "{} takes {} steps, over the limit of {:.0e}",
                self.what,
                count(self.amount),
                self.limit
            )
        } else {
            write!(
                f,
                "{} needs about {} of memory, over the budget of {}",
                self.what,
                human(self.amount),
                human(self.limit)
            )
        }
    }
}

impl TooLarge {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        if self.steps {
            "make the duration shorter or `dt` larger"
        } else {
            "make it smaller, or raise the budget with `--memory` (for example `--memory 16GB`)"
        }
    }

    /// The diagnostic, at the declaration that asked for the work.
    pub fn diagnostic(&self, span: crate::span::Span) -> crate::diag::Diagnostic {
        crate::diag::Diagnostic::error(&crate::diag::codes::LIMITS_TOO_LARGE, self.to_string())
            .at(span, "asked for here")
            .help(self.help())
    }
}

/// `Ok` when `bytes` fits the budget; `what` is only evaluated for the error.
pub fn claim(bytes: f64, what: impl FnOnce() -> String) -> Result<(), TooLarge> {
    let limit = limit() as f64;
    if bytes.is_finite() && bytes <= limit {
        Ok(())
    } else {
        Err(TooLarge {
            what: what(),
            amount: bytes,
            limit,
            steps: false,
        })
    }
}

/// `Ok` when one run of `steps` steps is within [`MAX_STEPS`].
pub fn steps(steps: f64, what: impl FnOnce() -> String) -> Result<(), TooLarge> {
    if steps.is_finite() && steps <= MAX_STEPS {
        Ok(())
    } else {
        Err(TooLarge {
            what: what(),
            amount: steps,
            limit: MAX_STEPS,
            steps: true,
        })
    }
}

/// A number for a message: plain between 1e-4 and 1e6 (`0.001`, `200`), else in exponent
/// form (`1e-300`, `1e9`).
pub fn num(x: f64) -> String {
    if x == 0.0 || (1e-4..1e6).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

fn count(x: f64) -> String {
    if x < 1e6 {
        format!("{x:.0}")
    } else {
        format!("{x:.1e}")
    }
}

/// An `rows x cols` zero matrix, or an error where the allocator refuses it (a budget
/// raised past what the machine has, under a `ulimit -v`), instead of an abort.
pub fn try_zeros(rows: usize, cols: usize) -> Result<faer::Mat<f64>, String> {
    let mut m = faer::Mat::<f64>::new();
    m.try_reserve(rows, cols).map_err(|_| {
        format!(
            "cannot allocate a {rows} x {cols} matrix ({})",
            human(f64s(rows as f64 * cols as f64))
        )
    })?;
    m.resize_with(rows, cols, |_, _| 0.0);
    Ok(m)
}

/// Bytes of `count` `f64` values.
pub fn f64s(count: f64) -> f64 {
    count * 8.0
}

/// `1.5 GB`, `800 MB`, `3e+12 TB`: decimal units, three significant figures.
pub fn human(bytes: f64) -> String {
    if !bytes.is_finite() {
        return "more than any machine has".into();
    }
    let units = ["bytes", "kB", "MB", "GB", "TB"];
    let mut v = bytes;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if v >= 1e6 {
        format!("{v:.1e} {}", units[u])
    } else if u == 0 || v >= 100.0 {
        format!("{v:.0} {}", units[u])
    } else {
        // Three significant figures, trailing zeros dropped: 1.5 GB, 12.3 MB, 2 GB.
        let s = format!("{v:.*}", if v >= 10.0 { 1 } else { 2 });
        let s = s.trim_end_matches('0').trim_end_matches('.');
        format!("{s} {}", units[u])
    }
}

/// Parses `--memory`: `16GB`, `512 MB`, `2GiB`, `1e9` (bytes).
pub fn parse(text: &str) -> Result<u64, String> {
    let t = text.trim();
    // The unit is the trailing run of letters (`1e9` has none: its `e` is followed by digits).
    let split = t.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len();
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size (write it like `16GB` or `512MB`)"))?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        _ => {
            return Err(format!(
            "unknown size unit `{unit}` in `{text}` (use B, kB, MB, GB, TB or KiB, MiB, GiB, TiB)"
        ))
        }
    };
    let bytes = value * scale;
    if !(1.0..1.8e19).contains(&bytes) {
        return Err(format!("`{text}` is not a usable memory size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_and_parse() {
        assert_eq!(human(512.0), "512 bytes");
        assert_eq!(human(1.5e9), "1.5 GB");
        assert_eq!(human(2e9), "2 GB");
        assert_eq!(human(12.34e6), "12.3 MB");
        assert_eq!(human(8e15), "8000 TB");
        assert_eq!(human(8e24), "8.0e12 TB");
        assert_eq!(parse("16GB").unwrap(), 16_000_000_000);
        assert_eq!(parse("2 GiB").unwrap(), 2 << 30);
        assert_eq!(parse("1e9").unwrap(), 1_000_000_000);
        assert!(parse("lots").is_err());
        assert!(parse("5 parsecs").is_err());
        assert!(parse("0").is_err());
        assert_eq!(num(0.001), "0.001");
        assert_eq!(num(1e9), "1e9");
        assert_eq!(num(1e-300), "1e-300");
    }

    #[test]
    fn claims_compare_with_the_budget() {
        // Far below and far above any budget this process could have been given.
        assert!(claim(1e3, || unreachable!()).is_ok());
        let e = claim(f64s(1e18), || "a `simulate` of 1e18 steps".into()).unwrap_err();
        assert_eq!(e.amount, 8e18);
        assert!(e
            .to_string()
            .starts_with("a `simulate` of 1e18 steps needs about 8.0e6 TB"));
        assert!(claim(f64::NAN, || "nothing".into()).is_err());
        assert!(steps(1e9, || unreachable!()).is_ok());
        let e = steps(2e300, || "a `simulate` of 2 s".into()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a `simulate` of 2 s takes 2.0e300 steps, over the limit of 1e9"
        );
    }
}
