//! Syntax: lexer, grammar and the spanned AST.
//!
//! Invariant: parsing never fails. [`parse`] returns a tree (with `Error` nodes where it had to
//! skip) and every diagnostic it found; LALRPOP's types never leave this module.

pub mod ast;
pub mod lexer;

use crate::diag::{codes, Diagnostic};
use crate::span::{FileId, Span};
use lalrpop_util::{lalrpop_mod, ErrorRecovery, ParseError};
use lexer::Tok;

lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        unused_parens,
        unused_imports,
        dead_code
    )]
    grammar,
    "/rnn.rs"
);

/// A mistake the grammar's actions recognize and describe better than "unexpected token"
/// (LALRPOP's `User` error). Never leaves this module: [`parse`] turns it into a diagnostic.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum GrammarError {
    /// `dx/dt == -x` as a system statement: `==` where an equation needs `=`.
    EqEqEquation { lhs: Span, op: Span, rhs: Span },
    /// An expression nested more than [`ast::MAX_DEPTH`] levels deep; `at` is where the
    /// level that went over the limit starts.
    TooDeep { at: Span },
}

pub(crate) type Errors<'input> = Vec<ErrorRecovery<usize, Tok<'input>, GrammarError>>;

/// Every expression node of the grammar is made here: a node that would nest more than
/// [`ast::MAX_DEPTH`] deep is replaced by [`ast::ExprKind::TooDeep`] (its children are
/// dropped while still shallow), reported once for the outermost cut of a nesting.
pub(crate) fn node(errors: &mut Errors<'_>, kind: ast::ExprKind, span: Span) -> ast::Expr {
    let e = ast::Expr::new(kind, span);
    if e.depth() <= ast::MAX_DEPTH {
        return e;
    }
    if !e.is_cut() {
        let at = Span::new(span.file, span.start as usize, span.start as usize + 1);
        errors.push(ErrorRecovery {
            error: ParseError::User {
                error: GrammarError::TooDeep { at },
            },
            dropped_tokens: Vec::new(),
        });
    }
    drop(e);
    let mut cut = ast::Expr::new(ast::ExprKind::TooDeep, span);
    cut.mark_cut();
    cut
}

pub(crate) fn bin(
    file: FileId,
    errors: &mut Errors<'_>,
    l: usize,
    r: usize,
    op: ast::BinOp,
    a: ast::Expr,
    b: ast::Expr,
) -> ast::Expr {
    node(
        errors,
        ast::ExprKind::Binary(op, Box::new(a), Box::new(b)),
        Span::new(file, l, r),
    )
}

/// A chain `t0 + t1 - t2 + ...` as the grammar reads it: the first term and each further
/// term with its operator (`true` for `-`).
pub(crate) struct Chain {
    first: ast::Expr,
    rest: Vec<(bool, ast::Expr)>,
}

impl Chain {
    pub(crate) fn new(first: ast::Expr) -> Chain {
        Chain {
            first,
            rest: Vec::new(),
        }
    }

    pub(crate) fn push(mut self, minus: bool, term: ast::Expr) -> Chain {
        self.rest.push((minus, term));
        self
    }

    /// The chain as a tree: left to right as written below [`ast::PAIRWISE_TERMS`] terms,
    /// pairwise from there on (`a - b + c - d` is `(a - b) + (c - d)`, `a - b - c + d` is
    /// `(a - b) - (c - d)`), so that a generated sum of 10^5 terms nests 17 deep, not 10^5.
    pub(crate) fn finish(self, errors: &mut Errors<'_>) -> ast::Expr {
        if self.rest.len() < ast::PAIRWISE_TERMS {
            return self
                .rest
                .into_iter()
                .fold(self.first, |a, (minus, b)| add(errors, a, minus, b));
        }
        pairwise(errors, self.first, self.rest)
    }
}

