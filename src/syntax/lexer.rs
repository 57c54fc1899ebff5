//! The lexer: logos produces raw tokens; [`lex`] then applies the layout rules of
//! LANGUAGE.md section 1 (which newlines end statements, units glued to literals, brackets
//! balanced against braces) and hands the parser a clean stream.
//!
//! Invariant: lexing never fails. Bad characters become diagnostics and are skipped.

use crate::diag::{codes, Diagnostic};
use crate::span::{FileId, Span};
use logos::Logos;

#[derive(Default, Clone, Debug, PartialEq)]
pub enum LexError {
    #[default]
    InvalidChar,
    UnterminatedComment,
}

fn block_comment(lex: &mut logos::Lexer<'_, Raw>) -> Result<bool, LexError> {
    let rest = lex.remainder();
    match rest.find("*/") {
        Some(end) => {
            let multiline = rest[..end].contains(['\n', '\r']);
            lex.bump(end + 2);
            Ok(multiline)
        }
        None => {
            lex.bump(rest.len());
            Err(LexError::UnterminatedComment)
        }
    }
}

#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\f]+")]
#[logos(skip(r"//[^\r\n]*", allow_greedy = true))]
enum Raw {
    /// `\n`, `\r\n`, or a lone `\r` (old Mac line endings; `SourceDb::add` also turns those
    /// into `\n` so that diagnostics count the same lines).
    #[regex(r"\n|\r\n?")]
    Newline,
    #[token("/*", block_comment)]
    BlockComment(bool),
    #[regex(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")]
    Number,
    /// Non-ASCII letters are read as part of a name so that `τ` or `µs` is one token with
    /// one diagnostic and a suggested spelling ([`ascii_name`], [`ascii_unit`]).
    #[regex(r"[A-Za-z_\p{L}][A-Za-z0-9_\p{L}]*")]
    Ident,
    #[regex(r#""([^"\\\r\n]|\\.)*""#)]
    Str,
    #[regex(r#""([^"\\\r\n]|\\.)*"#)]
    UnterminatedStr,
    #[token("%")]
    Percent,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("^")]
    Caret,
    #[token("@")]
    At,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
    #[token("=")]
    Eq,
    #[token("~")]
    Tilde,
    #[token("..")]
    DotDot,
    #[token(".")]
    Dot,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
}

