//! Files the user names for output (`--output`, `--report`, `--plot`): the bytes go where the
//! path points, and only there.
//!
//! ```text
//! "-", /dev/stdout     standard output (and /dev/stderr standard error), written through
//! FIFO, device, socket written through, in place: it stays what it is
//! regular file / new   a temporary file beside the final target (symlinks followed: a link
//!                      stays a link and its target is replaced), flushed, renamed over the
//!                      target; the target's permissions are kept; a failed write leaves the
//!                      old file and no temporary one
//! directory            refused
//! ```

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{NgmnnError, Result};

/// Most symbolic links followed from an output path (as Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// An output being written; [`OutputFile::finish`] puts it in place. Dropped unfinished, it
/// removes its temporary file.
#[derive(Debug)]
pub struct OutputFile {
    sink: Sink,
    path: PathBuf,
}

#[derive(Debug)]
enum Sink {
    Stdout(std::io::Stdout),
    Stderr(std::io::Stderr),
    /// A FIFO, device or socket, opened in place.
    Through(File),
    /// A temporary file, renamed over `target` when finished.
    Atomic {
        file: File,
        temp: PathBuf,
        target: PathBuf,
    },
}

impl OutputFile {
    /// Open the output `path` (see the module docs).
    ///
    /// # Errors
    /// [`NgmnnError::Io`] if `path` is a directory, its links do not resolve, or it cannot be
    /// opened or created.
    pub fn create(path: &Path) -> Result<Self> {
        let sink = match standard_stream(path) {
            Some(1) => Sink::Stdout(std::io::stdout()),
            Some(_) => Sink::Stderr(std::io::stderr()),
            None => match std::fs::metadata(path) {
                Ok(m) if m.is_dir() => {
                    return Err(NgmnnError::io(
                        path,
                        std::io::Error::new(
                            std::io::ErrorKind::IsADirectory,
                            "is a directory; name a file",
                        ),
                    ));
                }
                Ok(m) if !m.is_file() => Sink::Through(
                    OpenOptions::new()
                        .write(true)
                        .open(path)
                        .map_err(|e| NgmnnError::io(path, e))?,
                ),
                Ok(_) => atomic(&final_target(path)?, true)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    atomic(&final_target(path)?, false)?
                }
                Err(e) => return Err(NgmnnError::io(path, e)),
            },
        };
        Ok(Self {
            sink,
            path: path.to_owned(),
        })
    }

    /// Whether this output is standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self.sink, Sink::Stdout(_))
    }

    /// Flush everything to its destination: a regular file is flushed to disk and renamed
    /// over its target (and the directory flushed).
    ///
    /// # Errors
    /// [`NgmnnError::Io`] if flushing or renaming fails (the temporary file is removed).
    pub fn finish(mut self) -> Result<()> {
        let path = self.path.clone();
        let io = |e| NgmnnError::io(&path, e);
        match &mut self.sink {
            Sink::Stdout(s) => s.flush().map_err(io),
            Sink::Stderr(s) => s.flush().map_err(io),
            Sink::Through(f) => f.flush().map_err(io),
            Sink::Atomic { file, temp, target } => {
                file.sync_all().map_err(|e| NgmnnError::io(&*temp, e))?;
                std::fs::rename(&*temp, &*target).map_err(|e| NgmnnError::io(&*target, e))?;
                // Renamed: nothing for `drop` to remove.
                temp.clear();
                if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                    File::open(parent)
                        .and_then(|d| d.sync_all())
                        .map_err(|e| NgmnnError::io(parent, e))?;
                }
                Ok(())
            }
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(s) => s.write(buf),
            Sink::Stderr(s) => s.write(buf),
            Sink::Through(f) | Sink::Atomic { file: f, .. } => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(s) => s.flush(),
            Sink::Stderr(s) => s.flush(),
            Sink::Through(f) | Sink::Atomic { file: f, .. } => f.flush(),
        }
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Sink::Atomic { temp, .. } = &self.sink
            && !temp.as_os_str().is_empty()
        {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Write `bytes` to the output `path` ([`OutputFile`]).
///
/// # Errors
/// As [`OutputFile::create`] and [`OutputFile::finish`].
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut out = OutputFile::create(path)?;
    out.write_all(bytes).map_err(|e| NgmnnError::io(path, e))?;
    out.finish()
}

/// Refuse an output `path` (given as `option`) that lands inside `folder` (the model folder
/// being read), whether named directly or through symbolic links. Standard output and paths
/// that do not resolve pass (their own errors come later).
///
/// # Errors
/// [`NgmnnError::InvalidConfig`] naming the option, the path and the folder.
pub fn refuse_inside(path: &Path, folder: &Path, option: &'static str) -> Result<()> {
    let Ok(folder) = std::fs::canonicalize(folder) else {
        return Ok(());
    };
    if standard_stream(path).is_some() {
        return Ok(());
    }
    let Ok(target) = final_target(path) else {
        return Ok(());
    };
    let resolved = std::fs::canonicalize(&target).ok().or_else(|| {
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty());
        let parent = std::fs::canonicalize(parent.unwrap_or(Path::new("."))).ok()?;
        Some(parent.join(target.file_name()?))
    });
    match resolved {
        Some(resolved) if resolved.starts_with(&folder) => Err(NgmnnError::config(
            option,
            path.display(),
            format!(
                "is inside the model folder {} being read; write it elsewhere",
                folder.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// `Some(1)` for standard output (`-`, `/dev/stdout`), `Some(2)` for standard error
/// (`/dev/stderr`).
fn standard_stream(path: &Path) -> Option<u8> {
    match path.to_str()? {
        "-" | "/dev/stdout" => Some(1),
        "/dev/stderr" => Some(2),
        _ => None,
    }
}

/// `path` with its symbolic links followed (the last component's, repeatedly; a dangling
/// link gives the path it points at).
fn final_target(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_owned();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&current).map_err(|e| NgmnnError::io(&current, e))?;
                current = match current.parent() {
                    Some(parent) => parent.join(link),
                    None => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(NgmnnError::io(
        path,
        std::io::Error::other("too many levels of symbolic links"),
    ))
}

/// A fresh temporary file beside `target` (created exclusively: never through a link planted
/// at its name), with the permissions of `target` when it `exists`.
fn atomic(target: &Path, exists: bool) -> Result<Sink> {
    let temp = super::store::temp_name(target);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(|e| NgmnnError::io(target, e))?;
    if exists && let Ok(meta) = std::fs::metadata(target) {
        let _ = file.set_permissions(meta.permissions());
    }
    Ok(Sink::Atomic {
        file,
        temp,
        target: target.to_owned(),
    })
}
