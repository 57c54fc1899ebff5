//! Time in one place: how a duration in seconds becomes a number of steps of `dt`.
//!
//! Two rules, each used everywhere it applies:
//! - A duration the program states (a `simulate` length, a period, `skip`, `washout`,
//!   `train`) lasts [`steps`]`(T, dt) = round(T / dt)` steps, ties away from zero, the rule
//!   LANGUAGE.md gives for periods (a warning says when `T` is off the step grid).
//! - A window an analysis needs to be *at least* `T` long (settling for `20 tau_max`, a
//!   drift window of `5 tau_max`) lasts [`steps_at_least`]`(T, dt) = ceil(T / dt)` steps,
//!   where a quotient within 1e-9 of a whole number counts as that number (`0.3 / 0.1` is 3
//!   steps, not 4).

/// Counts saturate here, far above [`crate::budget::MAX_STEPS`], so that arithmetic on a
/// count (`steps + 1`, `steps * width`) cannot overflow before the budget refuses it.
pub const SATURATE: f64 = 1e15;

/// Steps of `dt` in a stated duration: `round(T / dt)`, ties away from zero; 0 for a
/// negative or non-finite quotient, [`SATURATE`] for a larger one (or an infinite one).
pub fn steps(duration: f64, dt: f64) -> usize {
    let q = duration / dt;
    if q > 0.0 {
        q.min(SATURATE).round() as usize
    } else {
        0
    }
}

/// Steps of `dt` covering at least `duration`: `ceil(T / dt)` up to a relative 1e-9.
pub fn steps_at_least(duration: f64, dt: f64) -> usize {
    let q = duration / dt;
    if q > 0.0 {
        (q - 1e-9 * q.max(1.0)).min(SATURATE).ceil() as usize
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_rules() {
        assert_eq!(steps(0.3, 0.1), 3);
        assert_eq!(steps(0.0015, 0.001), 2); // ties away from zero
        assert_eq!(steps(0.00149, 0.001), 1);
        assert_eq!(steps(-1.0, 0.001), 0);
        assert_eq!(steps(f64::NAN, 0.001), 0);
        assert_eq!(steps(1.0, 1e-300), 1e15 as usize);
        assert_eq!(steps(f64::INFINITY, 1.0), 1e15 as usize);
        assert_eq!(steps_at_least(1.0, 0.0), 1e15 as usize);
        assert_eq!(steps_at_least(0.3, 0.1), 3);
        assert_eq!(steps_at_least(0.30001, 0.1), 4);
        assert_eq!(steps_at_least(2.0, 0.001), 2000);
        assert_eq!(steps_at_least(2.0000001, 0.001), 2001);
    }
}
