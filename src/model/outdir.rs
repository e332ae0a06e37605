//! A run's output directory: one run at a time, every save one consistent, durable unit, and
//! nothing deleted that ngmnn did not write.
//!
//! ```text
//! DIR/.lock        advisory lock of the run writing DIR (its pid inside); released by the OS
//!                  when the process ends, so a killed run leaves no stale lock
//! DIR/.ngmnn       the marker: the version and staging folders ngmnn created in DIR
//! DIR/CURRENT      the name of the complete version readers use, e.g. "v3"
//! DIR/v3/          model.bpk, model.json, checkpoint.json, manifest.json
//! ```
//! [`lock`] refuses a folder that is not empty and not ngmnn's ([`marker`]) before creating
//! anything in it, unless told to write beside its files ([`Access::WriteForce`]). A save
//! writes every file into a fresh staging folder (`DIR/.staging-PID`, listed in the marker
//! first), each file flushed to disk (`fsync`), then `manifest.json` (size and CRC-32 of every
//! file), renames the folder to its version name, and only then replaces `CURRENT` (temporary
//! file, `fsync`, rename, `fsync` of the directory). A crash or power loss at any moment leaves
//! `CURRENT` naming either the new version or the previous one, both complete. The older
//! versions and staging folders the marker lists are then deleted; no other entry ever is, and
//! a version name the folder holds but the marker does not list is never replaced. Readers
//! ([`resolve`]) follow `CURRENT` and check the manifest, treating the folder as untrusted
//! input ([`read`]). A directory without `CURRENT` (written by an older ngmnn, or a version
//! folder given directly) is read as it is.

pub mod marker;
pub mod read;

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{NgmnnError, Result};
use marker::{Marker, Ownership, is_version_name};
pub use read::{read_file, regular_file, resolve};

/// The pointer file naming the current version.
pub const CURRENT_FILE: &str = "CURRENT";
/// The lock file.
pub const LOCK_FILE: &str = ".lock";
/// The checksums of a version's files.
pub const MANIFEST_FILE: &str = "manifest.json";

/// How a run uses its output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A new run (`--out`): the folder must be new, empty or ngmnn's.
    Write,
    /// A new run into a folder that is not ngmnn's (`--out-force`): its entries are kept; a
    /// `CURRENT`, a lock file or a version folder of the same name as ngmnn's is not replaced.
    WriteForce,
    /// A resumed run (`--resume`): the folder must exist and be ngmnn's (or hold an older
    /// run's `checkpoint.json`); nothing is created when it does not.
    Resume,
}

/// The exclusive lock of a run on its output directory; released when dropped (or when the
/// process ends, however it ends). Dropped before any version was saved (a run that failed to
/// start), it removes the lock file and the folder when this run created them.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    dir: PathBuf,
    created_dir: bool,
    created_lock: bool,
    published: AtomicBool,
}

impl DirLock {
    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if self.published.load(Ordering::Relaxed) {
            return;
        }
        if self.created_lock {
            let _ = std::fs::remove_file(self.dir.join(LOCK_FILE));
        }
        if self.created_dir {
            // Only when empty: nothing anyone else put there is touched.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// Take the exclusive lock of `dir` for a run of the given `access`, without waiting. The
/// folder is checked first (see [`Access`]); it and its lock file are created only when the
/// check passes.
///
/// # Errors
/// [`NgmnnError::InvalidConfig`] if `dir` is not a folder this access may use (one line
/// saying why); [`NgmnnError::Busy`] if another process holds the lock (with its pid when it
/// wrote one); [`NgmnnError::Io`] if the directory or lock file cannot be created.
pub fn lock(dir: &Path, access: Access) -> Result<DirLock> {
    let option = if access == Access::Resume {
        "--resume"
    } else {
        "--out"
    };
    let mut created_dir = false;
    match marker::ownership(dir, option)? {
        Ownership::Missing if access == Access::Resume => {
            return Err(NgmnnError::config(
                option,
                dir.display(),
                "no such folder; resume a folder written by `ngmnn train --out`",
            ));
        }
        Ownership::Missing => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| NgmnnError::io(parent, e))?;
            }
            match std::fs::create_dir(dir) {
                Ok(()) => created_dir = true,
                // Another run created it meanwhile: check it again.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    check_foreign(dir, marker::ownership(dir, option)?, access, option)?
                }
                Err(e) => return Err(NgmnnError::io(dir, e)),
            }
        }
        owner => check_foreign(dir, owner, access, option)?,
    }
    let path = dir.join(LOCK_FILE);
    let (file, created_lock) = match OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => (file, true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => (
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(|e| NgmnnError::io(&path, e))?,
            false,
        ),
        Err(e) => return Err(NgmnnError::io(&path, e)),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            // The holder writes its pid right after taking the lock: give it a moment.
            let mut pid = None;
            for _ in 0..50 {
                let mut text = String::new();
                let _ = File::open(&path).and_then(|f| f.take(32).read_to_string(&mut text));
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
    // From here on the lock is held: dropping it cleans up what this run created.
    let lock = DirLock {
        file,
        dir: dir.to_owned(),
        created_dir,
        created_lock,
        published: AtomicBool::new(false),
    };
    let mut file = &lock.file;
    file.set_len(0).map_err(|e| NgmnnError::io(&path, e))?;
    write!(file, "{}", std::process::id()).map_err(|e| NgmnnError::io(&path, e))?;
    file.sync_all().map_err(|e| NgmnnError::io(&path, e))?;
    Ok(lock)
}

/// Whether an existing folder may be used by `access` (see [`Access`]).
fn check_foreign(dir: &Path, owner: Ownership, access: Access, option: &'static str) -> Result<()> {
    let Ownership::Foreign(entry) = owner else {
        return Ok(());
    };
    let refuse = |rule: String| Err(NgmnnError::config(option, dir.display(), rule));
    let quoted = read::quote_short(entry.as_bytes());
    match access {
        Access::Resume if dir.join("checkpoint.json").is_file() => Ok(()),
        Access::Resume => refuse(format!(
            "is not an ngmnn output folder (it holds {quoted}); resume a folder written by \
             `ngmnn train --out`"
        )),
        Access::Write => refuse(format!(
            "is not an ngmnn output folder and not empty (it holds {quoted}); choose a new or \
             empty folder, or pass --out-force to write beside its files (ngmnn then deletes \
             nothing it did not write)"
        )),
        Access::WriteForce => {
            let current = std::fs::symlink_metadata(dir.join(CURRENT_FILE)).is_ok();
            let lock = std::fs::symlink_metadata(dir.join(LOCK_FILE)).is_ok();
            let taken = if current {
                Some(CURRENT_FILE)
            } else {
                (lock && !marker::is_lock_file(dir)).then_some(LOCK_FILE)
            };
            match taken {
                Some(name) => refuse(format!(
                    "holds a {name} that ngmnn did not write; even with --out-force it is not \
                     replaced: choose another folder"
                )),
                None => Ok(()),
            }
        }
    }
}

/// Flush a file or directory to disk.
fn sync(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| NgmnnError::io(path, e))
}