/// The tokens the parser sees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tok<'a> {
    /// End of statement: a significant newline or `;` (runs collapse into one).
    Sep,
    Number(f64),
    /// A literal with its unit: `100 ms`, `70%`. The unit is checked by the semantic pass.
    NumUnit(f64, &'a str),
    Ident(&'a str),
    Str(&'a str),
    Kw(Kw),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    At,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    Eq,
    Tilde,
    DotDot,
    Dot,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
}

macro_rules! keywords {
    ($($v:ident = $s:literal),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kw { $($v),* }
        impl Kw {
            pub const ALL: &'static [Kw] = &[$(Kw::$v),*];
            pub fn as_str(self) -> &'static str { match self { $(Kw::$v => $s),* } }
            pub fn lookup(s: &str) -> Option<Kw> { match s { $($s => Some(Kw::$v),)* _ => None } }
        }
    };
}

keywords! {
    Import = "import", System = "system", Task = "task", Network = "network", Check = "check",
    Input = "input", State = "state", Output = "output", Let = "let", Init = "init",
    Next = "next", Trial = "trial", Trials = "trials", Period = "period", Vary = "vary",
    Draw = "draw", Expect = "expect", Within = "within", After = "after",
    Simulate = "simulate", From = "from", With = "with", Method = "method",
    Constraints = "constraints", For = "for", If = "if", Then = "then", Else = "else",
    And = "and", Or = "or", Not = "not", In = "in", Radius = "radius", Around = "around",
    True = "true", False = "false",
}

impl Tok<'_> {
    fn is_operator(self) -> bool {
        use Tok::*;
        matches!(
            self,
            Plus | Minus | Star | Slash | Caret | At | Lt | Le | Gt | Ge | EqEq | Ne
        )
    }

    fn is_binary_operator(self) -> bool {
        self.is_operator() || matches!(self, Tok::Kw(Kw::And | Kw::Or))
    }

    /// A newline after this token never ends a statement.
    fn continues_after(self) -> bool {
        use Kw::*;
        self.is_operator()
            || matches!(
                self,
                Tok::Eq | Tok::Tilde | Tok::DotDot | Tok::Comma | Tok::LBrace | Tok::Sep
            )
            || matches!(
                self,
                Tok::Kw(
                    And | Or
                        | Not
                        | If
                        | Then
                        | Else
                        | In
                        | Within
                        | After
                        | With
                        | From
                        | Radius
                        | Around
                )
            )
    }

    /// A newline before this token never ends a statement.
    fn continues_before(self) -> bool {
        use Kw::*;
        self.is_binary_operator()
            || matches!(self, Tok::LBrace | Tok::RBrace)
            || matches!(
                self,
                Tok::Kw(Then | Else | Within | After | With | From | Around)
            )
    }

    /// How the token reads in a message.
    pub fn describe(self) -> String {
        match self {
            Tok::Sep => "end of statement".into(),
            Tok::Number(_) | Tok::NumUnit(..) => "a number".into(),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Kw(k) => format!("`{}`", k.as_str()),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(self) -> &'static str {
        use Tok::*;
        match self {
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Caret => "^",
            At => "@",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            EqEq => "==",
            Ne => "!=",
            Eq => "=",
            Tilde => "~",
            DotDot => "..",
            Dot => ".",
            Comma => ",",
            LParen => "(",
            RParen => ")",
            LBracket => "[",
            RBracket => "]",
            LBrace => "{",
            RBrace => "}",
            _ => "?",
        }
    }
}

pub type SpannedTok<'a> = (usize, Tok<'a>, usize);

/// The most diagnostics the lexer (and then the parser) report for one file: a file of
/// 64 MiB of bad characters is one screen of errors, not 64 million of them.
pub const MAX_DIAGNOSTICS: usize = 100;

/// Lexes `src` and applies the layout rules. Never fails; problems become diagnostics.
pub fn lex(file: FileId, src: &str) -> (Vec<SpannedTok<'_>>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut non_ascii = NonAscii::default();
    // Pass 1: raw tokens to parser tokens, newlines kept as `Sep`, units glued.
    let mut toks: Vec<SpannedTok<'_>> = Vec::new();
    let mut lexer = Raw::lexer(src).spanned().peekable();
    while let Some((raw, range)) = lexer.next() {
        // Tokens are held twice (this pass and the next): price them as they accumulate, so a
        // file of ten million one-byte operators is an error, not an abort.
        if toks.len() % (1 << 20) == (1 << 20) - 1 {
            let bytes = (2 * toks.len() * std::mem::size_of::<SpannedTok<'_>>()) as f64;
            if let Err(e) = crate::budget::claim(bytes, || format!("lexing {} tokens", toks.len()))
            {
                diags.push(e.diagnostic(Span::new(file, range.start, range.start)));
                break;
            }
        }
        let span = Span::new(file, range.start, range.end);
        let slice = src.get(range.clone()).unwrap_or("");
        let tok = match raw {
            Err(LexError::InvalidChar) => {
                // logos may report a multi-byte character byte by byte: report it once.
                if !src.is_char_boundary(range.start) {
                    continue;
                }
                if diags.len() >= MAX_DIAGNOSTICS {
                    continue;
                }
                let ch = src[range.start..].chars().next().unwrap_or('?');
                let span = Span::new(file, range.start, range.start + ch.len_utf8());
                let mut d = Diagnostic::error(
                    &codes::LEX_INVALID_CHAR,
                    format!("unexpected character `{}`", ch.escape_debug()),
                )
                .at(span, "no token starts with this character");
                if ch == '\'' {
                    d = d.help("a derivative is written `dx/dt`, not `x'`");
                } else if ch == '!' {
                    d = d.help("negation is `not`; inequality is `!=`");
                } else if ch == '&' || ch == '|' {
                    d = d.help("the boolean operators are `and`, `or`, `not`");
                } else if ch == '\u{2212}' {
                    d = d.help("this is a Unicode minus sign; type `-`");
                } else if !ch.is_ascii() {
                    d = d.help("only ASCII is allowed outside strings and comments");
                }
                diags.push(d);
                continue;
            }
            Err(LexError::UnterminatedComment) => {
                diags.push(
                    Diagnostic::error(
                        &codes::LEX_UNTERMINATED_COMMENT,
                        "unterminated block comment",
                    )
                    .at(
                        Span::new(file, range.start, range.start + 2),
                        "this comment is never closed",
                    )
                    .help("close it with `*/`"),
                );
                continue;
            }
            Ok(Raw::BlockComment(multiline)) => {
                if multiline {
                    Tok::Sep
                } else {
                    continue;
                }
            }
            Ok(Raw::Newline) | Ok(Raw::Semi) => Tok::Sep,
            Ok(Raw::Number) => {
                let value: f64 = slice.parse().unwrap_or(f64::NAN);
                // A unit is an identifier or `%` right after the literal, on the same line.
                let unit = match lexer.peek() {
                    Some((Ok(Raw::Ident | Raw::Percent), next))
                        if src[range.end..next.start]
                            .chars()
                            .all(|c| c == ' ' || c == '\t')
                            && Kw::lookup(&src[next.clone()]).is_none() =>
                    {
                        Some(next.clone())
                    }
                    _ => None,
                };
                if let Some(next) = unit {
                    lexer.next();
                    let word = &src[next.clone()];
                    if word.is_ascii() {
                        toks.push((range.start, Tok::NumUnit(value, word), next.end));
                        continue;
                    }
                    let at = Span::new(file, next.start, next.end);
                    if word.starts_with(['µ', 'μ']) {
                        // `100 µs`: the unit, spelled in ASCII by the grammar.
                        let ascii = ascii_unit(word);
                        let fix = format!("write `{slice} {ascii}` (the micro prefix is `u`)");
                        non_ascii.report(&mut diags, at, word, &ascii, fix);
                        toks.push((range.start, Tok::NumUnit(value, word), next.end));
                    } else {
                        // `2π`: a product, as the suggestion says.
                        let ascii = ascii_name(word);
                        let fix = format!("write `{slice} * {ascii}`");
                        non_ascii.report(&mut diags, at, word, &ascii, fix);
                        toks.push((range.start, Tok::Number(value), range.end));
                        toks.push((next.start, Tok::Star, next.start));
                        toks.push((next.start, Tok::Ident(word), next.end));
                    }
                    continue;
                }
                Tok::Number(value)
            }
            Ok(Raw::Ident) => match Kw::lookup(slice) {
                Some(k) => Tok::Kw(k),
                None => {
                    if !slice.is_ascii() {
                        let ascii = ascii_name(slice);
                        let fix = format!("write `{ascii}`");
                        non_ascii.report(&mut diags, span, slice, &ascii, fix);
                    }
                    Tok::Ident(slice)
                }
            },
            Ok(Raw::Str) => {
                let body = &slice[1..slice.len() - 1];
                let mut chars = body.char_indices();
                while let Some((i, c)) = chars.next() {
                    if c == '\\' {
                        match chars.next() {
                            Some((_, '"' | '\\')) => {}
                            _ if diags.len() >= MAX_DIAGNOSTICS => {}
                            _ => {
                                let at = range.start + 1 + i;
                                diags.push(
                                    Diagnostic::error(
                                        &codes::LEX_BAD_ESCAPE,
                                        "unknown escape in string",
                                    )
                                    .at(
                                        Span::new(file, at, (at + 2).min(range.end - 1)),
                                        "not `\\\"` or `\\\\`",
                                    )
                                    .help("strings know only the escapes `\\\"` and `\\\\`"),
                                );
                            }
                        }
                    }
                }
                Tok::Str(body)
            }
            Ok(Raw::UnterminatedStr) if diags.len() >= MAX_DIAGNOSTICS => Tok::Str(&slice[1..]),
            Ok(Raw::UnterminatedStr) => {
                diags.push(
                    Diagnostic::error(&codes::LEX_UNTERMINATED_STRING, "unterminated string")
                        .at(
                            Span::new(file, range.start, range.start + 1),
                            "this string is never closed",
                        )
                        .help("close it with `\"` on the same line"),
                );
                Tok::Str(&slice[1..])
            }
            Ok(Raw::Percent) if diags.len() >= MAX_DIAGNOSTICS => continue,
            Ok(Raw::Percent) => {
                diags.push(
                    Diagnostic::error(&codes::LEX_STRAY_PERCENT, "`%` does not follow a number")
                        .at(span, "a unit must follow a number literal directly")
                        .help("write `70%`; there is no modulo operator"),
                );
                continue;
            }
            Ok(r) => raw_operator(r),
        };
        // A run of separators is kept as its first (pass 2 looks at nothing else), so 20 MB
        // of blank lines is one token, not 20 million.
        if tok == Tok::Sep && toks.last().is_some_and(|t| t.1 == Tok::Sep) {
            continue;
        }
        toks.push((range.start, tok, range.end));
    }

    non_ascii.finish(&mut diags);

    // Pass 2: bracket balance and significant newlines.
    let mut out: Vec<SpannedTok<'_>> = Vec::with_capacity(toks.len());
    let mut stack: Vec<(Tok<'_>, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (lo, tok, hi) = toks[i];
        i += 1;
        match tok {
            Tok::Sep => {
                // A run of separators is one: at most its first is kept, and what decides is
                // the token before the run and the one after it (found once per run, so
                // lexing stays linear in the number of blank lines).
                let run_end = toks[i..]
                    .iter()
                    .position(|t| t.1 != Tok::Sep)
                    .map_or(toks.len(), |k| i + k);
                let next = toks.get(run_end).map(|t| t.1);
                i = run_end;
                let inside_braces = matches!(stack.last(), Some((Tok::LBrace, ..)));
                let prev = out.last().map(|t| t.1);
                let significant = inside_braces
                    && !prev.is_none_or(|p| p.continues_after())
                    && !next.is_none_or(|n| n.continues_before());
                if significant {
                    out.push((lo, Tok::Sep, hi));
                }
                continue;
            }
            Tok::LParen | Tok::LBracket | Tok::LBrace => {
                if tok == Tok::LBrace {
                    close_open_brackets(file, &mut stack, &mut out, &mut diags, lo);
                }
                stack.push((tok, lo, hi));
            }
            Tok::RParen | Tok::RBracket | Tok::RBrace => {
                if tok == Tok::RBrace {
                    close_open_brackets(file, &mut stack, &mut out, &mut diags, lo);
                }
                let opener = match tok {
                    Tok::RParen => Tok::LParen,
                    Tok::RBracket => Tok::LBracket,
                    _ => Tok::LBrace,
                };
                match stack.last() {
                    Some((o, ..)) if *o == opener => {
                        stack.pop();
                    }
                    _ if diags.len() >= MAX_DIAGNOSTICS => continue,
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                &codes::PARSE_UNMATCHED,
                                format!("unmatched {}", tok.describe()),
                            )
                            .at(Span::new(file, lo, hi), "this closes nothing that is open"),
                        );
                        continue;
                    }
                }
            }
            _ => {}
        }
        out.push((lo, tok, hi));
    }
    (out, diags)
}

