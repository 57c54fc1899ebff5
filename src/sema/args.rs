//! Command-line values as sources of their own: `rnnc run --for 5 s --from "q = [1, 0]"
//! --with "u = pulse(200 ms)"`. Each argument is added to the [`SourceDb`] under its flag's
//! name and parsed by the language's own parser as what the flag means (a duration
//! expression, a list of `name = expression` assignments), so a diagnostic points into the
//! argument, and an argument can only be that: `--with "u = 1 } network evil ..."` is not
//! an expression and is rejected, never pasted into the program.

use super::items::Sema;
use super::model::{Program, Simulate, Target};
use crate::diag::{codes, Diagnostic};
use crate::source::{Origin, SourceDb};
use crate::span::{FileId, Span, Spanned};
use crate::syntax::{self, ast};
use std::collections::HashMap;

/// `--for`, `--from` and `--with` of `rnnc run`, as typed.
#[derive(Clone, Debug, Default)]
pub struct RunArgs<'a> {
    pub duration: &'a str,
    pub from: Option<&'a str>,
    pub with: Option<&'a str>,
}

/// Analyses `rnnc run`'s arguments for network `index` of `program` into a `simulate` step,
/// exactly as the same clauses in a `check` block would be.
pub fn simulate(
    db: &mut SourceDb,
    program: &Program,
    index: usize,
    args: &RunArgs,
) -> Result<Simulate, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let duration = add(db, "--for", args.duration);
    let duration =
        syntax::parse_expr(duration, args.duration).map_err(|d| not_a(d, "a time (`5 s`)"));
    let mut clauses = Vec::new();
    for (flag, text, from) in [("--from", args.from, true), ("--with", args.with, false)] {
        let Some(text) = text else { continue };
        let file = add(db, flag, text);
        match assignments(file, text) {
            Ok(list) => {
                let span = Span::new(file, 0, text.len());
                clauses.push((
                    if from {
                        ast::SimClause::From(list)
                    } else {
                        ast::SimClause::With(list)
                    },
                    span,
                ));
            }
            Err(d) => diags.extend(d),
        }
    }
    let duration = match duration {
        Ok(e) => e,
        Err(d) => {
            diags.extend(d);
            return Err(diags);
        }
    };
    if !diags.is_empty() {
        return Err(diags);
    }
    let network = &program.networks[index];
    let system = match &network.target {
        Target::System(inst) => Some(program.systems[inst.system].clone()),
        _ => None,
    };
    let step = ast::Simulate {
        span: duration.span,
        duration,
        clauses,
    };
    let mut sema = Sema {
        db: &*db,
        diags: Vec::new(),
        program: program.clone(),
        scopes: HashMap::new(),
    };
    let sim = sema.simulate(&step, system.as_ref(), true);
    let errors: Vec<Diagnostic> = sema.diags;
    match sim {
        Some(s) if !errors.iter().any(Diagnostic::is_error) => Ok(s),
        _ => Err(errors),
    }
}

fn add(db: &mut SourceDb, flag: &str, text: &str) -> FileId {
    db.add(Origin::Input(flag.to_string()), text.to_string())
}

/// A parse failure says what the argument should have been.
fn not_a(mut diags: Vec<Diagnostic>, what: &str) -> Vec<Diagnostic> {
    if let Some(d) = diags.first_mut() {
        d.help = Some(format!("this argument is {what}"));
    }
    diags
}

/// `name = expr, name = expr`: split at top-level commas, each at its first lone `=`, the
/// expression parsed alone (so nothing but an expression can follow the `=`).
fn assignments(file: FileId, text: &str) -> Result<Vec<ast::Assign>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for (start, end) in top_level_commas(text) {
        let piece = &text[start..end];
        let lead = piece.len() - piece.trim_start().len();
        let eq = find_assign(piece);
        let Some(eq) = eq else {
            diags.push(
                Diagnostic::error(
                    &codes::CLI_BAD_ARGUMENT,
                    format!("`{}` is not an assignment", piece.trim()),
                )
                .at(
                    Span::new(file, start + lead, end),
                    "expected `name = value`",
                )
                .help("write `x = 0.5, y = 0` (states) or `u = pulse(200 ms)` (inputs)"),
            );
            continue;
        };
        let name = piece[..eq].trim();
        let name_start = start + lead;
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            diags.push(
                Diagnostic::error(&codes::CLI_BAD_ARGUMENT, format!("`{name}` is not a name")).at(
                    Span::new(file, name_start, start + eq),
                    "expected a state or input name",
                ),
            );
            continue;
        }
        // The expression keeps its offsets: pad with spaces so spans point into `text`.
        let padded = format!(
            "{}{}",
            " ".repeat(start + eq + 1),
            &text[start + eq + 1..end]
        );
        match syntax::parse_expr(file, &padded) {
            Ok(value) => out.push(ast::Assign {
                name: Spanned {
                    node: name.to_string(),
                    span: Span::new(file, name_start, name_start + name.len()),
                },
                value,
            }),
            Err(d) => diags.extend(not_a(d, "a list of `name = expression`")),
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// Byte ranges between commas outside brackets.
fn top_level_commas(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push((start, text.len()));
    out
}

/// The first `=` that is not part of `==`, `<=`, `>=` or `!=`.
fn find_assign(piece: &str) -> Option<usize> {
    let b = piece.as_bytes();
    (0..b.len()).find(|&i| {
        b[i] == b'='
            && b.get(i + 1) != Some(&b'=')
            && !(i > 0 && matches!(b[i - 1], b'=' | b'<' | b'>' | b'!'))
    })
}

/// A positive time given on the command line (`--dt 1ms`, `--tau "100 ms"`), read by the
/// language's parser as a source named by its flag: the units the language knows, and no
/// others.
pub fn time(db: &mut SourceDb, flag: &str, text: &str) -> Result<f64, Vec<Diagnostic>> {
    let file = add(db, flag, text);
    let e = syntax::parse_expr(file, text).map_err(|d| not_a(d, "a time (`1 ms`)"))?;
    let mut sema = Sema {
        db: &*db,
        diags: Vec::new(),
        program: Program::default(),
        scopes: HashMap::new(),
    };
    let scope = super::lower::Scope::default();
    let value = sema.lower(&scope, &e).and_then(|h| {
        super::lower::Lower {
            scope: &scope,
            diags: &mut sema.diags,
        }
        .expect_dim(&h, 1, &format!("`{flag}`"))?;
        sema.eval(&scope, &h)?.as_f64()
    });
    match value {
        Some(x) if x > 0.0 && x.is_finite() && sema.diags.is_empty() => Ok(x),
        Some(_) if sema.diags.is_empty() => Err(vec![Diagnostic::error(
            &codes::CLI_BAD_ARGUMENT,
            format!("`{flag}` must be a positive time"),
        )
        .at(Span::new(file, 0, text.len()), "not positive")]),
        _ => Err(sema.diags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level() {
        assert_eq!(
            top_level_commas("q = [1, 0], u = pulse(1 s, 2 s)"),
            vec![(0, 10), (11, 31)]
        );
        assert_eq!(find_assign("u == 1"), None);
        assert_eq!(find_assign("u = a >= 1"), Some(2));
    }
}
