//! Rendering with miette, at the edge only: the core hands out [`Diagnostic`] data and this
//! function turns it into text. Labels in another file than the primary one are listed as
//! positions in the message, since one report shows one source.
//!
//! Miette never sees a whole file, only a [`Snippet`]: the labelled lines (and one line of
//! context around them in the root file and the standard library, none in an imported file,
//! so that a program cannot print another file into a log), each cut to a window of
//! [`WINDOW`] bytes with `…` marks when it is longer. A label is cut to its first line. So a
//! diagnostic costs the same on a 10 MB line or in a 64 MB file as in a small one.

use super::{Diagnostic, Severity};
use crate::source::{Origin, SourceDb, SourceFile};
use crate::span::{FileId, Span};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError,
    MietteSpanContents, Report, SourceCode, SourceSpan, SpanContents,
};
use std::collections::BTreeMap;

/// How to draw diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Colours and Unicode, for a terminal.
    Fancy,
    /// No colour, ASCII-safe Unicode, fixed width: golden tests.
    Plain,
}

/// The most bytes of one line a diagnostic quotes; a longer line is cut around its labels.
pub const WINDOW: usize = 120;
/// How much of a long line is quoted before a label's start.
const LEAD: usize = 40;
/// The mark for text left out of a quoted line.
const ELLIPSIS: &str = "…";

pub fn render(db: &SourceDb, d: &Diagnostic, style: Style) -> String {
    let primary = d.primary_span();
    let mut message = clip(&d.message);
    let mut labels = Vec::new();
    let mut snippet = primary.map(|p| SnippetBuilder::new(db, p.file));
    for l in &d.labels {
        let shown = match &mut snippet {
            Some(b) if b.file == l.span.file => b.label(l.span),
            _ => None,
        };
        match shown {
            Some((start, len)) => {
                labels.push(LabeledSpan::new(Some(clip(&l.message)), start, len));
            }
            None => message.push_str(&format!(
                "\n  ({} at {})",
                l.message,
                crate::source::position(db, l.span)
            )),
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
        md = md.with_help(clip(h));
    }
    let mut context = 1;
    let report = match snippet {
        Some(b) => {
            context = b.context;
            Report::new(md).with_source_code(b.finish())
        }
        None => Report::new(md),
    };
    let handler = match style {
        Style::Fancy => GraphicalReportHandler::new(),
        Style::Plain => GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false),
    }
    .with_context_lines(context);
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{}: {}\n", d.code.name, d.message);
    }
    out
}

/// Collects the labels of one file and the lines they need.
struct SnippetBuilder<'a> {
    file: FileId,
    src: &'a SourceFile,
    /// Lines of context around a labelled line.
    context: usize,
    /// Labelled lines, with the window quoted when the line is longer than [`WINDOW`].
    lines: BTreeMap<usize, Option<(usize, usize)>>,
}

impl<'a> SnippetBuilder<'a> {
    fn new(db: &'a SourceDb, file: FileId) -> Self {
        let src = db.get(file);
        // The file the user named (the first of a compilation), text typed on the command
        // line and the standard library show context; an imported file only its labelled
        // lines.
        let context = match src.origin {
            Origin::Path(_) if file != FileId(0) => 0,
            _ => 1,
        };
        SnippetBuilder {
            file,
            src,
            context,
            lines: BTreeMap::new(),
        }
    }

    /// Where a label is drawn (start and length), cut to its first line and to the window
    /// of a long line; `None` when it falls outside the window another label of the same
    /// line has chosen (the caller lists it by position instead).
    fn label(&mut self, span: Span) -> Option<(usize, usize)> {
        let text = &self.src.text;
        let start = floor_char(text, (span.start as usize).min(text.len()));
        let line = self.src.line_of(start);
        let range = self.src.line_range(line);
        let mut end = (span.end as usize).clamp(start, range.end.max(start));
        if range.len() <= WINDOW {
            self.lines.insert(line, None);
            return Some((start, end - start));
        }
        let window = match self.lines.get(&line) {
            Some(Some(w)) => *w,
            _ => {
                let lo = floor_char(text, start.saturating_sub(LEAD).max(range.start));
                let hi = floor_char(text, (lo + WINDOW).min(range.end));
                (lo, hi)
            }
        };
        if start < window.0 || start > window.1 {
            return None;
        }
        self.lines.insert(line, Some(window));
        end = end.min(window.1);
        Some((start, end - start))
    }

