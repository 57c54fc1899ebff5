//! The REPL's logic, without a terminal: a [`Session`] takes lines and returns text. The binary
//! wraps it in rustyline (history, completion); tests drive it directly.

use crate::diag::render::{render_all, Style};
use crate::diag::{codes, Diagnostic};
use crate::driver;
use crate::sema::hir::{eval_const, Value};
use crate::sema::lower::{dim_name, fmt_num, Lower, Scope};
use crate::source::{Loader, Origin, SourceDb};
use crate::syntax;

/// What a line produced.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub text: String,
    pub error: bool,
}

impl Reply {
    fn ok(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            error: false,
        }
    }
    fn err(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            error: true,
        }
    }
}

/// Definitions typed so far, and the loader for imports.
pub struct Session<'l> {
    source: String,
    loader: &'l dyn Loader,
    style: Style,
    names: Vec<String>,
}

pub const HELP: &str = "\
Type an expression to evaluate it (`2 * pi * 1 Hz`, `100 ms + 0.5 s`), or a definition
(`system`, `task`, `network`, `check`, `import`) to add it to the session.
Commands:
  :load FILE     add the definitions of a file
  :list          summarize the session's items
  :source        print the session's source
  :explain CODE  explain a diagnostic code
  :reset         forget every definition
  :help          this text
  :quit          leave (or Ctrl-D)";

/// Words the completer offers.
pub fn completions(session_names: &[String]) -> Vec<String> {
    let mut words: Vec<String> = syntax::lexer::Kw::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    words.extend(
        crate::sema::hir::Func::ALL
            .iter()
            .map(|(n, _)| n.to_string()),
    );
    words.extend(crate::decl::Metric::ALL.iter().map(|m| m.name.to_string()));
    words.extend(crate::decl::Method::ALL.iter().map(|m| m.name.to_string()));
    words.extend(
        crate::decl::Constraint::ALL
            .iter()
            .map(|m| m.name.to_string()),
    );
    words.extend(crate::decl::Neuron::ALL.iter().map(|m| m.name.to_string()));
    words.extend(
        [
            ":load", ":list", ":source", ":explain", ":reset", ":help", ":quit",
        ]
        .map(String::from),
    );
    words.extend(session_names.iter().cloned());
    words.sort();
    words.dedup();
    words
}

