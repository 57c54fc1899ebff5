//! Fuzzing by byte mutation, in CI for a bounded number of cases: the front end (lexer,
//! parser, semantic analysis and the rendering of every diagnostic it reports) and the REPL
//! take mutated programs and answer with diagnostics, never a panic. `PROPTEST_CASES=100000
//! cargo test --release --test it fuzz::` runs a longer campaign.

use proptest::prelude::*;
use rnnc::diag::render::{render_all, Style};
use rnnc::driver;
use rnnc::source::{MemLoader, SourceDb};

/// Seeds: every shipped example and library file, and the front end's golden cases.
fn seeds() -> &'static [(String, Vec<u8>)] {
    static SEEDS: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut v = Vec::new();
        for dir in ["examples", "stdlib", "tests/ui", "examples/lib"] {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
            paths.sort();
            for p in paths {
                if p.extension().is_some_and(|e| e == "rnn") {
                    v.push((p.display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
        }
        assert!(v.len() > 50, "{} seeds", v.len());
        v
    })
}

/// Bytes worth inserting: the language's punctuation and keywords, units, and bytes that
/// are not ASCII, not UTF-8, or line breaks of other systems.
const DICTIONARY: &[&[u8]] = &[
    b"(",
    b")",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b";",
    b"\n",
    b"\r",
    b"\r\n",
    b"..",
    b"^",
    b"-",
    b"/*",
    b"*/",
    b"//",
    b"\"",
    b"%",
    b" ms",
    b" s",
    b" Hz",
    b"1e308",
    b"1e-320",
    b"0",
    b"nan",
    b"dx/dt",
    b"system",
    b"network",
    b"check",
    b"task",
    b"import",
    b"expect",
    b"simulate",
    b"period",
    b"trial",
    b"in",
    b"ball(",
    b"x[",
    b"\xc3\xa9",
    b"\xe9",
    b"\xff",
    b"\0",
    b"\xef\xbb\xbf",
    b"\xce\xbc",
    b"\t",
    b"if",
    b"then",
    b"else",
    b"not",
];

/// Applies mutation `kind` at positions `i`, `j` (wrapped into range) to `bytes`.
fn mutate(bytes: &mut Vec<u8>, kind: u8, i: usize, j: usize, word: usize) {
    let n = bytes.len().max(1);
    let (a, b) = (i % n, j % n);
    let lo = a.min(b).min(bytes.len());
    let hi = a.max(b).min(lo_cap(lo, bytes.len()));
    match kind % 6 {
        0 => {
            if let Some(x) = bytes.get_mut(a) {
                *x ^= 1 << (j % 8);
            }
        }
        1 => {
            let w = DICTIONARY[word % DICTIONARY.len()];
            let at = a.min(bytes.len());
            bytes.splice(at..at, w.iter().copied());
        }
        2 => {
            bytes.drain(lo..hi);
        }
        3 => {
            let piece = bytes[lo..hi].to_vec();
            let at = b.min(bytes.len());
            bytes.splice(at..at, piece);
        }
        4 => bytes.truncate(a),
        _ => {
            if let Some(x) = bytes.get_mut(a) {
                *x = (j % 256) as u8;
            }
        }
    }
}

/// Ranges of at most 64 bytes: mutations stay local, as most real mistakes are.
fn lo_cap(lo: usize, len: usize) -> usize {
    (lo + 64).min(len)
}

/// Programs analysed (the rest were refused as UTF-8), for `--nocapture` runs.
static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// The front end on mutated bytes: diagnostics (rendered, so every span is sliced out of
    /// its source) or a program, never a panic.
    #[test]
    fn front_end_survives_mutated_programs(
        which in 0usize..1000,
        edits in prop::collection::vec((0u8..6, 0usize..100_000, 0usize..100_000, 0usize..64), 1..8),
    ) {
        let seeds = seeds();
        let (name, text) = &seeds[which % seeds.len()];
        let mut bytes = text.clone();
        for (kind, i, j, w) in edits {
            mutate(&mut bytes, kind, i, j, w);
        }
        // Invalid UTF-8 is the loader's error (tested in src/source.rs); the rest is parsed.
        let text = match rnnc::source::decode(bytes) {
            Ok(t) => t,
            Err(e) => {
                prop_assert!(e.contains("offset"), "{name}: {e}");
                return Ok(());
            }
        };
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut db = SourceDb::new();
        let analysis = driver::analyze_text(&mut db, &MemLoader::default(), name, &text);
        let _ = render_all(&db, &analysis.diagnostics, Style::Plain);
        if RUNS.load(std::sync::atomic::Ordering::Relaxed).is_multiple_of(1000) {
            eprintln!("fuzz: {} programs analysed", RUNS.load(std::sync::atomic::Ordering::Relaxed));
        }
        for d in &analysis.diagnostics {
            for l in &d.labels {
                prop_assert!(l.span.start <= l.span.end, "{name}: {:?}", l.span);
            }
        }
    }

    /// The REPL on mutated lines of the same programs.
    #[test]
    fn repl_survives_mutated_lines(
        which in 0usize..1000,
        line in 0usize..400,
        edits in prop::collection::vec((0u8..6, 0usize..400, 0usize..400, 0usize..64), 1..4),
    ) {
        let seeds = seeds();
        let (_, text) = &seeds[which % seeds.len()];
        let text = String::from_utf8_lossy(text);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut bytes = lines.get(line % lines.len().max(1)).copied().unwrap_or("").as_bytes().to_vec();
        for (kind, i, j, w) in edits {
            mutate(&mut bytes, kind, i, j, w);
        }
        let loader = MemLoader::default();
        let mut session = rnnc::repl::Session::new(&loader, Style::Plain);
        let _ = session.eval(&String::from_utf8_lossy(&bytes));
    }
}
