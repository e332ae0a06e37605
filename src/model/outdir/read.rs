//! Reading a model folder as untrusted input: every name it holds is a plain file name inside
//! it, every file a regular file whose size is checked before it is read, every read bounded,
//! and an error quotes at most one short line of what it read.
//!
//! ```text
//! CURRENT        at most 64 bytes: a version name ([A-Za-z0-9_-], e.g. "v3")
//! manifest.json  at most 64 KiB, at most 64 entries; each name a plain file name of the
//!                version folder (no separator, not "." or "..", no leading "."), a regular
//!                file (a symlink only when it stays inside the folder) of exactly the listed
//!                size, read with that bound to compare its CRC-32
//! ```

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{CURRENT_FILE, MANIFEST_FILE};
use crate::error::{NgmnnError, Result};

/// Most bytes of `CURRENT` read.
const CURRENT_MAX: u64 = 64;
/// Most bytes of `manifest.json` read.
const MANIFEST_MAX: u64 = 64 << 10;
/// Most entries a manifest may list.
const MANIFEST_ENTRIES_MAX: usize = 64;
/// Longest file name a manifest may list, in bytes.
const NAME_MAX: usize = 255;

/// Size and CRC-32 of one file of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Entry {
    pub(super) name: String,
    pub(super) bytes: u64,
    pub(super) crc32: u32,
}

/// At most the first line of `bytes`, at most 40 characters of it, escaped: what an error may
/// quote of a file.
pub fn quote_short(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let line = String::from_utf8_lossy(&bytes[..end.min(160)]);
    let short: String = line.chars().take(40).collect();
    let whole = short.len() == end && bytes.len() <= end + 1;
    format!("{short:?}{}", if whole { "" } else { " (and more)" })
}

/// At most the first line of an error `message` about a file, at most 200 characters of it: a
/// parser's message may quote a whole value of the file.
pub fn short_message(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    match line.char_indices().nth(200) {
        Some((end, _)) => format!("{} (cut)", &line[..end]),
        None => line.to_owned(),
    }
}

/// A file name of a folder: not empty, at most 255 bytes, no separator or control character,
/// not `.` or `..`.
fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
}

/// A plain file name, as a manifest lists them: a file name ([`is_file_name`]) without a
/// leading `.`.
fn is_plain_name(name: &str) -> bool {
    is_file_name(name) && !name.starts_with('.')
}

/// The version name `CURRENT` holds (surrounding whitespace ignored).
///
/// # Errors
/// A one-line reason when it is not 1 to 32 characters of `[A-Za-z0-9_-]`.
pub fn parse_current(bytes: &[u8]) -> std::result::Result<String, String> {
    let name = std::str::from_utf8(bytes).unwrap_or("").trim();
    let valid = (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "{CURRENT_FILE} holds {}, not a version name",
            quote_short(bytes)
        ))
    }
}

/// The entries of a `manifest.json`.
///
/// # Errors
/// A one-line reason when it does not parse, lists more than 64 entries, or lists a name that
/// is not a plain file name.
pub(super) fn parse_manifest(bytes: &[u8]) -> std::result::Result<Vec<Entry>, String> {
    let entries: Vec<Entry> =
        serde_json::from_slice(bytes).map_err(|e| format!("{MANIFEST_FILE} is unreadable: {e}"))?;
    if entries.len() > MANIFEST_ENTRIES_MAX {
        return Err(format!(
            "{MANIFEST_FILE} lists {} files, more than {MANIFEST_ENTRIES_MAX}",
            entries.len()
        ));
    }
    match entries.iter().find(|e| !is_plain_name(&e.name)) {
        Some(e) => Err(format!(
            "{MANIFEST_FILE} lists {}, not a file name of the folder",
            quote_short(e.name.as_bytes())
        )),
        None => Ok(entries),
    }
}

/// `parse_manifest` for the fuzzer: whether `bytes` is a manifest this module accepts.
pub fn manifest_is_valid(bytes: &[u8]) -> bool {
    parse_manifest(bytes).is_ok()
}