/// Names and units with non-ASCII letters (`τ`, `µs`): one error per distinct word at its
/// first use, its other uses as labels, with the ASCII spelling when every letter has one.
/// The token stays a name, which the grammar spells in ASCII, so nothing after this reports
/// the same mistake again.
#[derive(Default)]
struct NonAscii {
    /// The word, its ASCII spelling, its diagnostic's index, and how many times it is used.
    seen: Vec<(String, String, usize, usize)>,
    /// Where each word is in `seen` (a file may hold a million distinct words).
    index: std::collections::HashMap<String, usize>,
}

impl NonAscii {
    /// Labels shown for the later uses of one word; the rest are counted in the help.
    const MAX_LABELS: usize = 4;

    /// `ascii` is the word's spelling, `fix` the help for this use (`write `100 us``).
    fn report(
        &mut self,
        diags: &mut Vec<Diagnostic>,
        word_span: Span,
        word: &str,
        ascii: &str,
        fix: String,
    ) {
        let first = word.find(|c: char| !c.is_ascii()).unwrap_or(0);
        let last = word
            .char_indices()
            .rev()
            .find(|(_, c)| !c.is_ascii())
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(word.len());
        let at = Span::new(
            word_span.file,
            word_span.start as usize + first,
            word_span.start as usize + last,
        );
        if diags.len() >= MAX_DIAGNOSTICS && !self.index.contains_key(word) {
            return;
        }
        if let Some((.., i, uses)) = self.index.get(word).map(|&k| &mut self.seen[k]) {
            *uses += 1;
            if *uses <= Self::MAX_LABELS + 1 {
                diags[*i] = diags[*i].clone().at(at, "and here");
            }
            return;
        }
        let d = Diagnostic::error(&codes::LEX_INVALID_CHAR, format!("`{word}` is not ASCII"))
            .at(at, "names and units are ASCII letters, digits and `_`");
        self.index.insert(word.to_string(), self.seen.len());
        self.seen
            .push((word.to_string(), ascii.to_string(), diags.len(), 1));
        diags.push(if ascii.is_ascii() {
            d.help(fix)
        } else {
            d.help("write the name with ASCII letters, digits and `_`")
        });
    }

