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

/// The largest program file rnnc reads (a generated program of this size lexes in about a
/// second; anything larger is almost certainly not a program).
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;

impl Loader for FsLoader {
    /// Reads a regular file of at most [`MAX_SOURCE_BYTES`] (a device file would stream
    /// forever and a FIFO would block), drops a UTF-8 byte-order mark, and names the line and
    /// column of the first byte that is not UTF-8.
    fn load(&self, path: &Path) -> Result<String, String> {
        use std::io::Read;
        let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        if meta.len() > MAX_SOURCE_BYTES {
            return Err(format!(
                "{} bytes, more than the {} MiB a program may have",
                meta.len(),
                MAX_SOURCE_BYTES >> 20
            ));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        if bytes.len() as u64 > MAX_SOURCE_BYTES {
            return Err(format!(
                "more than the {} MiB a program may have",
                MAX_SOURCE_BYTES >> 20
            ));
        }
        decode(bytes)
    }
}

/// Program text from bytes: UTF-8 with an optional byte-order mark.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, String> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        format!(
            "not UTF-8: byte 0x{:02X} at offset {at} (line {line}, column {column})",
            bytes[at]
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_dropped_and_bad_bytes_are_located() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFsystem S {}".to_vec()).unwrap(),
            "system S {}"
        );
        let e = decode(b"// ok\nlet x = \xFF\n".to_vec()).unwrap_err();
        assert_eq!(e, "not UTF-8: byte 0xFF at offset 14 (line 2, column 9)");
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = std::env::temp_dir();
        let e = FsLoader.load(&dir).unwrap_err();
        assert_eq!(e, "not a regular file");
        if Path::new("/dev/zero").exists() {
            assert_eq!(
                FsLoader.load(Path::new("/dev/zero")).unwrap_err(),
                "not a regular file"
            );
        }
        let f = dir.join(format!("rnnc-bom-{}.rnn", std::process::id()));
        std::fs::write(&f, b"\xEF\xBB\xBF// hi\n").unwrap();
        assert_eq!(FsLoader.load(&f).unwrap(), "// hi\n");
        let _ = std::fs::remove_file(&f);
    }
}
