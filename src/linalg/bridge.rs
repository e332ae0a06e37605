//! Moving small matrices between a Burn device and the host (faer, f64).
//!
//! Only `d x d`, `d x c` and length-`d` quantities cross this bridge inside an epoch; n-sized
//! tensors stay on the device.

use burn::tensor::{DType, Device, Tensor, TensorData};
use faer::Mat;

use crate::error::{NgmnnError, Result};

/// Copy a device matrix to the host as an f64 faer matrix.
///
/// # Errors
/// [`NgmnnError::NonFinite`] if any entry is NaN or infinite (`what` names the quantity).
pub fn to_host(t: Tensor<2>, what: &str) -> Result<Mat<f64>> {
    let [rows, cols] = t.dims();
    let v = read_f64(t.into_data(), what)?;
    Ok(Mat::from_fn(rows, cols, |i, j| v[i * cols + j]))
}

/// Copy a device vector to the host as f64.
///
/// # Errors
/// [`NgmnnError::NonFinite`] if any entry is NaN or infinite.
pub fn to_host_vec(t: Tensor<1>, what: &str) -> Result<Vec<f64>> {
    read_f64(t.into_data(), what)
}

/// Read a one-element tensor as an f64 scalar.
///
/// # Errors
/// [`NgmnnError::NonFinite`] if it is NaN or infinite.
pub fn scalar(t: Tensor<1>, what: &str) -> Result<f64> {
    Ok(to_host_vec(t, what)?[0])
}

fn read_f64(data: TensorData, what: &str) -> Result<Vec<f64>> {
    let v = data
        .try_into_vec_as::<f64>()
        .map_err(|e| NgmnnError::Numerical {
            context: "device to host copy",
            reason: format!("{e:?}"),
        })?;
    if v.iter().any(|x| !x.is_finite()) {
        return Err(NgmnnError::NonFinite(what.to_owned()));
    }
    Ok(v)
}

/// Copy a host matrix to the device with the given dtype.
pub fn from_host(m: &Mat<f64>, device: &Device, dtype: DType) -> Tensor<2> {
    let (rows, cols) = (m.nrows(), m.ncols());
    // Row-major from faer's column-major storage: read each column contiguously.
    let mut v = vec![0.0; rows * cols];
    for (j, col) in m.col_iter().enumerate() {
        for (i, x) in col.iter().enumerate() {
            v[i * cols + j] = *x;
        }
    }
    Tensor::from_data(TensorData::new(v, [rows, cols]), (device, dtype))
}

/// Copy a host vector to the device with the given dtype.
pub fn from_host_vec(v: &[f64], device: &Device, dtype: DType) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), (device, dtype))
}
