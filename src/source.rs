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
    /// Byte offsets of line starts, computed once on first use.
    lines: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    /// The byte offset of every line's start (the first is 0).
    pub fn line_starts(&self) -> &[usize] {
        self.lines.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// The 0-based line holding byte `offset` (binary search: a diagnostic costs
    /// O(log lines), not a scan of the file).
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts()
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// The byte range of line `line`, without its line break.
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let starts = self.line_starts();
        let start = starts.get(line).copied().unwrap_or(self.text.len());
        let end = starts
            .get(line + 1)
            .map_or(self.text.len(), |&next| next - 1);
        start..end.max(start)
    }

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
    /// Files by canonical path (see [`Loader::canonical`]): one file, however imports spell it.
    by_key: HashMap<PathBuf, FileId>,
}

/// `\r` not followed by `\n` becomes `\n` (same length, same offsets).
fn lone_cr_to_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // Replacing one ASCII byte by another keeps UTF-8 valid.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl SourceDb {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file (or returns the id it already has). A lone `\r` (old Mac line endings)
    /// becomes `\n`, which keeps every byte offset, so that the lexer, line numbers and the
    /// rendering of diagnostics all see the same lines.
    pub fn add(&mut self, origin: Origin, text: String) -> FileId {
        if let Some(&id) = self.by_origin.get(&origin) {
            return id;
        }
        let id = FileId(self.files.len() as u32);
        self.by_origin.insert(origin.clone(), id);
        self.files.push(SourceFile {
            origin,
            text: lone_cr_to_lf(text),
            lines: Default::default(),
        });
        id
    }

    /// Adds a file known by a canonical key as well as its origin (a path as the import
    /// wrote it): a second path to the same key returns the first file's id.
    pub fn add_keyed(&mut self, origin: Origin, key: PathBuf, text: String) -> FileId {
        if let Some(&id) = self.by_key.get(&key) {
            return id;
        }
        let id = self.add(origin, text);
        self.by_key.insert(key, id);
        id
    }

    /// The file already loaded under a canonical key.
    pub fn lookup_key(&self, key: &Path) -> Option<FileId> {
        self.by_key.get(key).copied()
    }

    /// Records the canonical key of a file added with [`SourceDb::add`] (the root).
    pub fn set_key(&mut self, id: FileId, key: PathBuf) {
        self.by_key.entry(key).or_insert(id);
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

    /// The one name of the file `path` names, so that `a.rnn`, `./a.rnn` and
    /// `../dir/a.rnn` load once (and an import of itself is a cycle, not a loop). By
    /// default the path with `.` and `dir/..` removed.
    fn canonical(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
}

/// `path` without `.` components and with `dir/..` pairs removed (no file system access).
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
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

    /// The file system's own name for the file (symbolic links resolved); a path that
    /// cannot be resolved (it does not exist) is normalized instead.
    fn canonical(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
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
    let f = db.get(span.file);
    let at = (span.start as usize).min(f.text.len());
    let line = f.line_of(at);
    let start = f.line_range(line).start;
    let col = f.text.get(start..at).map_or(0, |l| l.chars().count()) + 1;
    format!("{}:{}:{col}", f.display_name(), line + 1)
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