fn add(errors: &mut Errors<'_>, a: ast::Expr, minus: bool, b: ast::Expr) -> ast::Expr {
    let span = a.span.to(b.span);
    let op = if minus {
        ast::BinOp::Sub
    } else {
        ast::BinOp::Add
    };
    node(
        errors,
        ast::ExprKind::Binary(op, Box::new(a), Box::new(b)),
        span,
    )
}

/// A balanced tree of `first` followed by the signed terms `rest`.
fn pairwise(
    errors: &mut Errors<'_>,
    first: ast::Expr,
    mut rest: Vec<(bool, ast::Expr)>,
) -> ast::Expr {
    let half = rest.len().div_ceil(2);
    let mut right = rest.split_off(rest.len() - half);
    let left = match rest.is_empty() {
        true => first,
        false => pairwise(errors, first, rest),
    };
    if right.is_empty() {
        return left;
    }
    let (minus, right_first) = right.remove(0);
    if minus {
        // l - (t_k ± ...): the signs inside the parentheses flip.
        for t in &mut right {
            t.0 = !t.0;
        }
    }
    let right = match right.is_empty() {
        true => right_first,
        false => pairwise(errors, right_first, right),
    };
    add(errors, left, minus, right)
}

/// Parses a whole module. Never fails: the tree has `Error` nodes where the parser skipped.
pub fn parse(file: FileId, src: &str) -> (ast::Module, Vec<Diagnostic>) {
    let (tokens, mut diags) = lexer::lex(file, src);
    let mut recovered = Vec::new();
    let result = grammar::ModuleParser::new().parse(
        file,
        &mut recovered,
        tokens.into_iter().map(Ok::<_, GrammarError>),
    );
    // The lexer stops reporting at the limit, and so does the parser.
    let mut cut = diags.len() >= lexer::MAX_DIAGNOSTICS;
    for e in recovered {
        if diags.len() < lexer::MAX_DIAGNOSTICS {
            diags.push(translate(file, src, e));
        } else {
            cut = true;
        }
    }
    let items = match result {
        Ok(items) => items,
        Err(e) => {
            diags.push(translate_error(file, src, e, &[]));
            Vec::new()
        }
    };
    if cut {
        if let Some(last) = diags.last_mut() {
            let note = format!(
                "syntax errors after the first {} of this file are not reported",
                lexer::MAX_DIAGNOSTICS
            );
            last.help = Some(match last.help.take() {
                Some(h) => format!("{h}\n{note}"),
                None => note,
            });
        }
    }
    (ast::Module { file, items }, diags)
}

/// Parses a single expression (the REPL and `--with` / `--from` arguments use this).
pub fn parse_expr(file: FileId, src: &str) -> Result<ast::Expr, Vec<Diagnostic>> {
    let (mut tokens, mut diags) = lexer::lex(file, src);
    tokens.retain(|t| t.1 != Tok::Sep);
    let mut recovered = Vec::new();
    let result = grammar::ExprParser::new().parse(
        file,
        &mut recovered,
        tokens.into_iter().map(Ok::<_, GrammarError>),
    );
    diags.extend(recovered.into_iter().map(|e| translate(file, src, e)));
    match result {
        Ok(e) if diags.is_empty() => Ok(e),
        Ok(_) => Err(diags),
        Err(e) => {
            diags.push(translate_error(file, src, e, &[]));
            Err(diags)
        }
    }
}

fn translate(
    file: FileId,
    src: &str,
    e: ErrorRecovery<usize, Tok<'_>, GrammarError>,
) -> Diagnostic {
    translate_error(file, src, e.error, &e.dropped_tokens)
}

