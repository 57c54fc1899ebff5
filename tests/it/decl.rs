//! The declarations are the only place where a method, option, constraint or metric name is
//! matched: everywhere else matches the typed enums of `rnnc::decl`. This test scans `src/`
//! for a declared name in a comparison (`== "nef"`, `"dale" =>`, `.get("reg")`) outside
//! `src/decl/`. Two vocabularies that share words are exempt, each documented: the weight
//! file's manifest keys (`src/npz/`, FORMAT.md's own names) and the language's keywords.

use rnnc::decl::{Constraint, Method, Metric, Neuron};
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_declared_name_is_matched_as_a_string_outside_the_declarations() {
    let mut names: Vec<&str> = Vec::new();
    for e in [Method::ALL, Neuron::ALL, Constraint::ALL, Metric::ALL].concat() {
        names.push(e.name);
        names.extend(e.opts.iter().map(|o| o.name));
    }
    names.sort();
    names.dedup();
    // A name that is also a keyword of the language (`task`, `from`, `output`) is matched by
    // the syntax as a keyword; those matches are not about the declaration.
    names.retain(|n| {
        let (toks, _) = rnnc::syntax::lexer::lex(rnnc::span::FileId(0), n);
        matches!(
            toks.first().map(|t| &t.1),
            Some(rnnc::syntax::lexer::Tok::Ident(_))
        )
    });
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let exempt = ["src/decl/", "src/npz/", "src/syntax/lexer.rs"];
    let mut hits = Vec::new();
    for f in &files {
        let path = f.to_string_lossy().replace('\\', "/");
        if exempt.iter().any(|e| path.starts_with(e)) {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("readable");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for n in &names {
                let q = format!("\"{n}\"");
                let Some(at) = code.find(&q) else { continue };
                let before = code[..at].trim_end();
                let after = code[at + q.len()..].trim_start();
                let compared = before.ends_with("==")
                    || before.ends_with("!=")
                    || before.ends_with('|')
                    || before.ends_with(".get(")
                    || before.ends_with(".num(")
                    || after.starts_with("=>")
                    || after.starts_with('|');
                if compared {
                    hits.push(format!("{path}:{}: {}", i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "declared names matched as strings (match the `rnnc::decl` enums instead):\n{}",
        hits.join("\n")
    );
}

/// The test above can fail: a comparison with a declared name is found.
#[test]
fn the_scan_finds_a_string_match() {
    let line = r#"        if network.method.name == "reservoir" {"#;
    let at = line.find("\"reservoir\"").expect("present");
    assert!(line[..at].trim_end().ends_with("=="));
}
