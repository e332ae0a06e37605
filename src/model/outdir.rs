//! A run's output directory: one run at a time, and every save one consistent, durable unit.
//!
//! ```text
//! DIR/.lock        advisory lock of the run writing DIR (its pid inside); released by the OS
//!                  when the process ends, so a killed run leaves no stale lock
//! DIR/CURRENT      the name of the complete version readers use, e.g. "v3"
//! DIR/v3/          model.bpk, model.json, checkpoint.json, manifest.json
//! ```
//! A save writes every file into a fresh staging folder (`DIR/.staging-PID`), each file
//! flushed to disk (`fsync`), then `manifest.json` (size and CRC-32 of every file), renames
//! the folder to its version name, and only then replaces `CURRENT` (temporary file, `fsync`,
//! rename, `fsync` of the directory). A crash or power loss at any moment leaves `CURRENT`
//! naming either the new version or the previous one, both complete. Readers ([`resolve`])
//! follow `CURRENT` and check the manifest, so a folder whose files were mixed by hand is
//! rejected with a clear error. A directory without `CURRENT` (written by an older ngmnn, or a
//! version folder given directly) is read as it is.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{NgmnnError, Result};

/// The pointer file naming the current version.
pub const CURRENT_FILE: &str = "CURRENT";
/// The lock file.
pub const LOCK_FILE: &str = ".lock";
/// The checksums of a version's files.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The exclusive lock of a run on its output directory; released when dropped (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    dir: PathBuf,
}

impl DirLock {
    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Take the exclusive lock of `dir` (created if needed), without waiting.
///
/// # Errors
/// [`NgmnnError::Busy`] if another process holds it (with its pid when it wrote one);
/// [`NgmnnError::Io`] if the directory or lock file cannot be created.
pub fn lock(dir: &Path) -> Result<DirLock> {
    std::fs::create_dir_all(dir).map_err(|e| NgmnnError::io(dir, e))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| NgmnnError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            // The holder writes its pid right after taking the lock: give it a moment.
            let mut pid = None;
            for _ in 0..50 {
                let mut text = String::new();
                let _ = std::fs::File::open(&path).and_then(|mut f| f.read_to_string(&mut text));
                pid = text.trim().parse().ok();
                if pid.is_some() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            return Err(NgmnnError::Busy {
                path: dir.to_owned(),
                pid,
            });
        }
        Err(TryLockError::Error(e)) => return Err(NgmnnError::io(&path, e)),
    }
    file.set_len(0).map_err(|e| NgmnnError::io(&path, e))?;
    write!(file, "{}", std::process::id()).map_err(|e| NgmnnError::io(&path, e))?;
    file.sync_all().map_err(|e| NgmnnError::io(&path, e))?;
    Ok(DirLock {
        _file: file,
        dir: dir.to_owned(),
    })
}

/// Size and CRC-32 of one file of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    name: String,
    bytes: u64,
    crc32: u32,
}

fn checksum(path: &Path) -> Result<(u64, u32)> {
    let bytes = std::fs::read(path).map_err(|e| NgmnnError::io(path, e))?;
    let mut crc = flate2::Crc::new();
    crc.update(&bytes);
    Ok((bytes.len() as u64, crc.sum()))
}

/// Flush a file or directory to disk.
fn sync(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| NgmnnError::io(path, e))
}

/// Save one version: `write` fills a fresh staging folder, then the folder becomes the
/// current version (see the module docs). Holding `lock` is required: one writer at a time.
/// Returns the version folder.
///
/// # Errors
/// `write`'s errors; [`NgmnnError::Io`] for file-system failures.
pub fn publish<E: From<NgmnnError>>(
    lock: &DirLock,
    version: &str,
    write: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> std::result::Result<PathBuf, E> {
    let dir = lock.dir();
    let staging = dir.join(format!(".staging-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| NgmnnError::io(&staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| NgmnnError::io(&staging, e))?;
    write(&staging)?;
    let mut entries = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(&staging)
        .map_err(|e| NgmnnError::io(&staging, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let path = staging.join(&name);
        sync(&path)?;
        let (bytes, crc32) = checksum(&path)?;
        entries.push(Entry { name, bytes, crc32 });
    }
    let manifest = serde_json::to_vec_pretty(&entries).map_err(|e| NgmnnError::Json {
        path: staging.join(MANIFEST_FILE),
        source: e,
    })?;
    super::write_atomic(&staging.join(MANIFEST_FILE), &manifest)?;
    let target = dir.join(version);
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(|e| NgmnnError::io(&target, e))?;
    }
    std::fs::rename(&staging, &target).map_err(|e| NgmnnError::io(&target, e))?;
    sync(dir)?;
    super::write_atomic(&dir.join(CURRENT_FILE), version.as_bytes())?;
    // Older versions and a killed run's staging folders: no reader follows them any more.
    if let Ok(read) = std::fs::read_dir(dir) {
        for entry in read.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let old_version = name.starts_with('v') && name != version && entry.path().is_dir();
            if old_version || name.starts_with(".staging-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(target)
}

/// The folder holding the current version of `dir` (`dir` itself when it has no `CURRENT`),
/// its files checked against its manifest when it has one.
///
/// # Errors
/// [`NgmnnError::InvalidData`] if `CURRENT` names a missing folder, or a file is missing or
/// differs from the manifest (a mixed or incomplete folder); [`NgmnnError::Io`].
pub fn resolve(dir: &Path) -> Result<PathBuf> {
    let pointer = dir.join(CURRENT_FILE);
    let folder = match std::fs::read_to_string(&pointer) {
        Ok(name) => {
            let name = name.trim();
            if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
                return Err(mixed(dir, format!("{CURRENT_FILE} holds {name:?}")));
            }
            dir.join(name)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => dir.to_owned(),
        Err(e) => return Err(NgmnnError::io(&pointer, e)),
    };
    if !folder.is_dir() {
        return Err(mixed(dir, format!("{} is missing", folder.display())));
    }
    let manifest = folder.join(MANIFEST_FILE);
    let entries: Vec<Entry> = match std::fs::read(&manifest) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| mixed(dir, format!("{MANIFEST_FILE} is unreadable: {e}")))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(folder),
        Err(e) => return Err(NgmnnError::io(&manifest, e)),
    };
    for entry in entries {
        let path = folder.join(&entry.name);
        let found =
            checksum(&path).map_err(|_| mixed(dir, format!("{} is missing", entry.name)))?;
        if found != (entry.bytes, entry.crc32) {
            return Err(mixed(
                dir,
                format!("{} is not the file its manifest lists", entry.name),
            ));
        }
    }
    Ok(folder)
}

fn mixed(dir: &Path, what: String) -> NgmnnError {
    NgmnnError::data(
        Some(&dir.display().to_string()),
        format!(
            "a mixed or incomplete model folder: {what}; re-save it (train --out) or use a complete copy"
        ),
    )
}
