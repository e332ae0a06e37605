//! Run-time choice of the Burn backend (a [`Device`]) and of the fit's floating-point precision.
//!
//! Burn 0.22 has no backend generic: the backend is a property of the [`Device`]. Which devices
//! exist depends on the Cargo features this crate was built with; asking for one that is not
//! compiled in is a typed error naming the feature to enable.
#![allow(deprecated)] // ndarray and tch are deprecated in Burn 0.22 but still supported backends.

use burn::tensor::{DType, Device};
use serde::{Deserialize, Serialize};

use crate::error::{NgmnnError, Result};

crate::choice::choice_enum! {
    "backend",
    /// A Burn backend, chosen at run time.
    #[derive(Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum BackendKind {
        /// `burn-flex`: Burn's pure-Rust CPU backend (feature `flex`, the default).
        Flex,
        /// `burn-ndarray`: the legacy CPU backend (feature `ndarray`).
        Ndarray,
        /// `burn-wgpu` (CubeCL): GPUs through Vulkan, Metal or DX12, and CPUs through a software
        /// Vulkan driver (feature `wgpu`).
        Wgpu,
        /// `burn-tch`: libtorch, on its CPU or a CUDA GPU (feature `tch`; needs libtorch 2.9.0,
        /// see `scripts/setup-libtorch.sh`).
        Tch,
        /// `burn-cuda` (CubeCL): NVIDIA GPUs (feature `cuda`; its build downloads LLVM).
        Cuda,
    }
}

/// What [`BackendKind::probe`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendProbe {
    /// The backend.
    pub backend: BackendKind,
    /// Compiled into this build.
    pub compiled: bool,
    /// A small computation ran and gave the right answer.
    pub usable: bool,
    /// The device (when usable) or why it is not usable.
    pub detail: String,
}

impl BackendKind {
    /// All backends this crate knows about, compiled in or not.
    pub const ALL: [BackendKind; 5] = [
        BackendKind::Flex,
        BackendKind::Ndarray,
        BackendKind::Wgpu,
        BackendKind::Tch,
        BackendKind::Cuda,
    ];

    /// The Cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this build contains the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Flex => cfg!(feature = "flex"),
            BackendKind::Ndarray => cfg!(feature = "ndarray"),
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
            BackendKind::Tch => cfg!(feature = "tch"),
            BackendKind::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// Whether the backend runs on accelerators with several devices (`--device N`).
    pub fn has_device_index(self) -> bool {
        matches!(
            self,
            BackendKind::Wgpu | BackendKind::Tch | BackendKind::Cuda
        )
    }

    /// The backends compiled into this build, in order of preference.
    pub fn compiled() -> Vec<BackendKind> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }

    /// The default backend of this build (the first compiled one).
    pub fn default_compiled() -> Option<BackendKind> {
        Self::compiled().into_iter().next()
    }

    /// The backend's default device.
    ///
    /// # Errors
    /// [`NgmnnError::BackendNotCompiled`] if the backend's feature is off.
    pub fn device(self) -> Result<Device> {
        self.device_at(None)
    }

    /// The backend's device `index` (`None`: the default one). wgpu: the index-th discrete
    /// GPU; tch: `None` is libtorch's CPU, an index the CUDA GPU; cuda: the GPU.
    ///
    /// # Errors
    /// [`NgmnnError::BackendNotCompiled`] if the backend's feature is off,
    /// [`NgmnnError::InvalidConfig`] for an index on a CPU backend.
    pub fn device_at(self, index: Option<usize>) -> Result<Device> {
        if index.is_some() && !self.has_device_index() {
            return Err(NgmnnError::config(
                "device",
                index.unwrap_or_default(),
                "the CPU backends have a single device (no --device index)",
            ));
        }
        match self {
            #[cfg(feature = "flex")]
            BackendKind::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            BackendKind::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => Ok(Device::wgpu(match index {
                Some(i) => burn::tensor::DeviceKind::DiscreteGpu(i),
                None => burn::tensor::DeviceKind::DefaultDevice,
            })),
            #[cfg(feature = "tch")]
            BackendKind::Tch => Ok(match index {
                Some(i) => Device::libtorch_cuda(i),
                None => Device::libtorch(),
            }),
            #[cfg(feature = "cuda")]
            BackendKind::Cuda => Ok(Device::cuda(index.unwrap_or(0))),
            #[allow(unreachable_patterns)]
            other => Err(NgmnnError::BackendNotCompiled {
                name: other.name(),
                feature: other.feature(),
            }),
        }
    }

    /// Check that the backend works here: create its device and run a small matrix product,
    /// comparing the result with the exact one. A failing device (no GPU adapter, no driver,
    /// a missing library) is reported in `detail`, not as a panic.
    pub fn probe(self, index: Option<usize>) -> BackendProbe {
        let compiled = self.is_compiled();
        let (usable, detail) = match self.device_at(index) {
            Err(e) => (false, e.to_string()),
            Ok(device) => {
                let run = std::panic::catch_unwind(move || {
                    let a =
                        burn::tensor::Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
                    let v = a.clone().matmul(a).into_data().try_into_vec_as::<f64>();
                    (v, format!("{device:?}"))
                });
                match run {
                    Ok((Ok(v), name)) if v == [7.0, 10.0, 15.0, 22.0] => (true, name),
                    Ok((Ok(v), _)) => (false, format!("wrong result {v:?}")),
                    Ok((Err(e), _)) => (false, format!("{e:?}")),
                    Err(panic) => (false, panic_message(panic.as_ref())),
                }
            }
        };
        BackendProbe {
            backend: self,
            compiled,
            usable,
            detail,
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("the backend panicked");
    text.lines().next().unwrap_or_default().to_string()
}

crate::choice::choice_enum! {
    "precision",
    /// Floating-point precision of the fit's device computations.
    ///
    /// The model's parameters are stored in the device's default float type (f32); the trainer
    /// computes activations, Gram matrices and cross products in this precision and solves the
    /// small systems on the host in f64 either way. Spec §6: with raw pixel data and d > n (umist)
    /// the layer-1 Gram matrix has condition number ~1e8, beyond f32, so `F64` is the default.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Precision {
        /// 32-bit floats: faster, enough for scaled or standardised inputs.
        #[strum(to_string = "f32", serialize = "float32")]
        F32,
        /// 64-bit floats: what the reference figures were produced with.
        #[default]
        #[strum(to_string = "f64", serialize = "float64")]
        F64,
    }
}

impl Precision {
    /// The Burn dtype.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }
}