fn translate_error(
    file: FileId,
    src: &str,
    e: ParseError<usize, Tok<'_>, GrammarError>,
    _dropped: &[(usize, Tok<'_>, usize)],
) -> Diagnostic {
    let end = src.len();
    let text = |s: Span| src.get(s.range()).unwrap_or("");
    match e {
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let expected = describe_expected(&expected);
            let found = tok.describe();
            let mut d = Diagnostic::error(
                &codes::PARSE_UNEXPECTED,
                format!("unexpected {found}, expected {expected}"),
            )
            .at(
                Span::new(file, l, r.max(l + 1)),
                format!("expected {expected}"),
            );
            if let Some(h) = token_help(tok) {
                d = d.help(h);
            }
            d
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let expected = describe_expected(&expected);
            let at = location.min(end);
            Diagnostic::error(
                &codes::PARSE_EOF,
                format!("unexpected end of file, expected {expected}"),
            )
            .at(Span::new(file, at, at), "the file ends here")
        }
        ParseError::InvalidToken { location } => {
            Diagnostic::error(&codes::PARSE_UNEXPECTED, "invalid token")
                .at(Span::new(file, location, location + 1), "here")
        }
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::error(
            &codes::PARSE_UNEXPECTED,
            format!("unexpected {}", tok.describe()),
        )
        .at(Span::new(file, l, r), "nothing more was expected"),
        ParseError::User {
            error: GrammarError::EqEqEquation { lhs, op, rhs },
        } => Diagnostic::error(
            &codes::SYNTAX_BAD_FLOW,
            "`==` compares; an equation is written with `=`",
        )
        .at(op, "this is a comparison, not an equation")
        .help(format!("write `{} = {}`", text(lhs), text(rhs))),
        ParseError::User {
            error: GrammarError::TooDeep { at },
        } => Diagnostic::error(
            &codes::PARSE_TOO_DEEP,
            format!("expression nested more than {} levels deep", ast::MAX_DEPTH),
        )
        .at(at, format!("this level is deeper than {}", ast::MAX_DEPTH))
        .help(
            "brackets, operators, calls, indices and `if` each add a level; name parts with `let`",
        ),
    }
}

fn token_help(tok: Tok<'_>) -> Option<&'static str> {
    match tok {
        Tok::Kw(k) => Some(match k {
            lexer::Kw::In | lexer::Kw::For | lexer::Kw::From | lexer::Kw::With => {
                "keywords name nothing; if this is meant as a name, rename it"
            }
            _ => return None,
        }),
        _ => None,
    }
}

/// Terminals that start an expression (besides `(`), reported together as "an expression".
const EXPRESSION_STARTS: &[&str] = &[
    "Num", "NumUnit", "Id", "StrLit", "[", "not", "if", "true", "false",
];

/// Turns LALRPOP's list of terminal names into what a person expects to read: the statement
/// separator becomes "end of statement (newline or ;)", operators collapse into one entry.
fn describe_expected(expected: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut operator = false;
    let mut expression = false;
    for e in expected {
        let e = e.trim_matches('"');
        let entry = match e {
            "Sep" => "end of statement (newline or ;)".to_string(),
            "+" | "-" | "*" | "/" | "^" | "@" | "<" | "<=" | ">" | ">=" | "==" | "!=" | "and"
            | "or" => {
                operator = true;
                continue;
            }
            e if EXPRESSION_STARTS.contains(&e) => {
                expression = true;
                continue;
            }
            // `(` alone (a parameter list) is not "an expression".
            "(" if expected
                .iter()
                .any(|x| EXPRESSION_STARTS.contains(&x.trim_matches('"'))) =>
            {
                continue
            }
            other => format!("`{other}`"),
        };
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    if expression {
        out.insert(0, "an expression".to_string());
    }
    if operator {
        out.push("an operator".to_string());
    }
    // Keyword-named arguments make every keyword "expected" after `(`; they add no information.
    if expression && out.len() > 8 {
        out.retain(|e| !e.starts_with('`') || matches!(e.as_str(), "`)`" | "`]`" | "`,`"));
    }
    match out.len() {
        0 => "nothing more".to_string(),
        1 => out.pop().unwrap_or_default(),
        _ => {
            let last = out.pop().unwrap_or_default();
            format!("{} or {}", out.join(", "), last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_reference_parses() {
        let src = include_str!("../../tests/data/language_md.rnn");
        let (m, d) = parse(FileId(0), src);
        assert!(d.is_empty(), "{d:#?}");
        assert_eq!(m.items.len(), 17);
    }
}