/// The regular file `name` of `folder` (a symlink only when its target is a regular file inside
/// `folder`): its path and size. Nothing is opened.
///
/// # Errors
/// [`NgmnnError::Io`] (kind `NotFound`) when it does not exist; [`NgmnnError::InvalidData`]
/// when `name` is not a plain file name, or names a FIFO, a device, a folder or a link out of
/// `folder`.
pub fn regular_file(folder: &Path, name: &str) -> Result<(PathBuf, u64)> {
    let path = folder.join(name);
    let refuse = |why: &str| NgmnnError::data(Some(&path.display().to_string()), why);
    if !is_file_name(name) {
        return Err(refuse("not a file name of the folder"));
    }
    let mut meta = std::fs::symlink_metadata(&path).map_err(|e| NgmnnError::io(&path, e))?;
    if meta.file_type().is_symlink() {
        let inside = match (std::fs::canonicalize(&path), std::fs::canonicalize(folder)) {
            (Ok(target), Ok(folder)) => target.starts_with(folder),
            _ => false,
        };
        if !inside {
            return Err(refuse(
                "a symbolic link out of the model folder (or a dangling one); a model \
                 folder's files must be regular files inside it",
            ));
        }
        meta = std::fs::metadata(&path).map_err(|e| NgmnnError::io(&path, e))?;
    }
    if !meta.is_file() {
        return Err(refuse(
            "not a regular file (a FIFO, a device or a folder); a model folder's files must \
             be regular files",
        ));
    }
    Ok((path, meta.len()))
}

/// Read the regular file `name` of `folder` ([`regular_file`]) when it holds at most `max`
/// bytes; the read stops after `max` bytes whatever happens to the file meanwhile.
///
/// # Errors
/// As [`regular_file`]; [`NgmnnError::InvalidData`] when the file is larger than `max`.
pub fn read_file(folder: &Path, name: &str, max: u64) -> Result<Vec<u8>> {
    let (path, len) = regular_file(folder, name)?;
    let too_large = || {
        NgmnnError::data(
            Some(&path.display().to_string()),
            format!("holds more than the {max} bytes such a file may"),
        )
    };
    if len > max {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(len as usize);
    File::open(&path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| NgmnnError::io(&path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Size and CRC-32 of the file at `path`, reading at most `max + 1` bytes in 64 KiB pieces.
pub(super) fn checksum(path: &Path, max: u64) -> Result<(u64, u32)> {
    let mut file = File::open(path)
        .map_err(|e| NgmnnError::io(path, e))?
        .take(max.saturating_add(1));
    let (mut crc, mut len) = (flate2::Crc::new(), 0u64);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buf).map_err(|e| NgmnnError::io(path, e))?;
        if n == 0 {
            return Ok((len, crc.sum()));
        }
        crc.update(&buf[..n]);
        len += n as u64;
    }
}

/// The folder holding the current version of `dir` (`dir` itself when it has no `CURRENT`),
/// its files checked against its manifest when it has one.
///
/// # Errors
/// [`NgmnnError::InvalidData`] if `CURRENT` is not a short version name or names a missing
/// folder, or a manifest entry is not a plain name of a regular file of the listed size and
/// CRC (a mixed, incomplete or tampered folder); [`NgmnnError::Io`].
pub fn resolve(dir: &Path) -> Result<PathBuf> {
    let folder = match read_file(dir, CURRENT_FILE, CURRENT_MAX) {
        Ok(bytes) => {
            let folder = dir.join(parse_current(&bytes).map_err(|why| mixed(dir, why))?);
            // The version folder itself, not a link to somewhere else.
            if !std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
                return Err(mixed(dir, format!("{} is missing", folder.display())));
            }
            folder
        }
        Err(NgmnnError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            if !dir.is_dir() {
                return Err(mixed(dir, format!("{} is missing", dir.display())));
            }
            dir.to_owned()
        }
        Err(NgmnnError::InvalidData { .. }) => {
            return Err(mixed(
                dir,
                format!("{CURRENT_FILE} is not a short regular file naming a version"),
            ));
        }
        Err(e) => return Err(e),
    };
    let entries = match read_file(&folder, MANIFEST_FILE, MANIFEST_MAX) {
        Ok(bytes) => parse_manifest(&bytes).map_err(|why| mixed(dir, why))?,
        Err(NgmnnError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(folder);
        }
        Err(_) => {
            return Err(mixed(
                dir,
                format!("{MANIFEST_FILE} is not a regular file of at most {MANIFEST_MAX} bytes"),
            ));
        }
    };
    for entry in entries {
        let (path, len) = regular_file(&folder, &entry.name).map_err(|_| {
            mixed(
                dir,
                format!("{} is missing or not a regular file", entry.name),
            )
        })?;
        let found = if len == entry.bytes {
            checksum(&path, entry.bytes)?
        } else {
            (len, !entry.crc32)
        };
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
