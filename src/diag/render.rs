//! Rendering with miette, at the edge only: the core hands out [`Diagnostic`] data and this
//! function turns it into text. Labels in another file than the primary one are listed as
//! positions in the message, since one report shows one source.

use super::{Diagnostic, Severity};
use crate::source::SourceDb;
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};

/// How to draw diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Colours and Unicode, for a terminal.
    Fancy,
    /// No colour, ASCII-safe Unicode, fixed width: golden tests.
    Plain,
}

pub fn render(db: &SourceDb, d: &Diagnostic, style: Style) -> String {
    let primary = d.primary_span();
    let mut message = d.message.clone();
    let mut labels = Vec::new();
    for l in &d.labels {
        if Some(l.span.file) == primary.map(|p| p.file) {
            labels.push(LabeledSpan::new(
                Some(l.message.clone()),
                l.span.start as usize,
                l.span.len(),
            ));
        } else {
            message.push_str(&format!(
                "\n  ({} at {})",
                l.message,
                crate::source::position(db, l.span)
            ));
        }
    }
    let mut md = MietteDiagnostic::new(message)
        .with_code(d.code.name)
        .with_severity(match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        });
    if !labels.is_empty() {
        md = md.with_labels(labels);
    }
    if let Some(h) = &d.help {
        md = md.with_help(h.clone());
    }
    let report = match primary {
        Some(span) => {
            let f = db.get(span.file);
            Report::new(md).with_source_code(NamedSource::new(f.display_name(), f.text.clone()))
        }
        None => Report::new(md),
    };
    let handler = match style {
        Style::Fancy => GraphicalReportHandler::new(),
        Style::Plain => GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false),
    };
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{}: {}\n", d.code.name, d.message);
    }
    out
}

/// At most this many diagnostics are rendered; the rest are counted. A generated file with a
/// million mistakes gets a readable answer in bounded time.
pub const MAX_SHOWN: usize = 100;

/// Renders `diags` (the first [`MAX_SHOWN`]) and a count line.
pub fn render_all(db: &SourceDb, diags: &[Diagnostic], style: Style) -> String {
    let mut out = String::new();
    for d in diags.iter().take(MAX_SHOWN) {
        out.push_str(&render(db, d, style));
    }
    if diags.len() > MAX_SHOWN {
        out.push_str(&format!(
            "... and {} more diagnostics not shown (the first {MAX_SHOWN} are above)\n",
            diags.len() - MAX_SHOWN
        ));
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        out.push_str(&format!(
            "{errors} error{}{}\n",
            if errors == 1 { "" } else { "s" },
            if warnings > 0 {
                format!(
                    ", {warnings} warning{}",
                    if warnings == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        ));
    }
    out
}
