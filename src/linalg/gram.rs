//! `A^T A` of a tall `[b, m]` matrix as a symmetric product: only the upper block triangle is
//! computed, about `(k + 1) / 2k` of a general product's flops for `k` column blocks.
//!
//! # Closed form
//! With the columns of `A` in blocks `A_1 .. A_k` of [`GRAM_BLOCK`] columns:
//! ```text
//! row block i of the result: A_i^T [A_i .. A_k]      (i = 1 .. k; a [B, m - s_i] product)
//! ```
//! The blocks come to the host one by one (half the bytes of the full product) and the lower
//! triangle is mirrored there ([`gram_to_host`]). Burn 0.22.1 has no `syrk`; the row blocks
//! are ordinary device products, so the saving is in flops, at the backend's matmul rate.

use burn::tensor::Tensor;
use faer::Mat;

use super::to_host;
use crate::error::Result;

/// Columns per block.
pub const GRAM_BLOCK: usize = 256;

/// Below this many columns the general product is used (one product, no padding).
pub const SYMMETRIC_FROM: usize = 2 * GRAM_BLOCK;

/// The row blocks of `A^T A`'s upper block triangle: `(s, A[:, s..e]^T A[:, s..])`, a
/// `[e - s, m - s]` product for each block of columns `s..e` (one block, the full product,
/// below [`SYMMETRIC_FROM`] columns), and the flops spent.
pub fn upper_gram(a: Tensor<2>) -> (Vec<(usize, Tensor<2>)>, u64) {
    let [b, m] = a.dims();
    if m < SYMMETRIC_FROM {
        return (
            vec![(0, a.clone().transpose().matmul(a))],
            2 * (b * m * m) as u64,
        );
    }
    let mut blocks = Vec::with_capacity(m.div_ceil(GRAM_BLOCK));
    let mut flops = 0u64;
    for start in (0..m).step_by(GRAM_BLOCK) {
        let end = (start + GRAM_BLOCK).min(m);
        let left = a.clone().slice([0..b, start..end]).transpose();
        let right = a.clone().slice([0..b, start..m]);
        flops += 2 * (b * (end - start) * (m - start)) as u64;
        blocks.push((start, left.matmul(right)));
    }
    (blocks, flops)
}

/// The symmetric `m x m` host matrix from [`upper_gram`]'s blocks (each read once; the lower
/// triangle mirrored).
///
/// # Errors
/// As [`to_host`].
pub fn gram_to_host(blocks: Vec<(usize, Tensor<2>)>, m: usize, what: &str) -> Result<Mat<f64>> {
    let mut g = Mat::<f64>::zeros(m, m);
    for (start, block) in blocks {
        let block = to_host(block, what)?;
        for j in 0..block.ncols() {
            for i in 0..block.nrows() {
                let v = block[(i, j)];
                g[(start + i, start + j)] = v;
                g[(start + j, start + i)] = v;
            }
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    /// Every entry equals the general product's, for widths below, at and above the threshold
    /// and not a multiple of the block.
    #[test]
    fn upper_triangle_is_the_gram_matrix() {
        let device = Device::default();
        for m in [5, SYMMETRIC_FROM, SYMMETRIC_FROM + 37] {
            let b = 23;
            let v: Vec<f64> = (0..b * m)
                .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
                .collect();
            let a = Tensor::<2>::from_data(
                TensorData::new(v, [b, m]),
                (&device, burn::tensor::DType::F64),
            );
            let full = to_host(a.clone().transpose().matmul(a.clone()), "full").unwrap();
            let (blocks, flops) = upper_gram(a);
            let gram = gram_to_host(blocks, m, "gram").unwrap();
            for i in 0..m {
                for j in 0..m {
                    assert!(
                        (gram[(i, j)] - full[(i, j)]).abs() < 1e-9,
                        "{m}: ({i}, {j})"
                    );
                }
            }
            assert!(flops <= 2 * (b * m * m) as u64);
        }
    }
}
