//! The semantic pass: from parsed modules to a [`Program`] whose names are resolved,
//! dimensions checked and values in SI units.
//!
//! Invariant: analysis never stops at the first error. Each item is analysed on its own; an item
//! with errors is left out of the program, and every diagnostic is returned.

pub mod args;
mod checks;
pub mod hir;
mod items;
pub mod lower;
pub mod model;
mod options;
mod tasks;

use crate::diag::{codes, Diagnostic};
pub use crate::source::position;
use crate::source::{stdlib, Loader, Origin, SourceDb};
use crate::span::{FileId, Span};
use crate::syntax::{self, ast};
pub use model::*;
pub use options::{DEFAULT_DT, DEFAULT_SEED, DEFAULT_TAU};
use std::collections::HashMap;

/// The result of analysing a root file and everything it imports.
#[derive(Debug)]
pub struct Analysis {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// A top-level definition, by kind and index into the program's lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemRef {
    System(usize),
    Task(usize),
    Network(usize),
    /// Defined, but with errors: references to it are not reported again.
    Broken,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Def {
    pub item: ItemRef,
    pub span: Span,
}

struct Module {
    file: FileId,
    ast: ast::Module,
    imports: Vec<(FileId, Span)>,
}

/// Parses `root` and its imports, then analyses every item.
pub fn analyze(db: &mut SourceDb, loader: &dyn Loader, root: FileId) -> Analysis {
    let mut diags = Vec::new();
    // The root is known by its canonical path too, so that an import of it under another
    // spelling is the same file (an import cycle), not a new one.
    if let Origin::Path(p) = &db.get(root).origin {
        let key = loader.canonical(p);
        db.set_key(root, key);
    }
    let mut modules: Vec<Module> = Vec::new();
    let mut state: HashMap<FileId, bool> = HashMap::new();
    load(
        db,
        loader,
        root,
        &mut modules,
        &mut state,
        &mut Vec::new(),
        &mut diags,
    );
    let mut sema = items::Sema {
        db,
        diags,
        program: Program {
            root,
            ..Program::default()
        },
        scopes: HashMap::new(),
    };
    // Modules are in dependency order: imports first.
    for m in &modules {
        sema.module(m.file, &m.ast, &m.imports);
    }
    let diagnostics = sema.diags;
    Analysis {
        program: sema.program,
        diagnostics,
    }
}

fn load(
    db: &mut SourceDb,
    loader: &dyn Loader,
    file: FileId,
    modules: &mut Vec<Module>,
    state: &mut HashMap<FileId, bool>,
    stack: &mut Vec<FileId>,
    diags: &mut Vec<Diagnostic>,
) {
    state.insert(file, false);
    let (ast, mut parse_diags) = syntax::parse(file, db.text(file));
    if !stack.is_empty() && matches!(db.get(file).origin, Origin::Path(_)) && parse_diags.len() > 1
    {
        // An imported file that does not parse (perhaps not a program at all) reports its
        // first error only: each diagnostic quotes a line, and a program must not be a way
        // to print another file into a log line by line.
        let more = parse_diags.len() - 1;
        parse_diags.truncate(1);
        let note = format!(
            "{more} more syntax error{} in this imported file",
            if more == 1 { "" } else { "s" }
        );
        let first = &mut parse_diags[0];
        first.help = Some(match first.help.take() {
            Some(h) => format!("{h}\n{note}"),
            None => note,
        });
    }
    diags.extend(parse_diags);
    stack.push(file);
    let mut imports = Vec::new();
    for item in &ast.items {
        let ast::Item::Import(imp) = item else {
            continue;
        };
        let Some(target) = resolve_import(db, loader, file, imp, diags) else {
            continue;
        };
        match state.get(&target) {
            Some(false) => {
                let pos = stack.iter().position(|f| *f == target).unwrap_or(0);
                let chain: Vec<String> = stack[pos..]
                    .iter()
                    .chain(std::iter::once(&target))
                    .map(|f| db.get(*f).display_name())
                    .collect();
                diags.push(
                    Diagnostic::error(&codes::IMPORT_CYCLE, "import cycle")
                        .at(imp.span, "this import closes the cycle")
                        .help(format!("the cycle: {}", chain.join(" -> "))),
                );
            }
            Some(true) => imports.push((target, imp.span)),
            None => {
                load(db, loader, target, modules, state, stack, diags);
                imports.push((target, imp.span));
            }
        }
    }
    stack.pop();
    state.insert(file, true);
    modules.push(Module { file, ast, imports });
}

fn resolve_import(
    db: &mut SourceDb,
    loader: &dyn Loader,
    from: FileId,
    imp: &ast::Import,
    diags: &mut Vec<Diagnostic>,
) -> Option<FileId> {
    match &imp.path {
        ast::ImportPath::Std(parts) => {
            let names: Vec<&str> = parts.iter().map(|p| p.node.as_str()).collect();
            let module = match names.as_slice() {
                ["std", name] => stdlib::get(name).map(|text| (name.to_string(), text)),
                _ => None,
            };
            if let Some((name, text)) = module {
                return Some(db.add(Origin::Std(name), text.to_string()));
            }
            let d = Diagnostic::error(
                &codes::IMPORT_NOT_FOUND,
                format!("no module `{}`", names.join(".")),
            )
            .at(
                match parts.as_slice() {
                    [std, name] if std.node == "std" => name.span,
                    _ => imp.span,
                },
                "not a standard library module",
            );
            match suggested_import(imp) {
                // Recover as if the suggestion had been written, so that the names it
                // defines do not each report "unknown" (one mistake, one diagnostic).
                Some(name) => {
                    diags.push(d.help(format!("did you mean `std.{name}`?")));
                    let text = stdlib::get(name)?;
                    Some(db.add(Origin::Std(name.to_string()), text.to_string()))
                }
                None => {
                    let known: Vec<String> = stdlib::MODULES
                        .iter()
                        .map(|(n, _)| format!("std.{n}"))
                        .collect();
                    diags.push(d.help(format!(
                        "the standard library has {}; import a file with `import \"path.rnn\"`",
                        known.join(", ")
                    )));
                    None
                }
            }
        }
        ast::ImportPath::File(rel) => {
            let base = match &db.get(from).origin {
                Origin::Path(p) => p
                    .parent()
                    .map(|d| d.join(rel))
                    .unwrap_or_else(|| rel.into()),
                _ => rel.into(),
            };
            let origin = Origin::Path(base.clone());
            if let Some(id) = db.lookup(&origin) {
                return Some(id);
            }
            // One file however the import spells it (`a.rnn`, `./a.rnn`, `../dir/a.rnn`).
            let key = loader.canonical(&base);
            if let Some(id) = db.lookup_key(&key) {
                return Some(id);
            }
            match loader.load(&base) {
                Ok(text) => Some(db.add_keyed(origin, key, text)),
                Err(e) => {
                    diags.push(
                        Diagnostic::error(
                            &codes::IMPORT_NOT_FOUND,
                            format!("cannot import `{rel}`"),
                        )
                        .at(imp.span, e)
                        .help("file imports are relative to the importing file"),
                    );
                    None
                }
            }
        }
    }
}

/// The standard module a mistyped `import std.NAME` most likely means (`std.system`,
/// `std.sytems` -> `systems`); `None` when the path names a module or nothing close to one.
/// Such an import reports its error and is then analysed as the suggestion, whose names
/// never clash with local ones (see `items::Sema::module`).
pub(crate) fn suggested_import(imp: &ast::Import) -> Option<&'static str> {
    let ast::ImportPath::Std(parts) = &imp.path else {
        return None;
    };
    let names: Vec<&str> = parts.iter().map(|p| p.node.as_str()).collect();
    let wanted = match names.as_slice() {
        ["std", name] if stdlib::get(name).is_none() => *name,
        _ => return None,
    };
    crate::diag::did_you_mean(wanted, stdlib::MODULES.iter().map(|(n, _)| *n))
}
