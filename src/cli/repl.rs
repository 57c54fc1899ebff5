//! `rnnc repl`: the line editor (rustyline: history, completion) around `rnnc::repl::Session`.

use rnnc::diag::render::Style;
use rnnc::source::FsLoader;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn command(file: Option<PathBuf>, style: Style) -> ExitCode {
    use rustyline::completion::{Completer, Pair};
    use rustyline::error::ReadlineError;
    use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};

    #[derive(Helper, Highlighter, Hinter, Validator)]
    struct Complete {
        words: Vec<String>,
    }
    impl Completer for Complete {
        type Candidate = Pair;
        fn complete(
            &self,
            line: &str,
            pos: usize,
            _: &Context<'_>,
        ) -> rustyline::Result<(usize, Vec<Pair>)> {
            let start = line[..pos]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(0, |i| i + 1);
            let prefix = &line[start..pos];
            let hits = self
                .words
                .iter()
                .filter(|w| w.starts_with(prefix))
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w.clone(),
                })
                .collect();
            Ok((start, hits))
        }
    }

    let loader = FsLoader;
    let mut session = rnnc::repl::Session::new(&loader, style);
    if let Some(f) = file {
        let r = session.eval(&format!(":load {}", f.display()));
        println!("{}", r.text);
    }
    let Ok(mut editor) = Editor::<Complete, rustyline::history::DefaultHistory>::new() else {
        {
            let d = rnnc::diag::Diagnostic::error(
                &rnnc::diag::codes::CLI_IO,
                "cannot open a line editor on this terminal",
            );
            eprint!(
                "{}",
                rnnc::diag::render::render_all(&rnnc::source::SourceDb::new(), &[d], style)
            );
            return ExitCode::from(super::EXIT_INVALID);
        }
    };
    editor.set_helper(Some(Complete {
        words: rnnc::repl::completions(session.names()),
    }));
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rnnc_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "rnnc {} REPL. :help for help, Ctrl-D to leave.",
        env!("CARGO_PKG_VERSION")
    );
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { "rnn> " } else { "...> " };
        match editor.readline(prompt) {
            Ok(line) => {
                pending.push_str(&line);
                pending.push('\n');
                if rnnc::repl::needs_more(&pending) {
                    continue;
                }
                let input = std::mem::take(&mut pending);
                let _ = editor.add_history_entry(input.trim_end());
                if matches!(input.trim(), ":quit" | ":q") {
                    break;
                }
                let r = session.eval(&input);
                if r.error {
                    eprint!("{}", r.text);
                } else if !r.text.is_empty() {
                    println!("{}", r.text);
                }
                if let Some(h) = editor.helper_mut() {
                    h.words = rnnc::repl::completions(session.names());
                }
            }
            Err(ReadlineError::Interrupted) => {
                pending.clear();
            }
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    ExitCode::SUCCESS
}
