//! Writing a report, state or export to a path without destroying what is there.
//!
//! What a path names decides how it is written:
//!
//! - a regular file, or nothing yet: atomically, as cron consumers, the textfile collector
//!   and merges need: a temporary file in the same directory, synced, then renamed over
//!   the path (keeping the old file's permissions; a new one gets 0666 less the umask).
//!   Readers see the old content or the new, never a part; a failed write leaves the old
//!   file;
//! - a symbolic link: the file it points at, written the same way, so the link stays a link
//!   (a dangling link gets its file created);
//! - a character device, a FIFO or a socket (`/dev/stdout`, `/dev/null`, a named pipe):
//!   written to directly, as the shell would, and never replaced by a file;
//! - a directory: an error;
//! - standard output or error by name (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/2`):
//!   the descriptor itself, as the shell set it up (`>> log` appends, a pipe stays a
//!   pipe), never the file its link names, which an atomic replace would destroy.
//!
//! [`check_distinct`] refuses an output that is one of the inputs, or two outputs that are
//! one file, before anything is read: writing either would destroy data.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why an output could not be written. Each names the path as the user gave it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path is a directory.
    #[error("{path} is a directory; name a file to write")]
    IsDirectory {
        /// The path as given.
        path: String,
    },
    /// The directory the file would go in does not exist.
    #[error("cannot write {path}: the directory {dir} does not exist")]
    NoDirectory {
        /// The path as given.
        path: String,
        /// Its directory.
        dir: String,
    },
    /// Symbolic links loop, or go too deep.
    #[error("cannot write {path}: its symbolic links do not end at a file")]
    LinkLoop {
        /// The path as given.
        path: String,
    },
    /// The output is one of the inputs.
    #[error(
        "{path} is one of the inputs: writing there would replace what it holds; name another file"
    )]
    IsInput {
        /// The path as given.
        path: String,
    },
    /// Two outputs name the same file.
    #[error("{a} and {b} are the same file: one output would replace the other; name two files")]
    SameOutput {
        /// One output, as given.
        a: String,
        /// The other.
        b: String,
    },
    /// Writing failed.
    #[error("cannot write {path}")]
    Write {
        /// The path as given.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Writes `path` with `write`, as the module says.
pub fn write(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> Result<(), Error> {
    let shown = path.display().to_string();
    let failed = |source| Error::Write {
        path: shown.clone(),
        source,
    };
    if let Some(std) = standard_stream(path) {
        return std.write(write).map_err(failed);
    }
    let target = resolve(path).ok_or_else(|| Error::LinkLoop {
        path: shown.clone(),
    })?;
    match fs::metadata(&target) {
        Ok(m) if m.is_dir() => Err(Error::IsDirectory { path: shown }),
        Ok(m) if m.is_file() => atomically(&target, Some(m.permissions()), write).map_err(failed),
        // Devices, FIFOs, sockets: what is there stays what it is.
        Ok(_) => directly(&target, write).map_err(failed),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = directory(&target);
            if !dir.is_dir() {
                return Err(Error::NoDirectory {
                    path: shown,
                    dir: dir.display().to_string(),
                });
            }
            atomically(&target, None, write).map_err(failed)
        }
        Err(e) => Err(failed(e)),
    }
}

/// Standard output or error, named as a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standard {
    Out,
    Err,
}

impl Standard {
    /// Writes to the descriptor itself (the process's own handle, so a redirection's
    /// append mode and offset hold).
    fn write(
        self,
        write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
    ) -> io::Result<()> {
        fn through(
            stream: impl Write + Send,
            write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
        ) -> io::Result<()> {
            let mut out = io::BufWriter::new(stream);
            write(&mut out)?;
            out.flush()
        }
        match self {
            Standard::Out => through(io::stdout(), write),
            Standard::Err => through(io::stderr(), write),
        }
    }
}

