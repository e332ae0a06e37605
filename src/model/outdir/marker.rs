//! What of an output folder ngmnn wrote: the marker file `DIR/.ngmnn` lists the version
//! folders (`v<digits>`) and staging folders (`.staging-<digits>`) ngmnn created there, and
//! only those are ever deleted. A folder is ngmnn's when it is new, empty (but for a lock
//! file), holds a marker, or was written by an ngmnn before the marker (`CURRENT` naming a
//! `v<digits>` folder that holds a manifest).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::read::{self, parse_current};
use super::{CURRENT_FILE, LOCK_FILE, MANIFEST_FILE};
use crate::error::{NgmnnError, Result};

/// The marker file.
pub const MARKER_FILE: &str = ".ngmnn";
/// Most bytes of a marker read.
const MARKER_MAX: u64 = 64 << 10;

/// `v` and 1 to 19 digits: a version folder's name.
pub fn is_version_name(name: &str) -> bool {
    name.strip_prefix('v').is_some_and(all_digits)
}

/// `.staging-` and 1 to 19 digits: a staging folder's name.
pub(super) fn is_staging_name(name: &str) -> bool {
    name.strip_prefix(".staging-").is_some_and(all_digits)
}

fn all_digits(s: &str) -> bool {
    (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// The folders ngmnn wrote in an output folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Marker {
    /// Version folders, oldest first.
    pub(super) versions: Vec<String>,
    /// Staging folders of saves in progress (or of killed runs).
    #[serde(default)]
    pub(super) staging: Vec<String>,
}

impl Marker {
    /// The marker of `dir` and whether its file exists. Without the file: the version
    /// `CURRENT` names when it holds a manifest (a folder written before the marker), else
    /// nothing. Names that are not version or staging names are dropped: they are never
    /// deleted, whatever the file says.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidData`] if the marker is not a small regular file that parses.
    pub(super) fn read(dir: &Path) -> Result<(Marker, bool)> {
        let bytes = match read::read_file(dir, MARKER_FILE, MARKER_MAX) {
            Ok(bytes) => bytes,
            Err(NgmnnError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                let versions = written_before_marker(dir).into_iter().collect();
                return Ok((
                    Marker {
                        versions,
                        staging: Vec::new(),
                    },
                    false,
                ));
            }
            Err(e) => return Err(e),
        };
        let mut marker: Marker = serde_json::from_slice(&bytes).map_err(|e| {
            NgmnnError::data(
                Some(&dir.join(MARKER_FILE).display().to_string()),
                format!("not a marker written by ngmnn ({e}); remove it to start afresh"),
            )
        })?;
        marker.versions.retain(|v| is_version_name(v));
        marker.staging.retain(|s| is_staging_name(s));
        Ok((marker, true))
    }

    /// Write the marker into `dir` (atomically).
    pub(super) fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MARKER_FILE);
        let json = serde_json::to_vec_pretty(self).map_err(|e| NgmnnError::Json {
            path: path.clone(),
            source: e,
        })?;
        crate::model::write_atomic(&path, &json)
    }

    /// Add `name` to `list` unless it is there.
    pub(super) fn add(list: &mut Vec<String>, name: &str) {
        if !list.iter().any(|n| n == name) {
            list.push(name.to_owned());
        }
    }
}

/// The version `CURRENT` names, when it is a `v<digits>` folder holding a manifest.
fn written_before_marker(dir: &Path) -> Option<String> {
    let bytes = read::read_file(dir, CURRENT_FILE, 64).ok()?;
    let name = parse_current(&bytes).ok().filter(|n| is_version_name(n))?;
    let folder = dir.join(&name);
    let is_dir = std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir());
    (is_dir && read::regular_file(&folder, MANIFEST_FILE).is_ok()).then_some(name)
}

/// Who an output folder belongs to.
#[derive(Debug, PartialEq)]
pub(super) enum Ownership {
    /// It does not exist.
    Missing,
    /// ngmnn's (see the module docs).
    Ngmnn,
    /// Something else: the first entry (sorted) that is not ngmnn's.
    Foreign(String),
}

/// Who `dir` belongs to (see the module docs).
///
/// # Errors
/// [`NgmnnError::InvalidConfig`] if `dir` exists but is not a folder; [`NgmnnError::Io`] if it
/// cannot be listed.
pub(super) fn ownership(dir: &Path, option: &'static str) -> Result<Ownership> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ownership::Missing),
        Err(e) => return Err(NgmnnError::io(dir, e)),
        Ok(m) if !m.is_dir() => {
            return Err(NgmnnError::config(
                option,
                dir.display(),
                "exists and is not a folder",
            ));
        }
        Ok(_) => {}
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| NgmnnError::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // ngmnn's own lock file and temporary files are not what makes a folder foreign.
        .filter(|n| !(is_own_temp(n) || n == LOCK_FILE && is_lock_file(dir)))
        .collect();
    names.sort();
    let ngmnn = names.is_empty()
        || names.iter().any(|n| n == MARKER_FILE)
        || written_before_marker(dir).is_some();
    Ok(match names.into_iter().next() {
        Some(first) if !ngmnn => Ownership::Foreign(first),
        _ => Ownership::Ngmnn,
    })
}

/// A temporary file of the marker or of `CURRENT` (`.NAME.PID.K.tmp`), left by a run killed
/// while it wrote one.
fn is_own_temp(name: &str) -> bool {
    [MARKER_FILE, CURRENT_FILE].iter().any(|file| {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        name.strip_prefix('.')
            .and_then(|n| n.strip_prefix(file))
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|n| n.split_once('.'))
            .is_some_and(|(pid, k)| digits(pid) && digits(k))
    })
}

/// Whether `dir`'s lock file is as ngmnn writes it: a regular file holding a pid (or nothing
/// yet).
pub(super) fn is_lock_file(dir: &Path) -> bool {
    match read::read_file(dir, LOCK_FILE, 20) {
        Ok(bytes) => bytes.iter().all(u8::is_ascii_digit),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ngmnn_may_delete() {
        assert!(is_version_name("v1") && is_version_name("v1234"));
        for name in [
            "v",
            "vendor",
            "videos",
            "v1a",
            "V1",
            "v-1",
            "../v1",
            "v12345678901234567890",
        ] {
            assert!(!is_version_name(name), "{name}");
        }
        assert!(is_staging_name(".staging-77"));
        assert!(!is_staging_name(".staging-") && !is_staging_name(".staging-x"));
        assert!(is_own_temp("..ngmnn.12.0.tmp") && is_own_temp(".CURRENT.7.3.tmp"));
        assert!(!is_own_temp(".CURRENT.tmp") && !is_own_temp(".notes.1.2.tmp"));
    }
}
