//! The front end never panics, whatever it is given.

use proptest::prelude::*;
use rnnc::driver;
use rnnc::source::{MemLoader, SourceDb};
use rnnc::span::FileId;

const PIECES: &[&str] = &[
    "system",
    "task",
    "network",
    "check",
    "import",
    "input",
    "state",
    "output",
    "let",
    "init",
    "next",
    "trial",
    "trials",
    "period",
    "vary",
    "draw",
    "expect",
    "within",
    "after",
    "simulate",
    "from",
    "with",
    "method",
    "constraints",
    "for",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "in",
    "radius",
    "around",
    "true",
    "false",
    "x",
    "q",
    "dx",
    "dt",
    "u",
    "Lorenz",
    "std",
    ".",
    "..",
    ",",
    ";",
    "\n",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "=",
    "==",
    "~",
    "+",
    "-",
    "*",
    "/",
    "^",
    "@",
    "<",
    ">=",
    "1",
    "0.5",
    "1e-3",
    "100 ms",
    "2 Hz",
    "70%",
    "%",
    "\"f.cnf\"",
    "\"",
    "/*",
    "*/",
    "//",
    "pi",
    "t",
    "pulse(",
    "nrmse",
    "sin",
    " ",
    "é",
    "−",
];

fn program() -> impl Strategy<Value = String> {
    prop::collection::vec(0..PIECES.len(), 0..80).prop_map(|ix| {
        ix.into_iter()
            .map(|i| PIECES[i])
            .collect::<Vec<_>>()
            .join(" ")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn lexer_and_parser_never_panic_on_bytes(s in "\\PC{0,200}") {
        let _ = rnnc::syntax::parse(FileId(0), &s);
        let _ = rnnc::syntax::parse_expr(FileId(0), &s);
    }

    #[test]
    fn analysis_never_panics_on_token_soup(s in program()) {
        let mut db = SourceDb::new();
        let a = driver::analyze_text(&mut db, &MemLoader::default(), "soup.rnn", &s);
        // Every diagnostic points inside the text it names.
        for d in &a.diagnostics {
            for l in &d.labels {
                prop_assert!((l.span.end as usize) <= db.text(l.span.file).len());
                prop_assert!(l.span.start <= l.span.end);
            }
            let _ = rnnc::diag::render::render(&db, d, rnnc::diag::render::Style::Plain);
        }
    }
}
