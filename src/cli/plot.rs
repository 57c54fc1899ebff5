//! Plots of a trace: the network's decoded state (solid) over the exact solution (dashed).

use plotters::prelude::*;
use rnnc::trace::Trace;
use std::path::Path;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The formats a plot is written in, by the path's extension.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Svg,
    Png,
}

/// The format `path` asks for; an error for any other extension (checked before a run, so a
/// typo costs nothing).
pub fn format(path: &Path) -> Result<Format, String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("svg") => Ok(Format::Svg),
        Some("png") => Ok(Format::Png),
        Some(e) => Err(format!(
            "cannot write a plot as `.{e}`: name the file `.svg` or `.png`"
        )),
        None => Err("a plot file needs an extension: `.svg` or `.png`".into()),
    }
}

/// The font every plot's text is laid out and drawn with (the SVG backend measures text too),
/// embedded so that plots work on a machine with no fonts installed.
fn register_font() -> Result<(), String> {
    static FONT: &[u8] = include_bytes!("../../assets/DejaVuSansMono.ttf");
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    ok.then_some(())
        .ok_or_else(|| "cannot load the plot font".to_string())
}

/// Writes an SVG or PNG (by extension) of `columns` of `net` over `reference`, whole or not
/// at all: drawn in memory (SVG) or into a temporary file beside `path` (PNG), then renamed.
pub fn plot(
    path: &Path,
    title: &str,
    net: &Trace,
    reference: &Trace,
    columns: &[String],
) -> Result<(), String> {
    let format = format(path)?;
    register_font()?;
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (1000, 500)).into_drawing_area();
                draw(root, title, net, reference, columns)?;
            }
            super::write_atomic(path, |mut w| {
                use std::io::Write;
                w.write_all(svg.as_bytes())
                    .and_then(|()| w.flush())
                    .map_err(|e| e.to_string())
            })
            .map_err(|d| d.message)
        }
        Format::Png => super::atomic_path(path, |tmp| {
            let root = BitMapBackend::new(tmp, (1000, 500)).into_drawing_area();
            draw(root, title, net, reference, columns)
        })
        .map_err(|d| d.message),
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    net: &Trace,
    reference: &Trace,
    columns: &[String],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| format!("cannot draw the plot: {x}");
    root.fill(&WHITE).map_err(e)?;
    let t = net.column("t").unwrap_or_default();
    let (t0, t1) = (
        t.first().copied().unwrap_or(0.0),
        t.last().copied().unwrap_or(1.0),
    );
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for c in columns {
        for tr in [net, reference] {
            for v in tr.column(c).unwrap_or_default() {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
    }
    if !lo.is_finite() || hi <= lo {
        lo -= 1.0;
        hi += 1.0;
    }
    let pad = 0.05 * (hi - lo);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(t0..t1.max(t0 + 1e-9), (lo - pad)..(hi + pad))
        .map_err(e)?;
    // Enough decimals that neighbouring tick labels differ (a drift of 1e-4 is not all `0.0`).
    let span = (hi + pad) - (lo - pad);
    let decimals = (-(span / 10.0).log10()).ceil().clamp(0.0, 12.0) as usize;
    let y_label = move |v: &f64| {
        if !(1e-12..=1e6).contains(&span) {
            format!("{v:.2e}")
        } else {
            format!("{v:.decimals$}")
        }
    };
    chart
        .configure_mesh()
        .x_desc("t (s)")
        .y_label_formatter(&y_label)
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(e)?;
    for (i, c) in columns.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        // The reference may be undefined in places (a task's unconstrained steps): one
        // dashed piece per run of finite values.
        let exact = reference.column(c).unwrap_or_default();
        let points: Vec<(f64, f64)> = t.iter().copied().zip(exact).collect();
        for run in points.split(|p| !p.1.is_finite()).filter(|r| !r.is_empty()) {
            chart
                .draw_series(DashedLineSeries::new(
                    run.iter().copied(),
                    6,
                    4,
                    color.mix(0.6).stroke_width(1),
                ))
                .map_err(e)?;
        }
        let ys = net.column(c).unwrap_or_default();
        chart
            .draw_series(LineSeries::new(
                t.iter().copied().zip(ys),
                color.stroke_width(2),
            ))
            .map_err(e)?
            .label(c.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}