    /// Says in the help how often a word was used when that is more than once.
    fn finish(self, diags: &mut [Diagnostic]) {
        for (_, ascii, i, uses) in self.seen {
            if uses > 1 && ascii.is_ascii() {
                let places = if uses == 2 {
                    "both places".to_string()
                } else {
                    format!("all {uses} places")
                };
                diags[i].help = Some(format!("write `{ascii}` in {places}"));
            }
        }
    }
}

/// Greek letters and their names, for the ASCII spelling of `τ`, `α`, `Δ`.
const GREEK: &[(char, &str)] = &[
    ('α', "alpha"),
    ('β', "beta"),
    ('γ', "gamma"),
    ('δ', "delta"),
    ('ε', "epsilon"),
    ('ϵ', "epsilon"),
    ('ζ', "zeta"),
    ('η', "eta"),
    ('θ', "theta"),
    ('ϑ', "theta"),
    ('ι', "iota"),
    ('κ', "kappa"),
    ('λ', "lambda"),
    ('μ', "mu"),
    ('µ', "mu"), // U+00B5 MICRO SIGN
    ('ν', "nu"),
    ('ξ', "xi"),
    ('ο', "omicron"),
    ('π', "pi"),
    ('ϖ', "pi"),
    ('ρ', "rho"),
    ('ϱ', "rho"),
    ('σ', "sigma"),
    ('ς', "sigma"),
    ('τ', "tau"),
    ('υ', "upsilon"),
    ('φ', "phi"),
    ('ϕ', "phi"),
    ('χ', "chi"),
    ('ψ', "psi"),
    ('ω', "omega"),
    ('Α', "Alpha"),
    ('Β', "Beta"),
    ('Γ', "Gamma"),
    ('Δ', "Delta"),
    ('Ε', "Epsilon"),
    ('Ζ', "Zeta"),
    ('Η', "Eta"),
    ('Θ', "Theta"),
    ('Ι', "Iota"),
    ('Κ', "Kappa"),
    ('Λ', "Lambda"),
    ('Μ', "Mu"),
    ('Ν', "Nu"),
    ('Ξ', "Xi"),
    ('Ο', "Omicron"),
    ('Π', "Pi"),
    ('Ρ', "Rho"),
    ('Σ', "Sigma"),
    ('Τ', "Tau"),
    ('Υ', "Upsilon"),
    ('Φ', "Phi"),
    ('Χ', "Chi"),
    ('Ψ', "Psi"),
    ('Ω', "Omega"),
];

