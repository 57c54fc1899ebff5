//! Runs outside what the program specifies (issue 13): a network is built for its system's
//! domain and its inputs' declared ranges, so a `simulate` that starts outside the domain,
//! drives an input beyond its range, or whose exact solution leaves the domain measures the
//! network where nothing was asked of it. Each is a warning at the `from`, the `with` or the
//! `simulate`, and the lines measured on that run say so.

use crate::diag::{codes, Diagnostic};
use crate::latent::Latent;
use crate::sema::model::{Region, Simulate};
use crate::trace::Trace;

/// Relative slack (of a region's half-width) before a value counts as outside: the exact
/// solution of a state that reaches its boundary (an integrator driven to 1) lands within
/// the integrator's tolerance of it, on either side.
const SLACK: f64 = 1e-6;

/// How far `z` lies outside `region`, in units of its half-width (0 inside, up to the slack).
fn excess(region: &Region, z: &[f64]) -> f64 {
    let e = match region {
        Region::Box { lo, hi } => z
            .iter()
            .zip(lo.iter().zip(hi))
            .map(|(x, (l, h))| {
                let half = (0.5 * (h - l)).abs().max(f64::MIN_POSITIVE);
                ((l - x).max(x - h) / half).max(0.0)
            })
            .fold(0.0, f64::max),
        Region::Ball { radius, center } => {
            let r = z
                .iter()
                .zip(center)
                .map(|(x, c)| (x - c) * (x - c))
                .sum::<f64>()
                .sqrt();
            ((r - radius) / radius.abs().max(f64::MIN_POSITIVE)).max(0.0)
        }
    };
    if e > SLACK {
        e
    } else {
        0.0
    }
}

