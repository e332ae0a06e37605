//! Linear algebra: the device <-> host bridge and the small dense f64 factorisations (faer).
//!
//! Burn 0.22.1 has no solve, Cholesky or symmetric eigendecomposition. The method's big
//! products (Gram matrices, cross products) stay on the Burn device; the small `d x d` systems
//! they produce are brought to the host in f64 and factorised with faer.

mod bridge;
pub(crate) mod gram;
mod host;

pub use bridge::{from_host, from_host_vec, scalar, to_host, to_host_vec};
pub use host::{
    PROCRUSTES_RANK_TOL, RidgeFactor, SymInvSqrt, procrustes, procrustes_near, procrustes_rank_tol,
};
pub(crate) use host::{ensure_finite, par_for, symmetric_eigen};
