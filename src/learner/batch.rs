//! The data pipeline between a [`LabeledData`] and Burn's data loaders: one [`Sample`] per row, a
//! [`SampleBatcher`] that stacks samples into a [`ClassificationBatch`], and [`data_loader`].

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::data::LabeledData;

/// One row of a [`LabeledData`]: its features and its class index.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `d` features.
    pub features: Vec<f32>,
    /// Class index in `0..n_classes`.
    pub label: usize,
}

/// A batch of samples on a device.
#[derive(Debug, Clone)]
pub struct ClassificationBatch {
    /// Features, `[batch, d]`.
    pub inputs: Tensor<2>,
    /// Class indices, `[batch]`.
    pub targets: Tensor<1, Int>,
}

/// Stacks [`Sample`]s into a [`ClassificationBatch`] (f32 features).
#[derive(Debug, Clone, Copy, Default)]
pub struct SampleBatcher;

impl Batcher<Sample, ClassificationBatch> for SampleBatcher {
    fn batch(&self, items: Vec<Sample>, device: &Device) -> ClassificationBatch {
        let n = items.len();
        let d = items.first().map_or(0, |s| s.features.len());
        let mut x = Vec::with_capacity(n * d);
        let mut y = Vec::with_capacity(n);
        for s in items {
            // Samples come from a `LabeledData`, whose rows all have `d` features.
            debug_assert_eq!(s.features.len(), d, "ragged samples");
            x.extend_from_slice(&s.features);
            y.push(s.label as i64);
        }
        ClassificationBatch {
            inputs: Tensor::from_data(TensorData::new(x, [n, d]), device),
            targets: Tensor::from_data(TensorData::new(y, [n]), device),
        }
    }
}

/// The rows of `data` as [`Sample`]s.
pub fn samples(data: &LabeledData) -> Vec<Sample> {
    let d = data.d();
    data.features()
        .chunks_exact(d.max(1))
        .zip(data.labels())
        .map(|(row, &label)| Sample {
            features: row.to_vec(),
            label,
        })
        .collect()
}

/// A Burn data loader over `data`: batches of `batch_size` rows on `device`, reshuffled every
/// epoch from `shuffle` (a seed) when given, in row order otherwise. Loads on the calling
/// thread (the batches are slices of memory already loaded).
pub fn data_loader(
    data: &LabeledData,
    batch_size: usize,
    shuffle: Option<u64>,
    device: &Device,
) -> Arc<dyn DataLoader<ClassificationBatch>> {
    let builder = DataLoaderBuilder::new(SampleBatcher)
        .batch_size(batch_size.max(1))
        .set_device(device.clone());
    let builder = match shuffle {
        Some(seed) => builder.shuffle(seed),
        None => builder,
    };
    // ngmnn's LabeledData is itself a Burn dataset of samples: one copy of the rows for the
    // loader, a sample built per item.
    builder.build(data.clone())
}
