//! The closed-form epoch cases: in memory, sharded, the reference presets, streamed, and the
//! share of the machine's matmul rate an epoch's Gram work reaches.

use super::*;

pub(crate) fn closed_form_epoch(kind: BackendKind, device: &Device) {
    for (n, d) in sizes() {
        let data = synthetic(n, d, 1);
        let model = NgmnnConfig::new(d, vec![HIDDEN], CLASSES)
            .init(device)
            .unwrap();
        for shards in [1, 2] {
            if shards > 1 && n < 10_000 {
                continue;
            }
            let devices = vec![device.clone(); shards];
            let mut fit = (epoch_config().init().unwrap())
                .start(&model, Training::sharded(&data, &devices), None)
                .unwrap();
            let suffix = if shards > 1 {
                format!("_shards{shards}")
            } else {
                String::new()
            };
            let id = format!("closed_form_epoch/{kind}/n{n}_d{d}_h{HIDDEN}_f32{suffix}");
            // Every epoch has the same cost only up to the number of decision rounds: report
            // the median and the account of the last one.
            let mut last = None;
            let median = bench(&id, n as f64, "samples/s", || {
                last = Some(fit.epoch().unwrap());
            });
            let r = last.expect("ran");
            account(&id, n, &r, median, device);
        }
    }
}

/// The account of a closed-form epoch of the paper preset with one hidden layer of `HIDDEN`
/// units (resident rows; the hidden layer through its class projection, spec §1), by step:
/// flops, seconds (the last epoch's record: its steps and the moments' cost), achieved
/// GFLOP/s and share of the backend's matmul rate measured now on the moments' shape; the
/// FLOP floor of the epoch (its flops at that rate) and how far the median epoch is from it.
fn account(id: &str, n: usize, r: &EpochRecord, median: f64, device: &Device) {
    let steps = r.steps;
    let (h, c) = (HIDDEN as f64, CLASSES as f64);
    // Every decision-layer pass after the first evaluates the outputs again (losses, slack
    // targets): 2 n h c each, inside the loss and moments passes.
    let losses = 2.0 * n as f64 * h * c * r.passes.saturating_sub(1) as f64;
    let total = steps.forward_flops + losses + r.gram_flops;
    let m = HIDDEN + CLASSES;
    let rows = 2048.min(n);
    let probe = random(rows, m, 11, device, DType::F32);
    let per = (2 * rows * m * m) as f64;
    let start = Instant::now();
    let reps = 20;
    for _ in 0..reps {
        sync(probe.clone().transpose().matmul(probe.clone()));
    }
    let rate = per * reps as f64 / start.elapsed().as_secs_f64();
    let step = |name: &str, flops: f64, seconds: f64| {
        let achieved = flops / seconds.max(1e-12);
        println!(
            "{:<50} {name:<8} {:>7.3} GF {:>8.4} s {:>7.1} GFLOP/s {:>4.0}% of matmul",
            "",
            flops * 1e-9,
            seconds,
            achieved * 1e-9,
            100.0 * achieved / rate
        );
    };
    println!(
        "{:<50} matmul rate on [{m}, {rows}] x [{rows}, {m}]: {:.1} GFLOP/s",
        format!("  account {}", id.rsplit('/').next().unwrap_or(id)),
        rate * 1e-9
    );
    step("forward", steps.forward_flops, steps.forward_seconds);
    step("moments", r.gram_flops, r.gram_seconds);
    println!(
        "{:<50} {:<8} {:>7.3} GF (decision outputs re-evaluated; timed in the rest)",
        "",
        "losses",
        losses * 1e-9
    );
    println!(
        "{:<50} {:<8} {:>19.4} s (host solves)",
        "", "host", steps.host_seconds
    );
    let rest = r.seconds - steps.forward_seconds - r.gram_seconds - steps.host_seconds;
    println!(
        "{:<50} {:<8} {:>19.4} s (losses, sort, slack targets, transfers, dispatch)",
        "", "rest", rest
    );
    let floor = total / rate;
    println!(
        "{:<50} floor {:.4} s = {:.2} GF / matmul rate; epoch {:.4} s = {:.1}x the floor ({} passes)",
        "",
        floor,
        total * 1e-9,
        median,
        median / floor,
        r.passes
    );
}

