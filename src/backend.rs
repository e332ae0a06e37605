//! Run-time choice of the Burn backend (a [`Device`]) and of the fit's floating-point precision.
//!
//! Burn 0.22 has no backend generic: the backend is a property of the [`Device`]. Which devices
//! exist depends on the Cargo features this crate was built with; asking for one that is not
//! compiled in is a typed error naming the feature to enable.
#![allow(deprecated)] // ndarray is deprecated in Burn 0.22 but still a supported backend.

use std::fmt;
use std::str::FromStr;

use burn::tensor::{DType, Device};
use serde::{Deserialize, Serialize};

use crate::error::{NgmnnError, Result};

/// A Burn backend, chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// `burn-flex`: Burn's pure-Rust CPU backend (feature `flex`, the default).
    Flex,
    /// `burn-ndarray`: the legacy CPU backend (feature `ndarray`).
    Ndarray,
}

impl BackendKind {
    /// All backends this crate knows about, compiled in or not.
    pub const ALL: [BackendKind; 2] = [BackendKind::Flex, BackendKind::Ndarray];

    /// The backend's name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
        }
    }

    /// The Cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this build contains the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Flex => cfg!(feature = "flex"),
            BackendKind::Ndarray => cfg!(feature = "ndarray"),
        }
    }

    /// The backends compiled into this build, in order of preference.
    pub fn compiled() -> Vec<BackendKind> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }

    /// The default backend of this build (the first compiled one).
    pub fn default_compiled() -> Option<BackendKind> {
        Self::compiled().into_iter().next()
    }

    /// The backend's device.
    ///
    /// # Errors
    /// [`NgmnnError::BackendNotCompiled`] if the backend's feature is off.
    pub fn device(self) -> Result<Device> {
        match self {
            #[cfg(feature = "flex")]
            BackendKind::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            BackendKind::Ndarray => Ok(Device::ndarray()),
            #[allow(unreachable_patterns)]
            other => Err(NgmnnError::BackendNotCompiled {
                name: other.name(),
                feature: other.feature(),
            }),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = NgmnnError;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                NgmnnError::config("backend", s, "unknown backend (expected flex or ndarray)")
            })
    }
}

/// Floating-point precision of the fit's device computations.
///
/// The model's parameters are stored in the device's default float type (f32); the trainer
/// computes activations, Gram matrices and cross products in this precision and solves the
/// small systems on the host in f64 either way. Spec §6: with raw pixel data and d > n (umist)
/// the layer-1 Gram matrix has condition number ~1e8, beyond f32, so `F64` is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats: faster, enough for scaled or standardised inputs.
    F32,
    /// 64-bit floats: what the reference figures were produced with.
    #[default]
    F64,
}

impl Precision {
    /// The Burn dtype.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }

    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = NgmnnError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(Precision::F32),
            "f64" | "float64" => Ok(Precision::F64),
            _ => Err(NgmnnError::config("precision", s, "expected f32 or f64")),
        }
    }
}