/// The ASCII spelling of a name: Greek letters by their names (`τ` -> `tau`, `Δt` ->
/// `Deltat`); other characters are kept, so the result may still not be ASCII.
pub fn ascii_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.is_ascii() {
        return name.into();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match GREEK.iter().find(|(g, _)| *g == c) {
            Some((_, ascii)) => out.push_str(ascii),
            None => out.push(c),
        }
    }
    out.into()
}

/// The ASCII spelling of a unit: the micro prefix is `u` (`µs`, `μs` -> `us`).
pub fn ascii_unit(unit: &str) -> std::borrow::Cow<'_, str> {
    match unit.strip_prefix(['µ', 'μ']) {
        Some(rest) => format!("u{}", ascii_name(rest)).into(),
        None => ascii_name(unit),
    }
}

/// A `{` or `}` met while `(` or `[` is open: report the bracket and close it, so that the
/// parser sees a balanced stream and one mistake yields one error.
fn close_open_brackets<'a>(
    file: FileId,
    stack: &mut Vec<(Tok<'a>, usize, usize)>,
    out: &mut Vec<SpannedTok<'a>>,
    diags: &mut Vec<Diagnostic>,
    at: usize,
) {
    while let Some(&(open, lo, hi)) = stack.last() {
        if open == Tok::LBrace {
            break;
        }
        stack.pop();
        let close = if open == Tok::LParen {
            Tok::RParen
        } else {
            Tok::RBracket
        };
        out.push((at, close, at));
        if diags.len() >= MAX_DIAGNOSTICS {
            continue;
        }
        diags.push(
            Diagnostic::error(
                &codes::PARSE_UNCLOSED,
                format!("unclosed {}", open.describe()),
            )
            .at(Span::new(file, lo, hi), "this bracket is still open")
            .at(Span::new(file, at, at + 1), "where a brace appears")
            .help(format!(
                "close it with {} before the brace",
                close.describe()
            )),
        );
    }
}