/// Epochs of the reference problems (paper preset, f64, as `ngmnn train --preset paper`),
/// and one SGD epoch of the same model on the built-in digits.
pub(crate) fn reference_epochs(kind: BackendKind, device: &Device) {
    // As `ngmnn train` runs them: faer on one thread (every host system is small).
    let parallelism = faer::get_global_parallelism();
    faer::set_global_parallelism(faer::Par::Seq);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let sets: Vec<(&str, LabeledData, Vec<usize>)> = vec![
        (
            "att40",
            ngmnn::data::load_mat(&dir.join("att40.mat")).unwrap(),
            vec![64],
        ),
        (
            "umist",
            ngmnn::data::load_mat(&dir.join("umist.mat")).unwrap(),
            vec![64, 32],
        ),
        (
            "waveform",
            ngmnn::data::load_mat(&dir.join("waveform.mat")).unwrap(),
            vec![10, 4],
        ),
        ("digits", ngmnn::data::digits(), vec![64]),
    ];
    for (name, data, hidden) in sets {
        let (train, test) = data.stratified_split(0.3, 0).unwrap();
        let model = NgmnnConfig::new(train.d(), hidden.clone(), train.n_classes())
            .init(device)
            .unwrap();
        let mut fit = (ClosedFormConfig::paper().init().unwrap())
            .start(&model, &train, Some(&test))
            .unwrap();
        let id = format!(
            "reference_epoch/{kind}/{name}_{}x{}_h{hidden:?}_f64",
            train.n(),
            train.d()
        );
        // Ten epochs per run (one epoch is a few milliseconds: too short to time alone).
        let ten = bench(&format!("{id} x10"), 0.0, "", || {
            for _ in 0..10 {
                fit.epoch().unwrap();
            }
        });
        println!("{:<50} {:>10.2} ms per epoch", "", ten * 100.0);
        if name == "digits" {
            let trainer = GradientConfig::new()
                .with_optimizer(OptimizerKind::Sgd)
                .with_epochs(10)
                .init()
                .unwrap();
            let id = format!("reference_epoch/{kind}/{name}_sgd_batch64_f32 x10");
            let ten = bench(&id, 0.0, "", || {
                trainer.fit(model.clone(), &train, None).unwrap();
            });
            println!("{:<50} {:>10.2} ms per epoch", "", ten * 100.0);
        }
    }
    faer::set_global_parallelism(parallelism);
}

/// A streamed epoch: the same data read from a `DatasetBatches` source in every pass.
pub(crate) fn closed_form_epoch_stream(kind: BackendKind, device: &Device) {
    for (n, d) in sizes().into_iter().filter(|&(n, _)| n >= 10_000) {
        let data = synthetic(n, d, 1);
        let model = NgmnnConfig::new(d, vec![HIDDEN], CLASSES)
            .init(device)
            .unwrap();
        let source = Training::stream(DatasetBatches::new(data, 10_000));
        let mut fit = (epoch_config().init().unwrap())
            .start(&model, source, None)
            .unwrap();
        let id = format!("closed_form_epoch_stream/{kind}/n{n}_d{d}_h{HIDDEN}_f32_batch10000");
        bench(&id, n as f64, "samples/s", || {
            fit.epoch().unwrap();
        });
    }
}

/// The Gram work inside a closed-form epoch against the backend's matmul rate for the same
/// products, measured in the same run: each of `RUNS` rounds times one epoch (its Gram work from
/// `EpochRecord::gram_seconds`) and then the same flops as plain products of the same shape
/// (one chunk of rows); the ratio is taken per round and the median reported.
pub(crate) fn gram_fraction(kind: BackendKind, device: &Device) {
    let n = if std::env::var("NGMNN_BENCH_FULL").is_ok() {
        60_000
    } else {
        10_000
    };
    let d = 784;
    let data = synthetic(n, d, 1);
    let model = NgmnnConfig::new(d, vec![HIDDEN], CLASSES)
        .init(device)
        .unwrap();
    let mut fit = (epoch_config().init().unwrap())
        .start(&model, &data, None)
        .unwrap();
    fit.epoch().unwrap();
    // The epoch's products: [m, rows] x [rows, m], m = hidden + classes, rows = one chunk.
    let m = HIDDEN + CLASSES;
    let rows = (1usize << 21) / (d + CLASSES);
    let h = random(rows, m, 9, device, DType::F32);
    let per_product = (2 * rows * m * m) as f64;
    sync(h.clone().transpose().matmul(h.clone()));
    let mut rounds: Vec<(f64, f64, f64, f64)> = (0..RUNS)
        .map(|_| {
            let r = fit.epoch().unwrap();
            let in_epoch = r.gram_flops / r.gram_seconds;
            let reps = (r.gram_flops / per_product).round().max(1.0) as usize;
            let start = Instant::now();
            for _ in 0..reps {
                sync(h.clone().transpose().matmul(h.clone()));
            }
            let plain = (reps as f64 * per_product) / start.elapsed().as_secs_f64();
            (
                in_epoch / plain,
                in_epoch,
                plain,
                r.gram_seconds / r.seconds,
            )
        })
        .collect();
    rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ratio, in_epoch, plain, share) = rounds[RUNS / 2];
    println!(
        "{:<50} {:>10.2} GFLOP/s",
        format!("gram_fraction/{kind}/epoch_n{n}_d{d}_h{HIDDEN}_gram_work"),
        in_epoch * 1e-9
    );
    println!(
        "{:<50} {:>10.2} GFLOP/s",
        format!("gram_fraction/{kind}/matmul_{m}x{rows}x{m}_same_flops"),
        plain * 1e-9
    );
    println!(
        "{:<50} {:>10.1} %   (median of {RUNS} paired rounds; Gram work {:.0}% of the epoch)",
        format!("gram_fraction/{kind}/fraction_of_matmul_rate"),
        100.0 * ratio,
        100.0 * share
    );
}