/// Save one version: `write` fills a fresh staging folder, then the folder becomes the
/// current version and the older versions the marker lists are deleted (see the module
/// docs). Holding `lock` is required: one writer at a time. Returns the version folder.
///
/// # Errors
/// `write`'s errors; [`NgmnnError::InvalidConfig`] if `version` is not `v<digits>` or names a
/// folder ngmnn did not write; [`NgmnnError::Io`] for file-system failures.
pub fn publish<E: From<NgmnnError>>(
    lock: &DirLock,
    version: &str,
    write: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> std::result::Result<PathBuf, E> {
    let dir = lock.dir();
    if !is_version_name(version) {
        return Err(NgmnnError::config("version", version, "a version is v<digits>").into());
    }
    let (before, had_marker) = Marker::read(dir)?;
    let staging_name = format!(".staging-{}", std::process::id());
    let (staging, target) = (dir.join(&staging_name), dir.join(version));
    for (path, listed) in [
        (&target, before.versions.iter().any(|v| v == version)),
        (&staging, before.staging.contains(&staging_name)),
    ] {
        if std::fs::symlink_metadata(path).is_ok() && !listed {
            return Err(NgmnnError::config(
                "--out",
                dir.display(),
                format!(
                    "holds {} that ngmnn did not write: it is not replaced; choose another folder",
                    read::quote_short(path.file_name().unwrap_or_default().as_encoded_bytes())
                ),
            )
            .into());
        }
    }
    // Listed before they are created: a crash leaves nothing ngmnn would not recognise.
    let mut marker = before.clone();
    Marker::add(&mut marker.versions, version);
    Marker::add(&mut marker.staging, &staging_name);
    marker.write(dir)?;
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| NgmnnError::io(&staging, e))?;
    }
    std::fs::create_dir(&staging).map_err(|e| NgmnnError::io(&staging, e))?;
    if let Err(e) = write(&staging).and_then(|()| write_manifest(&staging).map_err(E::from)) {
        // Nothing of this save is left: the staging folder goes, the marker is as it was.
        let _ = std::fs::remove_dir_all(&staging);
        if had_marker {
            let _ = before.write(dir);
        } else {
            let _ = std::fs::remove_file(dir.join(marker::MARKER_FILE));
        }
        return Err(e);
    }
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(|e| NgmnnError::io(&target, e))?;
    }
    std::fs::rename(&staging, &target).map_err(|e| NgmnnError::io(&target, e))?;
    sync(dir)?;
    super::write_atomic(&dir.join(CURRENT_FILE), version.as_bytes())?;
    lock.published.store(true, Ordering::Relaxed);
    // The marker first names only the new version, then the others it listed are deleted:
    // a crash in between leaves them unlisted (kept), never a listed name deleted later.
    Marker {
        versions: vec![version.to_owned()],
        staging: Vec::new(),
    }
    .write(dir)?;
    let old = marker.versions.iter().filter(|v| *v != version);
    for name in old.chain(marker.staging.iter().filter(|s| **s != staging_name)) {
        let _ = std::fs::remove_dir_all(dir.join(name));
    }
    Ok(target)
}

/// Flush every file of `staging` and write its `manifest.json` (size and CRC-32 of each).
fn write_manifest(staging: &Path) -> Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(staging)
        .map_err(|e| NgmnnError::io(staging, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut entries = Vec::new();
    for name in names {
        let path = staging.join(&name);
        sync(&path)?;
        let (bytes, crc32) = read::checksum(&path, u64::MAX - 1)?;
        entries.push(read::Entry { name, bytes, crc32 });
    }
    let manifest = serde_json::to_vec_pretty(&entries).map_err(|e| NgmnnError::Json {
        path: staging.join(MANIFEST_FILE),
        source: e,
    })?;
    super::write_atomic(&staging.join(MANIFEST_FILE), &manifest)
}
