//! The lowest learned layer's fixed class projection (the forward pass's shortcut).

use burn::tensor::{Device, Tensor};

/// The lowest learned layer `base` through its fixed projection
/// ([`crate::solve::class_ridge::ClassRidge::projection`]): its pre-activation is `(H_base P + 1 a^T) G` for
/// the epoch's class targets `G`, so a forward pass computes `A = H_base P + 1 a^T` (`n x c`)
/// once per fit and then only `A G`; the layers below `base` (the data, a frozen random layer)
/// are not run again.
#[derive(Debug, Clone)]
pub(crate) struct Shortcut {
    pub base: usize,
    /// `P`, `[d_base, c]`.
    pub p: Tensor<2>,
    /// `a`, `[c]`.
    pub a: Tensor<1>,
    /// `G`, `[c, d_{base+1}]`.
    pub g: Tensor<2>,
}

impl Shortcut {
    /// On `device`; `P` and `a` only if a chunk there still needs its projection (on a
    /// remote worker every copy is traffic).
    pub(super) fn on_device(&self, device: &Device, project: bool) -> Self {
        let (p, a) = match project {
            true => (
                self.p.clone().to_device(device),
                self.a.clone().to_device(device),
            ),
            false => (self.p.clone(), self.a.clone()),
        };
        Self {
            base: self.base,
            p,
            a,
            g: self.g.clone().to_device(device),
        }
    }
}