/// True when `text` still has an open `{`, `(` or `[`: the front end keeps reading lines.
pub fn needs_more(text: &str) -> bool {
    let (tokens, _) = syntax::lexer::lex(crate::span::FileId(0), text);
    let mut depth = 0i32;
    for (_, t, _) in tokens {
        match t {
            syntax::lexer::Tok::LBrace
            | syntax::lexer::Tok::LParen
            | syntax::lexer::Tok::LBracket => depth += 1,
            syntax::lexer::Tok::RBrace
            | syntax::lexer::Tok::RParen
            | syntax::lexer::Tok::RBracket => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

impl<'l> Session<'l> {
    pub fn new(loader: &'l dyn Loader, style: Style) -> Self {
        Session {
            source: String::new(),
            loader,
            style,
            names: Vec::new(),
        }
    }

    /// Names defined so far (for completion).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn eval(&mut self, line: &str) -> Reply {
        let line = line.trim();
        if line.is_empty() {
            return Reply::ok("");
        }
        if let Some(cmd) = line.strip_prefix(':') {
            return self.command(cmd);
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if matches!(first, "system" | "task" | "network" | "check" | "import") {
            return self.define(line);
        }
        self.expression(line)
    }

    fn command(&mut self, cmd: &str) -> Reply {
        let (name, arg) = cmd
            .split_once(' ')
            .map_or((cmd, ""), |(a, b)| (a, b.trim()));
        match name {
            "help" | "h" => Reply::ok(HELP),
            "list" | "l" => {
                let mut db = SourceDb::new();
                let a = driver::analyze_text(&mut db, self.loader, "<repl>", &self.source);
                let lines = driver::summary(&a.program);
                Reply::ok(if lines.is_empty() {
                    "no definitions yet".to_string()
                } else {
                    lines.join("\n")
                })
            }
            "source" => Reply::ok(self.source.trim_end().to_string()),
            "reset" => {
                self.source.clear();
                self.names.clear();
                Reply::ok("session cleared")
            }
            "explain" => match codes::lookup(arg) {
                Some(c) => Reply::ok(format!("{}: {}\n\n{}", c.name, c.summary, c.explanation)),
                None => self.fail(
                    Diagnostic::error(
                        &codes::CLI_BAD_ARGUMENT,
                        format!("no diagnostic code `{arg}`"),
                    )
                    .help("`:explain` takes a code such as `rnnc::units::expected_time`"),
                ),
            },
            "load" => match self.loader.load(std::path::Path::new(arg)) {
                Ok(text) => self.define(&text),
                Err(e) => self.fail(Diagnostic::error(
                    &codes::CLI_IO,
                    format!("cannot read `{arg}`: {e}"),
                )),
            },
            "quit" | "q" => Reply::ok(""),
            other => self.fail(
                Diagnostic::error(
                    &codes::CLI_BAD_ARGUMENT,
                    format!("unknown command `:{other}`"),
                )
                .help(":help lists the commands"),
            ),
        }
    }

    /// A coded error with no location, rendered like every other diagnostic.
    fn fail(&self, d: Diagnostic) -> Reply {
        Reply::err(render_all(&SourceDb::new(), &[d], self.style))
    }

    fn define(&mut self, text: &str) -> Reply {
        let candidate = format!("{}{}\n", self.source, text);
        let mut db = SourceDb::new();
        let a = driver::analyze_text(&mut db, self.loader, "<repl>", &candidate);
        if a.has_errors() {
            return Reply::err(render_all(&db, &driver::sorted(a.diagnostics), self.style));
        }
        let before = {
            let mut db = SourceDb::new();
            driver::summary(
                &driver::analyze_text(&mut db, self.loader, "<repl>", &self.source).program,
            )
        };
        self.source = candidate;
        let p = &a.program;
        self.names = p
            .systems
            .iter()
            .map(|s| s.name.clone())
            .chain(p.tasks.iter().map(|t| t.name.clone()))
            .chain(p.networks.iter().map(|n| n.name.clone()))
            .collect();
        let mut out: Vec<String> = driver::summary(p)
            .into_iter()
            .filter(|l| !before.contains(l))
            .collect();
        if !a.diagnostics.is_empty() {
            out.push(render_all(&db, &a.diagnostics, self.style));
        }
        Reply::ok(if out.is_empty() {
            "ok".to_string()
        } else {
            out.join("\n")
        })
    }

    fn expression(&mut self, line: &str) -> Reply {
        let mut db = SourceDb::new();
        let file = db.add(Origin::Input("<repl>".into()), line.to_string());
        let e = match syntax::parse_expr(file, line) {
            Ok(e) => e,
            Err(diags) => return Reply::err(render_all(&db, &diags, self.style)),
        };
        let mut diags: Vec<Diagnostic> = Vec::new();
        let scope = Scope {
            check_dims: true,
            ..Scope::default()
        };
        let h = Lower {
            scope: &scope,
            diags: &mut diags,
        }
        .expr(&e);
        let value = h.as_ref().and_then(|h| match eval_const(h, &|_| None) {
            Ok(v) => Some(v),
            Err(_) => {
                diags.push(
                    Diagnostic::error(&codes::EXPR_INVALID_VALUE, "cannot evaluate this")
                        .at(h.span, "not a finite constant"),
                );
                None
            }
        });
        match (h, value) {
            (Some(h), Some(v)) if !diags.iter().any(Diagnostic::is_error) => {
                let unit = match h.dim {
                    0 => String::new(),
                    1 => " s".into(),
                    -1 => " Hz".into(),
                    d => format!(" ({})", dim_name(d)),
                };
                let mut text = format!("{}{unit}", show(&v));
                // Warnings too, as a file would get them (`1/2 ms` is 500 Hz, not 0.5 ms).
                if !diags.is_empty() {
                    text.push('\n');
                    text.push_str(render_all(&db, &diags, self.style).trim_end());
                }
                Reply::ok(text)
            }
            _ => Reply::err(render_all(&db, &diags, self.style)),
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => format!("{s:?}"),
        Value::Num(shape, xs) => match shape {
            crate::sema::hir::Shape::Scalar => fmt_g(xs[0]),
            crate::sema::hir::Shape::Vector(_) => format!(
                "[{}]",
                xs.iter().map(|x| fmt_g(*x)).collect::<Vec<_>>().join(", ")
            ),
            crate::sema::hir::Shape::Matrix(_, c) => {
                let rows: Vec<String> = xs
                    .chunks(*c)
                    .map(|r| {
                        format!(
                            "[{}]",
                            r.iter().map(|x| fmt_g(*x)).collect::<Vec<_>>().join(", ")
                        )
                    })
                    .collect();
                format!("[{}]", rows.join(", "))
            }
        },
    }
}

fn fmt_g(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        fmt_num(x)
    } else {
        format!("{}", (x * 1e12).round() / 1e12)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemLoader;

    /// A command's mistakes are coded diagnostics like every other error.
    #[test]
    fn command_errors_carry_codes() {
        let l = MemLoader::default();
        let mut s = Session::new(&l, Style::Plain);
        let r = s.eval(":explain nope");
        assert!(
            r.error && r.text.contains("rnnc::cli::bad_argument"),
            "{}",
            r.text
        );
        let r = s.eval(":frobnicate");
        assert!(
            r.error && r.text.contains("rnnc::cli::bad_argument"),
            "{}",
            r.text
        );
        let r = s.eval(":load missing.rnn");
        assert!(r.error && r.text.contains("rnnc::cli::io"), "{}", r.text);
        assert!(!s.eval(":explain expected_time").error);
    }

    #[test]
    fn evaluates_with_units() {
        let l = MemLoader::default();
        let mut s = Session::new(&l, Style::Plain);
        assert_eq!(s.eval("100 ms + 0.5 s").text, "0.6 s");
        assert_eq!(s.eval("2 * 1 Hz").text, "2 Hz");
        assert_eq!(s.eval("70%").text, "0.7");
        assert_eq!(s.eval("[[1, 2], [3, 4]] @ [1, 1]").text, "[3, 7]");
        assert!(s.eval("1 s + 2").error);
    }

    #[test]
    fn expressions_warn_like_files() {
        let l = MemLoader::default();
        let mut s = Session::new(&l, Style::Plain);
        let r = s.eval("1/2 ms");
        assert!(!r.error, "{}", r.text);
        assert!(r.text.starts_with("500 Hz\n"), "{}", r.text);
        assert!(r.text.contains(codes::UNITS_AMBIGUOUS.name), "{}", r.text);
        insta::assert_snapshot!(r.text, @r"
        500 Hz
        rnnc::units::ambiguous

          ⚠ `ms` binds to `2` only
           ╭─[<repl>:1:3]
         1 │ 1/2 ms
           ·   ──┬─
           ·     ╰── this is `(2 ms)`
           ╰────
          help: write `/ (2 ms)` to say so, or put the unit on the whole value
        ");
        // The same expression in a file gets the same warning.
        let mut db = SourceDb::new();
        let a = driver::analyze_text(
            &mut db,
            &l,
            "f.rnn",
            "system S(f = 1/2 ms) { state x in [-1, 1]\n dx/dt = -x }",
        );
        assert!(a
            .diagnostics
            .iter()
            .any(|d| d.code == &codes::UNITS_AMBIGUOUS));
        // Silenced as the warning says: no warning.
        assert_eq!(s.eval("1 / (2 ms)").text, "500 Hz");
    }

    #[test]
    fn definitions_accumulate() {
        let l = MemLoader::default();
        let mut s = Session::new(&l, Style::Plain);
        let r = s.eval("system I { input u\n state x in [-1, 1]\n dx/dt = u }");
        assert!(!r.error, "{}", r.text);
        assert!(r.text.starts_with("system  I:"), "{}", r.text);
        let r = s.eval("network n for I { neurons = 100 }");
        assert!(r.text.starts_with("network n: nef for I"), "{}", r.text);
        assert!(s.eval("network m for J { neurons = 100 }").error);
        assert_eq!(s.names(), ["I", "n"]);
        assert!(needs_more("system A {"));
        assert!(!needs_more("system A { }"));
    }
}
