//! Source files and how imports reach them. The core never touches the file system: the CLI
//! passes a [`Loader`] that reads files; tests pass an in-memory one.

use crate::span::FileId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where a source file came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A file on disk (or in the loader's virtual tree), by path.
    Path(PathBuf),
    /// A module of the embedded standard library, by name (`systems`).
    Std(String),
    /// Text typed into the REPL or given on the command line.
    Input(String),
}

#[derive(Clone, Debug)]
pub struct SourceFile {
    pub origin: Origin,
    pub text: String,
}

impl SourceFile {
    /// The name shown in diagnostics.
    pub fn display_name(&self) -> String {
        match &self.origin {
            Origin::Path(p) => p.display().to_string(),
            Origin::Std(n) => format!("<std>/{n}.rnn"),
            Origin::Input(n) => n.clone(),
        }
    }
}

/// All source text seen in one compilation.
#[derive(Clone, Debug, Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
    by_origin: HashMap<Origin, FileId>,
}

impl SourceDb {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file (or returns the id it already has).
    pub fn add(&mut self, origin: Origin, text: String) -> FileId {
        if let Some(&id) = self.by_origin.get(&origin) {
            return id;
        }
        let id = FileId(self.files.len() as u32);
        self.by_origin.insert(origin.clone(), id);
        self.files.push(SourceFile { origin, text });
        id
    }

    pub fn lookup(&self, origin: &Origin) -> Option<FileId> {
        self.by_origin.get(origin).copied()
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn text(&self, id: FileId) -> &str {
        &self.get(id).text
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Reads the files that imports name.
pub trait Loader {
    fn load(&self, path: &Path) -> Result<String, String>;
}

/// Reads from the file system (used by the CLI).
pub struct FsLoader;

impl Loader for FsLoader {
    fn load(&self, path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }
}

/// An in-memory file tree (used by tests and the REPL).
#[derive(Default)]
pub struct MemLoader {
    pub files: HashMap<PathBuf, String>,
}

impl MemLoader {
    pub fn with(mut self, path: &str, text: &str) -> Self {
        self.files.insert(PathBuf::from(path), text.to_string());
        self
    }
}

impl Loader for MemLoader {
    fn load(&self, path: &Path) -> Result<String, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| format!("no file `{}`", path.display()))
    }
}

/// The standard library, embedded in the binary.
pub mod stdlib {
    pub const MODULES: &[(&str, &str)] = &[
        ("systems", include_str!("../stdlib/systems.rnn")),
        ("tasks", include_str!("../stdlib/tasks.rnn")),
        ("logic", include_str!("../stdlib/logic.rnn")),
    ];

    pub fn get(name: &str) -> Option<&'static str> {
        MODULES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

/// `line:column` (1-based) of a span's start, for messages that point into another file.
pub fn position(db: &SourceDb, span: crate::span::Span) -> String {
    let text = db.text(span.file);
    let upto = &text[..(span.start as usize).min(text.len())];
    let line = upto.matches('\n').count() + 1;
    let col = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{}:{line}:{col}", db.get(span.file).display_name())
}
