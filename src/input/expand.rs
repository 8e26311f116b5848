//! Directories named as inputs, expanded to the files inside them.

use super::{Error, InputSpec};
use std::path::Path;

/// Inputs after directories are expanded, and what the expansion left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    /// The inputs, in order: named files as given, and each directory's files in byte
    /// order of their paths.
    pub inputs: Vec<InputSpec>,
    /// Subdirectories not entered: all of them without `recursive`, and symbolic links to
    /// directories always (they could loop).
    pub skipped_dirs: Vec<String>,
    /// Hidden entries (names starting with `.`) not read.
    pub skipped_hidden: u64,
    /// Entries that are neither files nor directories (sockets, FIFOs, broken links).
    pub skipped_special: u64,
}

/// Replaces each directory among `specs` with the regular files inside it, sorted by
/// path; with `recursive`, with the files of its whole tree. Hidden entries (`.name`) are
/// skipped, and so are subdirectories without `recursive`, symbolic links to directories,
/// and special files; all are reported. Symbolic links to files are followed.
pub fn expand(specs: &[InputSpec], recursive: bool) -> Result<Expanded, Error> {
    let mut out = Expanded::default();
    for spec in specs {
        match spec {
            InputSpec::Path(p) if p.is_dir() => walk(p, recursive, &mut out)?,
            other => out.inputs.push(other.clone()),
        }
    }
    Ok(out)
}

fn walk(dir: &Path, recursive: bool, out: &mut Expanded) -> Result<(), Error> {
    let err = |source| Error::Open {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            out.skipped_hidden += 1;
            continue;
        }
        let link = entry.file_type().map_err(err)?.is_symlink();
        // Follows a link to see what it points at.
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => out.inputs.push(InputSpec::Path(path)),
            Ok(m) if m.is_dir() && recursive && !link => walk(&path, recursive, out)?,
            Ok(m) if m.is_dir() => out.skipped_dirs.push(if link {
                format!("{} (symbolic link)", path.display())
            } else {
                path.display().to_string()
            }),
            _ => out.skipped_special += 1,
        }
    }
    Ok(())
}
