//! The crate's one error type.
//!
//! Every fallible operation of the library returns [`Result`]. Numerical failures (a Gram matrix
//! that is not positive definite, an eigen/SVD solver that does not converge, non-finite weights)
//! are errors, never panics; so is every kind of bad input (malformed files, NaN features,
//! labels out of range, impossible layer widths, invalid hyper-parameters).

use std::borrow::Cow;
use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = NgmnnError> = std::result::Result<T, E>;

/// Everything that can go wrong in `ngmnn`.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum NgmnnError {
    /// A hyper-parameter or configuration field breaks a rule.
    #[error("invalid configuration: `{field}` = {value}: {rule}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// Its value, formatted.
        value: String,
        /// The rule it breaks.
        rule: Cow<'static, str>,
    },

    /// Another process holds the lock of an output directory.
    #[error("{} is in use by another ngmnn run{}", path.display(), pid.map(|p| format!(", pid {p}")).unwrap_or_default())]
    Busy {
        /// The directory.
        path: PathBuf,
        /// The pid the holder wrote into the lock file, if readable.
        pid: Option<u32>,
    },

    /// A fit or a model would need more memory than is available: stopped before allocating.
    #[error("{what} would need about {needed_mb} MB but {available_mb} MB are available; {remedy}")]
    OutOfMemory {
        /// What needs the memory.
        what: String,
        /// Estimated need, in MB.
        needed_mb: u64,
        /// The limit (the machine's available memory, or the configured limit), in MB.
        available_mb: u64,
        /// What to do instead.
        remedy: String,
    },

    /// The layer widths cannot form an NGMNN.
    #[error("invalid architecture: {0}")]
    InvalidArchitecture(String),

    /// A dataset is unusable (NaN features, ragged rows, out-of-range labels, ...).
    #[error("invalid data{}: {reason}", source_name.as_ref().map(|s| format!(" in {s}")).unwrap_or_default())]
    InvalidData {
        /// Where the data came from (a path or a dataset name), if known.
        source_name: Option<String>,
        /// What is wrong with it.
        reason: String,
    },

    /// A file could not be parsed in the format it claims to be in.
    #[error("cannot parse {path} as {format}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The format it was read as.
        format: &'static str,
        /// What went wrong.
        reason: String,
    },

    /// The data format could not be determined or is not supported.
    #[error("unsupported data format for {path}: {reason}")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// Shapes of two things that must agree do not.
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),

    /// A requested backend is not compiled into this build.
    #[error("backend `{name}` is not compiled in: rebuild with `--features {feature}`")]
    BackendNotCompiled {
        /// The backend's name.
        name: &'static str,
        /// The Cargo feature that enables it.
        feature: &'static str,
    },

    /// A dense factorisation failed (matrix not SPD, solver did not converge).
    #[error("numerical failure in {context}: {reason}")]
    Numerical {
        /// Which sub-problem.
        context: &'static str,
        /// What happened.
        reason: String,
    },

    /// A computation produced NaN or infinite values.
    #[error("non-finite values in {0}")]
    NonFinite(String),

    /// Reading or writing a model record failed.
    #[error("model record error: {0}")]
    Record(String),

    /// An I/O error, with the path involved.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A worker (a remote device holding training rows) could not be reached, refused the
    /// session, or was lost during a fit with no device left to take over its rows. A fit
    /// survives a lost worker while another device remains (see
    /// [`crate::train::Workers`]).
    #[error("worker {worker}: {reason}")]
    Worker {
        /// The worker (its address for a remote one).
        worker: String,
        /// What happened.
        reason: String,
    },

    /// Drawing a plot failed.
    #[error("plot error: {0}")]
    Plot(String),

    /// JSON (de)serialisation failed.
    #[error("JSON error on {path}: {source}")]
    Json {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
}

impl NgmnnError {
    /// Shorthand for [`NgmnnError::InvalidConfig`].
    pub(crate) fn config(
        field: &'static str,
        value: impl std::fmt::Display,
        rule: impl Into<Cow<'static, str>>,
    ) -> Self {
        let value = value.to_string();
        // A number Rust would write out in full (`1e-300` is 300 digits): scientific notation.
        let value = match value.parse::<f64>() {
            Ok(v) if value.len() > 24 => compact(v),
            _ => value,
        };
        Self::InvalidConfig {
            field,
            value,
            rule: rule.into(),
        }
    }

    /// Shorthand for [`NgmnnError::InvalidData`].
    pub(crate) fn data(source_name: Option<&str>, reason: impl Into<String>) -> Self {
        Self::InvalidData {
            source_name: source_name.map(str::to_owned),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`NgmnnError::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// `v` in at most about 20 characters: plain for ordinary magnitudes, scientific (`1e-300`)
/// where plain notation would spell out hundreds of digits.
pub(crate) fn compact(v: f64) -> String {
    let plain = v.to_string();
    if plain.len() <= 20 {
        plain
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_errors_are_short() {
        assert_eq!(compact(0.3), "0.3");
        assert_eq!(compact(1e-300), "1e-300");
        assert_eq!(compact(1e300), "1e300");
        let e = NgmnnError::config("gamma", 1e-300, "rule");
        assert_eq!(
            e.to_string(),
            "invalid configuration: `gamma` = 1e-300: rule"
        );
    }
}
