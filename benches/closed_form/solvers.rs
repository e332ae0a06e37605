//! The matmul rate, each solver alone, one SGD epoch, and the broad fit against the ridge
//! read-out baseline.

use super::*;

pub(crate) fn matmul(kind: BackendKind, device: &Device) {
    for (n, d) in [(10_000, 64), (10_000, 256), (10_000, 784)] {
        let h = random(n, d, 2, device, DType::F32);
        // H^T H: 2 n d^2 flops.
        let flops = (2 * n * d * d) as f64;
        bench(
            &format!("gram_matmul/{kind}/n{n}_d{d}_f32"),
            flops / 1e9,
            "GFLOP/s",
            || sync(h.clone().transpose().matmul(h.clone())),
        );
    }
}

pub(crate) fn solvers(kind: BackendKind, device: &Device) {
    let (n, d, k) = (10_000, 784, HIDDEN);
    let x = random(n, d, 3, device, DType::F32);
    let t = random(n, k, 4, device, DType::F32)
        .abs()
        .clamp(1e-4, 1.0 - 1e-4);
    bench(
        &format!("solvers/{kind}/ridge_n{n}_d{d}_k{k}"),
        0.0,
        "",
        || {
            ridge(&x, t.clone(), 0.3).unwrap();
        },
    );
    let h = ngmnn::model::row_normalize(random(n, k, 5, device, DType::F32).abs());
    let labels: Vec<f32> = (0..n * CLASSES)
        .map(|i| {
            if i % CLASSES == (i / CLASSES) % CLASSES {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let y = Tensor::<2>::from_data(TensorData::new(labels, [n, CLASSES]), (device, DType::F32));
    let init = LayerParams {
        w: random(k, CLASSES, 6, device, DType::F32) * 0.05,
        b: Tensor::zeros([CLASSES], device),
    };
    let opts: DecisionOptions = ClosedFormConfig::paper().decision_options();
    bench(
        &format!("solvers/{kind}/decision_layer_n{n}_k{k}_c{CLASSES}"),
        0.0,
        "",
        || {
            decision_layer(&h, &y, &init, &opts).unwrap();
        },
    );
    bench(
        &format!("solvers/{kind}/backward_step_n{n}_k{k}_c{CLASSES}"),
        0.0,
        "",
        || {
            sync(backward_step(
                y.clone(),
                &init,
                Activation::Sigmoid,
                TargetMap::ColumnMinMax,
                1e-4,
            ))
        },
    );
}

pub(crate) fn sgd_epoch(kind: BackendKind, device: &Device) {
    for (n, d) in [(10_000, 64), (10_000, 784)] {
        let data = synthetic(n, d, 7);
        let model = NgmnnConfig::new(d, vec![HIDDEN], CLASSES)
            .init(device)
            .unwrap();
        let trainer = GradientConfig::new()
            .with_optimizer(OptimizerKind::Sgd)
            .with_epochs(1)
            .init()
            .unwrap();
        let id = format!("sgd_epoch/{kind}/n{n}_d{d}_h{HIDDEN}_batch64");
        bench(&id, n as f64, "samples/s", || {
            trainer.fit(model.clone(), &data, None).unwrap();
        });
    }
}

/// The broad preset's learned layers against the ridge read-out on the same random layer
/// (the baseline they must beat, docs/beyond-the-paper.md): a whole fit each (set-up included,
/// f32), seconds and test accuracy on a 30% split of the synthetic problem.
pub(crate) fn head_vs_ridge_readout(kind: BackendKind, device: &Device) {
    for (n, d) in sizes() {
        let (train, test) = synthetic(n, d, 3).stratified_split(0.3, 0).unwrap();
        let model = NgmnnConfig::new(d, vec![2048, 64], CLASSES);
        let config = ClosedFormConfig::new()
            .with_precision(Precision::F32)
            .with_epochs(20);
        let acc = |m: &ngmnn::model::Ngmnn| {
            ngmnn::metrics::accuracy(&m.predict_dataset(&test).unwrap(), test.labels())
        };
        let id = format!("head_vs_ridge_readout/{kind}/n{n}_d{d}/broad_20_epochs");
        let mut head = 0.0;
        bench(&id, 0.0, "", || {
            let fitted = config.init().unwrap();
            let (m, _) = fitted
                .fit(model.init(device).unwrap(), &train, None)
                .unwrap();
            head = acc(&m);
        });
        println!("{:<50} test acc {head:.4}", "");
        let id = format!("head_vs_ridge_readout/{kind}/n{n}_d{d}/ridge_readout");
        let mut readout = 0.0;
        bench(&id, 0.0, "", || {
            let (m, _) = RidgeReadoutConfig::new(config.clone())
                .fit(&model, &train, device)
                .unwrap();
            readout = acc(&m);
        });
        println!("{:<50} test acc {readout:.4}", "");
    }
}