/// `[-1, 1]`, `radius 2`, `radius 2 around [1, 0]`.
fn describe(region: &Region) -> String {
    let num = crate::budget::num;
    match region {
        Region::Box { lo, hi } if lo.len() == 1 => format!("[{}, {}]", num(lo[0]), num(hi[0])),
        Region::Box { lo, hi } => format!(
            "the box {}",
            lo.iter()
                .zip(hi)
                .map(|(l, h)| format!("[{}, {}]", num(*l), num(*h)))
                .collect::<Vec<_>>()
                .join(" x ")
        ),
        Region::Ball { radius, center } if center.iter().all(|c| *c == 0.0) => {
            format!("radius {}", num(*radius))
        }
        Region::Ball { radius, center } => format!(
            "radius {} around [{}]",
            num(*radius),
            center
                .iter()
                .map(|c| num(*c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn values(v: &[f64]) -> String {
    let s: Vec<String> = v.iter().map(|x| format!("{x:.4}")).collect();
    if s.len() == 1 {
        s[0].clone()
    } else {
        format!("[{}]", s.join(", "))
    }
}

/// The names of the state components `comps` cover (`q` for all of `q[2]`).
fn state_names(lat: &Latent, comps: &[usize]) -> String {
    let mut at = 0;
    let mut names = Vec::new();
    for s in &lat.sys.states {
        let n = s.size.unwrap_or(1);
        if (at..at + n).any(|c| comps.contains(&c)) {
            names.push(format!("`{}`", s.name));
        }
        at += n;
    }
    names.join(", ")
}

/// The warnings of one run: its reference trace (columns of `trace::columns`) against the
/// domain of every state line and the declared range of every driven input. `network` names
/// the network in the labels.
pub fn outside(lat: &Latent, sim: &Simulate, reference: &Trace, network: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let (k, d) = (lat.k, lat.d);
    let rows = reference.rows();
    if rows == 0 || reference.columns.len() < 1 + k + d {
        return out;
    }
    let state = |r: usize| &reference.row(r)[1 + k..1 + k + d];
    let label = format!("checking network `{network}`");
    let slice = |z: &[f64], comps: &[usize]| comps.iter().map(|&c| z[c]).collect::<Vec<f64>>();

    // The start: a `from` outside the domain of its state line.
    let mut start_outside = false;
    let mut offsets = Vec::new();
    let mut at = 0;
    for s in &lat.sys.states {
        offsets.push(at);
        at += s.size.unwrap_or(1);
    }
    for (comps, region) in &lat.inst.domains {
        let z0 = slice(state(0), comps);
        if excess(region, &z0) == 0.0 {
            continue;
        }
        start_outside = true;
        // The `from` that set one of these components (sema checked `init` itself).
        let Some(i) = sim.from.iter().position(|(var, _)| {
            let base = offsets.get(*var).copied().unwrap_or(usize::MAX);
            let n = lat.sys.states.get(*var).map_or(0, |s| s.size.unwrap_or(1));
            (base..base.saturating_add(n)).any(|c| comps.contains(&c))
        }) else {
            continue;
        };
        let span = sim.from_spans.get(i).copied().unwrap_or(sim.span);
        out.push(
            Diagnostic::warning(
                &codes::CHECK_START_OUTSIDE_DOMAIN,
                format!(
                    "the run starts at {} = {}, outside the domain of the system ({}): the \
                     network is measured on a state its program does not cover",
                    state_names(lat, comps),
                    values(&z0),
                    describe(region)
                ),
            )
            .at(span, label.clone())
            .help("start inside the domain, or widen the domain (and rebuild) to cover this start"),
        );
    }

    // The drives: a declared range exceeded.
    for (i, ch) in lat.sys.inputs.iter().enumerate() {
        if ch.range.is_none() {
            continue;
        }
        let Some(w) = sim.with.iter().position(|(c, _)| *c == i) else {
            continue;
        };
        let Some((comps, region)) = lat.inst.input_ranges.get(i) else {
            continue;
        };
        let mut worst: Option<(f64, usize)> = None;
        let mut first = None;
        for r in 0..rows {
            let u = slice(&reference.row(r)[1..1 + k], comps);
            let e = excess(region, &u);
            if e > 0.0 {
                first.get_or_insert(r);
                if worst.is_none_or(|(w, _)| e > w) {
                    worst = Some((e, r));
                }
            }
        }
        let (Some(first), Some((_, r))) = (first, worst) else {
            continue;
        };
        let u = slice(&reference.row(r)[1..1 + k], comps);
        let span = sim.with_spans.get(w).copied().unwrap_or(sim.span);
        out.push(
            Diagnostic::warning(
                &codes::CHECK_INPUT_OUT_OF_RANGE,
                format!(
                    "the drive of `{}` leaves its declared range {} at t = {:.3} s and reaches \
                     {} at t = {:.3} s: the network is measured on an input its program does \
                     not cover",
                    ch.name,
                    describe(region),
                    reference.row(first)[0],
                    values(&u),
                    reference.row(r)[0],
                ),
            )
            .at(span, label.clone())
            .help("keep the drive within the input's range, or widen the range (and rebuild)"),
        );
    }

    // The exact solution leaving the domain (from a start inside it).
    if !start_outside {
        'rows: for r in 1..rows {
            for (comps, region) in &lat.inst.domains {
                let z = slice(state(r), comps);
                if excess(region, &z) > 0.0 {
                    out.push(
                        Diagnostic::warning(
                            &codes::CHECK_LEAVES_DOMAIN,
                            format!(
                                "the exact solution leaves the domain of the system at t = {:.3} \
                                 s ({} = {}, domain {}): the network is measured where its \
                                 program does not ask it to work",
                                reference.row(r)[0],
                                state_names(lat, comps),
                                values(&z),
                                describe(region)
                            ),
                        )
                        .at(sim.span, label.clone())
                        .help(
                            "shorten the run or weaken its drive so that the solution stays in \
                             the domain, or widen the domain (and rebuild)",
                        ),
                    );
                    break 'rows;
                }
            }
        }
    }
    out
}
