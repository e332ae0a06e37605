//! Your own model, your own batches, the one-line swap: a frozen convolutional feature
//! extractor (fixed random 5x5 filters, ReLU, 2x2 max-pooling) followed by an NGMNN head,
//! trained by burn-train with the closed-form strategy on the MNIST slice shipped in `data/`.
//!
//! The model and its batch type are defined here, as a Burn user would: `ConvHead` implements
//! burn-train's `TrainStep` / `InferenceStep` on `ImageBatch`es (so the stock learner could
//! train it by gradient descent) and ngmnn's `ClosedFormModel` (the head's input is the
//! extractor's output). The strategy fits the head in closed form; the filters stay as they are.
//!
//! ```text
//! cargo run --release --example frozen_extractor -- [--train 6000] [--epochs 3]
//! ```

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::optim::SgdConfig;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{
    ClassificationOutput, InferenceStep, Learner, SupervisedTraining, TrainOutput, TrainStep,
};
use clap::Parser;
use ngmnn::learner::ClosedFormModel;
use ngmnn::prelude::*;

/// One 28 x 28 image and its class.
#[derive(Debug, Clone)]
struct ImageItem {
    pixels: Vec<f32>,
    label: usize,
}

/// A batch of images `[n, 1, 28, 28]` and their classes.
#[derive(Debug, Clone)]
struct ImageBatch {
    images: Tensor<4>,
    labels: Tensor<1, Int>,
}

#[derive(Debug, Clone, Copy)]
struct ImageBatcher;

impl Batcher<ImageItem, ImageBatch> for ImageBatcher {
    fn batch(&self, items: Vec<ImageItem>, device: &Device) -> ImageBatch {
        let n = items.len();
        let pixels: Vec<f32> = items.iter().flat_map(|i| i.pixels.clone()).collect();
        let labels: Vec<i64> = items.iter().map(|i| i.label as i64).collect();
        ImageBatch {
            images: Tensor::from_data(TensorData::new(pixels, [n, 1, 28, 28]), device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}

/// Frozen random filters, then an NGMNN head.
#[derive(Module, Debug)]
struct ConvHead {
    conv: Conv2d,
    pool: MaxPool2d,
    head: Ngmnn,
}

/// Feature maps: 16 channels of 12 x 12.
const FEATURES: usize = 16 * 12 * 12;

impl ConvHead {
    fn new(device: &Device) -> ngmnn::Result<Self> {
        Ok(Self {
            conv: Conv2dConfig::new([1, 16], [5, 5]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            head: NgmnnConfig::new(FEATURES, vec![1024, 64], 10).init(device)?,
        })
    }

    /// The extractor's output, `[n, 2304]`.
    fn features(&self, images: Tensor<4>) -> Tensor<2> {
        let maps = self.pool.forward(relu(self.conv.forward(images)));
        let n = maps.dims()[0];
        maps.reshape([n, FEATURES])
    }

    fn classify(&self, batch: ImageBatch) -> ClassificationOutput {
        let logits = self
            .head
            .forward_activations(self.features(batch.images))
            .logits;
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.labels.clone());
        ClassificationOutput {
            loss,
            output: logits,
            targets: batch.labels,
        }
    }
}

impl TrainStep for ConvHead {
    type Input = ImageBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ImageBatch) -> TrainOutput<ClassificationOutput> {
        let item = self.classify(batch);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for ConvHead {
    type Input = ImageBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ImageBatch) -> ClassificationOutput {
        self.classify(batch)
    }
}

impl ClosedFormModel for ConvHead {
    fn head_inputs(&self, batch: &ImageBatch) -> (Tensor<2>, Tensor<1, Int>) {
        (self.features(batch.images.clone()), batch.labels.clone())
    }

    fn head(&self) -> &Ngmnn {
        &self.head
    }

    fn with_head(self, head: Ngmnn) -> Self {
        Self { head, ..self }
    }
}

#[derive(Parser)]
struct Args {
    /// Training images (the first N of the slice's 12000).
    #[arg(long, default_value_t = 6000)]
    train: usize,
    #[arg(long, default_value_t = 3)]
    epochs: usize,
}

/// The first `n` images of `data`, scaled to [0, 1].
fn items(data: &LabeledData, n: usize) -> Vec<ImageItem> {
    let d = data.d();
    (0..n.min(data.n()))
        .map(|i| ImageItem {
            pixels: data.features()[i * d..(i + 1) * d]
                .iter()
                .map(|v| v / 255.0)
                .collect(),
            label: data.labels()[i],
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let device = BackendKind::Flex.device()?.autodiff();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist-slice");
    let (train, test) = ngmnn::data::load_idx_dir(&dir)?;
    let test = test.ok_or("the slice has t10k files")?;
    let loader = |items: Vec<ImageItem>, batch: usize| {
        DataLoaderBuilder::new(ImageBatcher)
            .batch_size(batch)
            .set_device(device.clone())
            .build(InMemDataset::new(items))
    };
    let strategy = ClosedFormStrategy::new(ClosedFormConfig::new());
    let handle = strategy.handle();
    let dir = std::env::temp_dir().join("ngmnn-frozen-extractor");
    let result = SupervisedTraining::new(
        &dir,
        loader(items(&train, args.train), 256),
        loader(items(&test, usize::MAX), 500),
    )
    .metrics((AccuracyMetric::new(), LossMetric::new()))
    .with_default_checkpointers()
    .with_checkpointing_strategy(accuracy_checkpointing())
    .num_epochs(args.epochs)
    .summary()
    .with_training_strategy(strategy.into()) // the swap: without it, SGD trains `ConvHead`
    .launch(Learner::new(
        ConvHead::new(&device)?,
        SgdConfig::new().init(),
        0.01,
    ));
    if let Some(error) = handle.take_error() {
        return Err(error.into());
    }
    let model = result.model;
    let test_items = items(&test, usize::MAX);
    let batch = ImageBatcher.batch(test_items, &device);
    let output = InferenceStep::step(&model, batch);
    let correct = output
        .output
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(output.targets)
        .int()
        .sum()
        .into_scalar::<i64>();
    println!(
        "frozen conv extractor + NGMNN head, {} training images: test accuracy {:.4}",
        args.train.min(train.n()),
        correct as f64 / test.n() as f64
    );
    Ok(())
}