    fn finish(self) -> Snippet {
        let text = &self.src.text;
        let last_line = self.src.line_of(text.len());
        // Every line shown: labelled ones with their window, context lines whole when short.
        let mut shown: BTreeMap<usize, Option<(usize, usize)>> = BTreeMap::new();
        for (&line, &window) in &self.lines {
            let lo = line.saturating_sub(self.context);
            let hi = (line + self.context).min(last_line);
            for l in lo..=hi {
                if l == line {
                    shown.insert(l, window);
                } else if self.src.line_range(l).len() <= WINDOW {
                    shown.entry(l).or_insert(None);
                }
            }
        }
        // Regions: runs of consecutive whole lines; a windowed line is a region of its own.
        let mut regions: Vec<Region> = Vec::new();
        for (line, window) in shown {
            let range = self.src.line_range(line);
            let with_break = (range.end + 1).min(text.len()).max(range.end);
            match window {
                None => {
                    if let Some(r) = regions.last_mut() {
                        if !r.windowed && r.first_line + r.line_starts.len() == line {
                            r.line_starts.push(range.start);
                            r.data.push_str(&text[range.start..with_break]);
                            r.end = with_break;
                            continue;
                        }
                    }
                    regions.push(Region {
                        first_line: line,
                        line_starts: vec![range.start],
                        offset: range.start,
                        start: range.start,
                        end: with_break,
                        data: text[range.start..with_break].to_string(),
                        windowed: false,
                    });
                }
                Some((lo, hi)) => {
                    let mut data = String::new();
                    let mut offset = lo;
                    if lo > range.start {
                        data.push_str(ELLIPSIS);
                        offset = lo.saturating_sub(ELLIPSIS.len());
                    }
                    data.push_str(&text[lo..hi]);
                    if hi < range.end {
                        data.push_str(ELLIPSIS);
                    }
                    data.push('\n');
                    regions.push(Region {
                        first_line: line,
                        line_starts: vec![range.start],
                        offset,
                        start: lo,
                        end: hi,
                        data,
                        windowed: true,
                    });
                }
            }
        }
        Snippet {
            name: self.src.display_name(),
            regions,
        }
    }
}

/// The greatest char boundary of `text` at or before `i`.
fn floor_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Consecutive lines as quoted: `data` stands at byte `offset` of the file (a windowed line
/// starts with `…`, so its `offset` is the window's start less the mark's length).
struct Region {
    first_line: usize,
    /// The file offset where each line of the region starts.
    line_starts: Vec<usize>,
    offset: usize,
    /// The file bytes the region quotes.
    start: usize,
    end: usize,
    data: String,
    windowed: bool,
}

/// The part of a file a diagnostic shows (what miette reads instead of the file).
struct Snippet {
    name: String,
    regions: Vec<Region>,
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (s, e) = (span.offset(), span.offset() + span.len());
        // A span is read from one region only: two labels in different regions are drawn
        // as two snippets.
        let region = self
            .regions
            .iter()
            .find(|r| r.start <= s && e <= r.end.max(r.start + 1))
            .ok_or(MietteError::OutOfBounds)?;
        let line_in = |off: usize| {
            region
                .line_starts
                .partition_point(|&st| st <= off)
                .saturating_sub(1)
        };
        let first = line_in(s);
        let last = line_in(e.saturating_sub(1).max(s));
        let column = if before == 0 {
            s - region.line_starts[first]
        } else {
            0
        };
        if region.windowed {
            return Ok(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                region.data.as_bytes(),
                (region.offset, region.data.len()).into(),
                region.first_line,
                column,
                1,
            )));
        }
        let lo = first.saturating_sub(before);
        let hi = (last + after).min(region.line_starts.len() - 1);
        let from = region.line_starts[lo] - region.offset;
        let to = region
            .line_starts
            .get(hi + 1)
            .map_or(region.data.len(), |&n| n - region.offset);
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &region.data.as_bytes()[from..to],
            (region.line_starts[lo], to - from).into(),
            region.first_line + lo,
            column,
            hi - lo + 1,
        )))
    }
}

/// Renders a list, followed by a one-line count.
/// At most this many diagnostics are rendered; the rest are counted. A generated file with a
/// million mistakes gets a readable answer in bounded time.
pub const MAX_SHOWN: usize = 100;

/// A message, label or help of at most about 400 characters: a name of 5 MB quoted in a
/// message is shown by its ends.
fn clip(text: &str) -> String {
    const HEAD: usize = 240;
    const TAIL: usize = 120;
    if text.len() <= HEAD + TAIL + 40 {
        return text.to_string();
    }
    let head = floor_char(text, HEAD);
    let tail = floor_char(text, text.len() - TAIL);
    format!(
        "{} … ({} bytes not shown) … {}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

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