fn raw_operator<'a>(r: Raw) -> Tok<'a> {
    match r {
        Raw::Plus => Tok::Plus,
        Raw::Minus => Tok::Minus,
        Raw::Star => Tok::Star,
        Raw::Slash => Tok::Slash,
        Raw::Caret => Tok::Caret,
        Raw::At => Tok::At,
        Raw::Lt => Tok::Lt,
        Raw::Le => Tok::Le,
        Raw::Gt => Tok::Gt,
        Raw::Ge => Tok::Ge,
        Raw::EqEq => Tok::EqEq,
        Raw::Ne => Tok::Ne,
        Raw::Eq => Tok::Eq,
        Raw::Tilde => Tok::Tilde,
        Raw::DotDot => Tok::DotDot,
        Raw::Dot => Tok::Dot,
        Raw::Comma => Tok::Comma,
        Raw::LParen => Tok::LParen,
        Raw::RParen => Tok::RParen,
        Raw::LBracket => Tok::LBracket,
        Raw::RBracket => Tok::RBracket,
        Raw::LBrace => Tok::LBrace,
        Raw::RBrace => Tok::RBrace,
        // Handled before this function is called.
        Raw::Newline
        | Raw::Semi
        | Raw::BlockComment(_)
        | Raw::Number
        | Raw::Ident
        | Raw::Str
        | Raw::UnterminatedStr
        | Raw::Percent => Tok::Sep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok<'_>> {
        let (t, d) = lex(FileId(0), src);
        assert!(d.is_empty(), "{d:?}");
        t.into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn units_glue_to_literals() {
        assert_eq!(toks("100 ms"), vec![Tok::NumUnit(100.0, "ms")]);
        assert_eq!(toks("70%"), vec![Tok::NumUnit(70.0, "%")]);
        assert_eq!(toks("1e-3"), vec![Tok::Number(1e-3)]);
        assert_eq!(
            toks("1..2"),
            vec![Tok::Number(1.0), Tok::DotDot, Tok::Number(2.0)]
        );
        // A keyword after a number is not a unit.
        assert_eq!(
            toks("0.2 after"),
            vec![Tok::Number(0.2), Tok::Kw(Kw::After)]
        );
    }

    #[test]
    fn newlines_matter_only_in_braces() {
        assert_eq!(toks("a\nb"), vec![Tok::Ident("a"), Tok::Ident("b")]);
        assert_eq!(
            toks("{a\n\n;b}"),
            vec![
                Tok::LBrace,
                Tok::Ident("a"),
                Tok::Sep,
                Tok::Ident("b"),
                Tok::RBrace
            ]
        );
        // Continuations: operator at the end of a line, binary operator at the start.
        assert_eq!(
            toks("{a +\nb\n* c}"),
            vec![
                Tok::LBrace,
                Tok::Ident("a"),
                Tok::Plus,
                Tok::Ident("b"),
                Tok::Star,
                Tok::Ident("c"),
                Tok::RBrace
            ]
        );
        assert_eq!(
            toks("{f(a,\nb)}"),
            vec![
                Tok::LBrace,
                Tok::Ident("f"),
                Tok::LParen,
                Tok::Ident("a"),
                Tok::Comma,
                Tok::Ident("b"),
                Tok::RParen,
                Tok::RBrace
            ]
        );
        // A multi-line block comment is a newline.
        assert_eq!(
            toks("{a /* x\n */ b}"),
            vec![
                Tok::LBrace,
                Tok::Ident("a"),
                Tok::Sep,
                Tok::Ident("b"),
                Tok::RBrace
            ]
        );
    }

    #[test]
    fn non_ascii_names_are_one_error_each() {
        let (t, d) = lex(FileId(0), "{ x = τ / τ + 100 µs + 2π }");
        assert_eq!(d.len(), 3, "{d:#?}");
        assert_eq!(d[0].help.as_deref(), Some("write `tau` in both places"));
        assert_eq!(d[0].labels.len(), 2);
        assert_eq!(
            d[1].help.as_deref(),
            Some("write `100 us` (the micro prefix is `u`)")
        );
        assert_eq!(d[2].help.as_deref(), Some("write `2 * pi`"));
        let t: Vec<Tok<'_>> = t.into_iter().map(|t| t.1).collect();
        assert!(t.contains(&Tok::NumUnit(100.0, "µs")));
        assert!(t
            .windows(3)
            .any(|w| w == [Tok::Number(2.0), Tok::Star, Tok::Ident("π")]));
        assert_eq!(ascii_name("τ_m"), "tau_m");
        assert_eq!(ascii_name("Δα"), "Deltaalpha");
        assert_eq!(ascii_unit("μs"), "us");
        assert_eq!(ascii_unit("µs"), "us");
    }

    #[test]
    fn brace_inside_paren_is_unclosed() {
        let (_, d) = lex(FileId(0), "{ f(x }");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code.name, "rnnc::parse::unclosed");
        assert_eq!(d[0].labels[0].span.start, 3);
    }
}
