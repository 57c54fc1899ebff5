//! Metrics of the weights alone.

use super::*;

/// Largest `|lambda|` of `W_rec`: from the r x r product `R L` for a factored network (same
/// nonzero eigenvalues), from the full matrix otherwise.
pub(super) fn spectral_radius(net: &Net) -> Result<f64, String> {
    let m = match &net.w_rec {
        Recurrent::Factored { left, right } => right * left,
        Recurrent::Dense(w) => w.clone(),
    };
    let ev = m
        .eigenvalues()
        .map_err(|e| format!("the eigenvalue solver failed: {e:?}"))?;
    crate::net::fastmath::clear_upper();
    Ok(ev.iter().map(|z| z.re.hypot(z.im)).fold(0.0, f64::max))
}
