//! Every input gets an answer (issue 12, front end): deep expressions are a diagnostic, not a
//! stack overflow; long sums are accepted; CR-only line endings are lines; a file imported
//! under several spellings loads once; diagnostics quote windows of lines, never whole files.
//! The deep cases run on the test harness's 2 MiB threads in debug builds on purpose.

use rnnc::diag::render::{render_all, Style};
use rnnc::diag::Diagnostic;
use rnnc::driver;
use rnnc::repl::Session;
use rnnc::sema::position;
use rnnc::source::{FsLoader, MemLoader, SourceDb};
use rnnc::syntax::ast::MAX_DEPTH;

fn system(rhs: &str) -> String {
    format!("system S {{\n    state x in [-1, 1]\n    dx/dt = {rhs}\n}}\nnetwork n for S {{ neurons = 50 }}\n")
}

fn analyze(src: &str) -> (SourceDb, Vec<Diagnostic>) {
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "t.rnn", src);
    (db, driver::sorted(a.diagnostics))
}

fn codes(d: &[Diagnostic]) -> Vec<&str> {
    d.iter().map(|d| d.code.name).collect()
}

/// `k` parentheses around `x`: `k + 1` levels.
fn parens(k: usize) -> String {
    format!("{}x{}", "(".repeat(k), ")".repeat(k))
}

#[test]
fn nesting_up_to_the_limit_is_accepted_and_one_more_level_is_an_error() {
    let depth = MAX_DEPTH as usize;
    let (_, d) = analyze(&system(&parens(depth - 1)));
    assert!(d.is_empty(), "{d:#?}");
    // `-` applied depth - 1 times to `x`.
    let (_, d) = analyze(&system(&format!("{}x", "-".repeat(depth - 1))));
    assert!(d.is_empty(), "{d:#?}");
    let (_, d) = analyze(&system(&parens(depth)));
    assert_eq!(codes(&d), ["rnnc::parse::too_deep"]);
}

#[test]
fn deep_parentheses_and_minus_chains_are_one_diagnostic() {
    for rhs in [
        parens(100_000),
        format!("{}x", "-".repeat(100_000)),
        format!("{}x", "not ".repeat(100_000)),
        format!("{}x{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("x{}", "^x".repeat(100_000)),
        format!("x{}", " * x".repeat(100_000)),
        format!("{}x", "if true then x else ".repeat(100_000)),
    ] {
        let (db, d) = analyze(&system(&rhs));
        assert_eq!(codes(&d), ["rnnc::parse::too_deep"], "{}", &rhs[..20]);
        // The quoted line is a window, not 100k characters.
        let text = render_all(&db, &d, Style::Plain);
        assert!(text.len() < 2_000, "{text}");
        assert!(text.contains('…'), "{text}");
    }
}

#[test]
fn a_sum_of_100k_terms_is_accepted() {
    // x + x - x + x - ... : every length, and `-` in both halves of the pairwise tree.
    let terms: String = (1..100_000)
        .map(|i| if i % 3 == 0 { " - x" } else { " + x" })
        .collect();
    let (_, d) = analyze(&system(&format!("x{terms}")));
    assert!(d.is_empty(), "{d:#?}");
    // The value is the value written: 1 + 2 + ... + 100000 and an alternating sum.
    let loader = MemLoader::default();
    let mut s = Session::new(&loader, Style::Plain);
    let sum: String = (1..=100_000).map(|i| format!("{i} + ")).collect();
    let r = s.eval(&format!("{sum}0"));
    assert_eq!(r.text.trim(), "5000050000", "{r:?}");
    let alternating: String = (1..=100_000)
        .map(|i| format!("{}{i} ", if i % 2 == 0 { "- " } else { "+ " }))
        .collect();
    let r = s.eval(&format!("0 {alternating}"));
    assert_eq!(r.text.trim(), "-50000", "{r:?}");
}

#[test]
fn the_repl_has_the_same_limit() {
    let loader = MemLoader::default();
    let mut s = Session::new(&loader, Style::Plain);
    let r = s.eval(&format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)));
    assert!(r.error);
    assert!(r.text.contains("rnnc::parse::too_deep"), "{}", r.text);
    assert!(r.text.len() < 2_000);
    let r = s.eval(&format!("{}1", "-".repeat(MAX_DEPTH as usize - 1)));
    assert!(!r.error, "{}", r.text);
    assert_eq!(r.text.trim(), "-1");
}

#[test]
fn cr_only_line_endings_are_lines() {
    // Old Mac line endings: a `//` comment ends at `\r`, and the error is on line 4.
    let src = "// a comment\rsystem S {\r    state x in [-1, 1]\r    dx/dt = -y\r}\r";
    let (db, d) = analyze(src);
    assert_eq!(codes(&d), ["rnnc::name::unknown"]);
    assert_eq!(position(&db, d[0].labels[0].span), "t.rnn:4:14");
    let text = render_all(&db, &d, Style::Plain);
    assert!(text.contains("[t.rnn:4:14]"), "{text}");
    assert!(text.contains(" 4 │     dx/dt = -y\n"), "{text}");
    // The same program with CR-only endings and no errors builds a system.
    let (_, d) = analyze(&src.replace("-y", "-x"));
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn a_file_imported_under_other_spellings_loads_once() {
    let a = "import \"./a.rnn\"\nimport \"../dir/a.rnn\"\nimport \"a.rnn\"\nsystem S {\n    state x in [-1, 1]\n    dx/dt = -x\n}\n";
    let loader = MemLoader::default().with("dir/a.rnn", a);
    let mut db = SourceDb::new();
    let an = driver::analyze_path(&mut db, &loader, std::path::Path::new("dir/a.rnn")).unwrap();
    assert_eq!(db.len(), 1, "the file was loaded again");
    assert_eq!(
        codes(&an.diagnostics),
        ["rnnc::import::cycle"; 3],
        "{:#?}",
        an.diagnostics
    );

    // On disk, through the file system's own names.
    let dir = std::env::temp_dir().join(format!("rnnc-self-import-{}", std::process::id()));
    let sub = dir.join("dir");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("a.rnn"), a).unwrap();
    let mut db = SourceDb::new();
    let root = dir.join("dir/../dir/./a.rnn");
    let an = driver::analyze_path(&mut db, &FsLoader, &root).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(db.len(), 1);
    assert_eq!(codes(&an.diagnostics), ["rnnc::import::cycle"; 3]);
}

#[test]
fn a_10_mb_line_is_quoted_as_a_window() {
    let src = system(&format!(
        "x{} $ {}",
        " + x".repeat(1_250_000),
        " + x".repeat(1_250_000)
    ));
    assert!(src.len() > 10_000_000);
    let (db, d) = analyze(&src);
    assert_eq!(codes(&d), ["rnnc::lex::invalid_char"]);
    let text = render_all(&db, &d, Style::Plain);
    assert!(text.len() < 2_000, "{} bytes", text.len());
    assert!(text.contains("…"), "{text}");
    assert!(text.contains(":3:5000015]"), "{text}");
}

#[test]
fn a_file_of_bad_characters_reports_a_bounded_number_of_errors() {
    let (db, d) = analyze(&"$ ) x = ".repeat(200_000));
    assert!(d.len() <= 101, "{} diagnostics", d.len());
    let last = d.last().unwrap().help.clone().unwrap_or_default();
    assert!(last.contains("are not reported"), "{last}");
    assert!(render_all(&db, &d, Style::Plain).len() < 100_000);
}
