//! A seeded synthetic source of any size, generated batch by batch (benches, examples, tests).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Batch, BatchSource};
use crate::data::LabeledData;
use crate::error::{NgmnnError, Result};

/// A seeded synthetic classification problem of any size, generated batch by batch: class
/// means uniform in `[-1, 1]^d`, isotropic Gaussian-like noise of standard deviation `noise`,
/// labels uniform. Batch `i` is drawn from its own seeded generator, so every pass yields the
/// same rows without storing them.
#[derive(Debug, Clone)]
pub struct SyntheticSource {
    n: usize,
    d: usize,
    classes: usize,
    rows: usize,
    noise: f32,
    /// Seeds the batches (the class means come from the constructor's seed).
    stream: u64,
    means: Vec<f32>,
    next: usize,
}

impl SyntheticSource {
    /// `n` samples of `d` features in `classes` classes, served `rows` at a time.
    ///
    /// # Errors
    /// [`NgmnnError::InvalidConfig`] for zero sizes or fewer than two classes.
    pub fn new(n: usize, d: usize, classes: usize, rows: usize, seed: u64) -> Result<Self> {
        for (field, value, min, rule) in [
            ("n", n, 1, "must be at least 1"),
            ("d", d, 1, "must be at least 1"),
            ("classes", classes, 2, "must be at least 2"),
            ("rows", rows, 1, "must be at least 1"),
        ] {
            if value < min {
                return Err(NgmnnError::config(field, value, rule));
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let means = (0..classes * d)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        Ok(Self {
            n,
            d,
            classes,
            rows,
            noise: 1.0,
            stream: seed,
            means,
            next: 0,
        })
    }

    /// Noise standard deviation (default 1).
    pub fn with_noise(mut self, noise: f32) -> Self {
        self.noise = noise;
        self
    }

    /// Another `n` samples of the same problem (same class means, fresh noise and labels):
    /// validation or test data.
    pub fn held_out(&self, n: usize) -> Self {
        Self {
            n: n.max(1),
            stream: self.stream.wrapping_add(0x5851_F42D_4C95_7F2D),
            next: 0,
            ..self.clone()
        }
    }

    /// Materialise rows `0..n` as a [`LabeledData`] (for small cases: the in-memory reference).
    ///
    /// # Errors
    /// As [`LabeledData::new`].
    pub fn to_dataset(&self) -> Result<LabeledData> {
        let mut copy = self.clone();
        copy.next = 0;
        let (mut x, mut y) = (Vec::new(), Vec::new());
        while let Some(b) = copy.next_batch()? {
            x.extend(b.features);
            y.extend(b.labels);
        }
        let classes = (0..self.classes).map(|k| k.to_string()).collect();
        LabeledData::new("synthetic", x, y, self.d, classes)
    }
}

impl BatchSource for SyntheticSource {
    fn name(&self) -> String {
        "synthetic".into()
    }

    fn n_features(&self) -> usize {
        self.d
    }

    fn n_classes(&self) -> usize {
        self.classes
    }

    fn rows_hint(&self) -> Option<usize> {
        Some(self.n)
    }

    fn reset(&mut self) -> Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.next >= self.n {
            return Ok(None);
        }
        let rows = self.rows.min(self.n - self.next);
        let index = (self.next / self.rows) as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.stream ^ (index + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let mut features = Vec::with_capacity(rows * self.d);
        let mut labels = Vec::with_capacity(rows);
        for _ in 0..rows {
            let label = rng.random_range(0..self.classes);
            labels.push(label);
            let mean = &self.means[label * self.d..(label + 1) * self.d];
            // Sum of 3 uniforms: zero mean, variance 1/4 (scaled to `noise`), cheap and bounded.
            features.extend(mean.iter().map(|&m| {
                let u: f32 = rng.random::<f32>() + rng.random::<f32>() + rng.random::<f32>() - 1.5;
                m + 2.0 * self.noise * u
            }));
        }
        self.next += rows;
        Ok(Some(Batch { features, labels }))
    }
}