/// Whether `path` names standard output or error: `/dev/stdout`, `/dev/stderr`, and
/// descriptors 1 and 2 under `/dev/fd/` or `/proc/self/fd/`.
fn standard_stream(path: &Path) -> Option<Standard> {
    match path.to_str()? {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Some(Standard::Out),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => Some(Standard::Err),
        _ => None,
    }
}

/// The identity of the file `path` leads to, if it exists: device and inode.
#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).ok()?;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<(u64, u64)> {
    let _ = path;
    None
}

/// Refuses outputs that would destroy data: an output that is one of `inputs` (a file
/// given, or a file inside a directory given: it would have been read), or two of
/// `outputs` that are one file. Standard output and error, devices and FIFOs are never
/// refused (writing to them replaces nothing).
///
/// A directory stands for the files directly in it, or (`recursive`) all below it.
pub fn check_distinct(outputs: &[&Path], inputs: &[PathBuf], recursive: bool) -> Result<(), Error> {
    let replaceable = |p: &Path| {
        standard_stream(p).is_none()
            && resolve(p).is_some_and(|t| fs::metadata(&t).map_or(true, |m| m.is_file()))
    };
    let outputs: Vec<&Path> = outputs.iter().copied().filter(|p| replaceable(p)).collect();
    for (i, a) in outputs.iter().enumerate() {
        let (ra, ia) = (resolve(a), identity(a));
        for b in &outputs[i + 1..] {
            let same_path = ra.is_some() && ra == resolve(b);
            if same_path || (ia.is_some() && ia == identity(b)) {
                return Err(Error::SameOutput {
                    a: a.display().to_string(),
                    b: b.display().to_string(),
                });
            }
        }
        let Some(id) = ia else { continue };
        let is_input = inputs.iter().any(|input| {
            identity(input) == Some(id)
                || fs::metadata(input).is_ok_and(|m| m.is_dir()) && inside(a, input, recursive)
        });
        if is_input {
            return Err(Error::IsInput {
                path: a.display().to_string(),
            });
        }
    }
    Ok(())
}

/// Whether the existing file `file` lies in directory `dir` (or, `recursive`, below it).
fn inside(file: &Path, dir: &Path, recursive: bool) -> bool {
    let (Ok(f), Ok(d)) = (fs::canonicalize(file), fs::canonicalize(dir)) else {
        return false;
    };
    if recursive {
        f.starts_with(d)
    } else {
        f.parent() == Some(d.as_path())
    }
}

/// The path with its symbolic links followed (a dangling link gives the path it points
/// at); `None` when they loop.
fn resolve(path: &Path) -> Option<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&p).ok()?;
                p = if to.is_absolute() {
                    to
                } else {
                    directory(&p).join(to)
                };
            }
            _ => return Some(p),
        }
    }
    None
}

fn directory(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A temporary file beside `path`, written, synced and renamed over it.
fn atomically(
    path: &Path,
    permissions: Option<fs::Permissions>,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(directory(path))?;
    {
        let mut out = io::BufWriter::new(tmp.as_file_mut());
        write(&mut out)?;
        out.flush()?;
    }
    if let Some(p) = permissions.or_else(default_permissions) {
        tmp.as_file().set_permissions(p)?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A new file's permissions: 0666 less the process's umask, as `>` in a shell gives
/// (the temporary file's own are 0600).
#[cfg(unix)]
fn default_permissions() -> Option<fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(fs::Permissions::from_mode(0o666 & !umask()))
}

/// The process's umask, from `/proc/self/status` (reading it through `umask(2)` would
/// set it for a moment under the other threads); 022 where the kernel does not say.
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
        })
        .unwrap_or(0o022)
        & 0o777
}

#[cfg(not(unix))]
fn default_permissions() -> Option<fs::Permissions> {
    None
}

/// Opens what is there for writing, without creating or truncating a file.
fn directly(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    let file = fs::OpenOptions::new().write(true).open(path)?;
    let mut out = io::BufWriter::new(file);
    write(&mut out)?;
    out.flush()
}
