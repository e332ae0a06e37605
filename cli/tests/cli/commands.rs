//! The `ngmnn` binary: train / eval / predict on the built-in data, and one-line errors.

use std::process::Output;

use crate::bin::{ngmnn, ngmnn_ok};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn train_eval_predict_on_builtin_data() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let report = dir.path().join("r.json");
    let out = ngmnn_ok(&[
        "train",
        "--epochs",
        "3",
        "--hidden",
        "128,32",
        "--out",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(stdout(&out).contains("final:"));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    for key in [
        "dataset",
        "n_train",
        "n_test",
        "d",
        "classes",
        "backend",
        "epochs",
        "final_test_acc",
        "best_test_acc",
        "total_seconds",
    ] {
        assert!(r.get(key).is_some(), "report lacks {key}");
    }
    assert_eq!(r["epochs"].as_array().unwrap().len(), 3);
    for key in ["epoch", "train_acc", "test_acc", "seconds"] {
        assert!(
            r["epochs"][0].get(key).is_some(),
            "epoch record lacks {key}"
        );
    }
    assert!(r["best_test_acc"].as_f64().unwrap() > 0.8);

    let eval_report = dir.path().join("e.json");
    let out = ngmnn_ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--report",
        eval_report.to_str().unwrap(),
    ]);
    assert!(stdout(&out).contains("macro-F1"));
    let e: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&eval_report).unwrap()).unwrap();
    assert!(e["accuracy"].as_f64().unwrap() > 0.8);

    let preds = dir.path().join("p.csv");
    ngmnn_ok(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--output",
        preds.to_str().unwrap(),
    ]);
    let csv = std::fs::read_to_string(&preds).unwrap();
    assert_eq!(csv.lines().count(), 1798);
    assert!(csv.starts_with("index,predicted,actual\n0,"));
}

#[test]
fn errors_are_one_line_with_a_nonzero_exit() {
    for args in [
        &["train", "--hidden", "4"][..],
        &["train", "--data", "/nonexistent/x.csv"],
        &["train", "--gamma", "-1"],
        &["train", "--data", "Cargo.toml"],
        &["eval", "--model", "/nonexistent"],
    ] {
        let out = ngmnn(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ") && err.trim_end().lines().count() == 1,
            "{args:?}: {err}"
        );
    }
}

#[test]
fn json_output_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("curves.svg");
    let out = ngmnn_ok(&[
        "train",
        "--epochs",
        "3",
        "--hidden",
        "64,16",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(report["epochs"].as_array().unwrap().len(), 3);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg")
            && svg.contains("accuracy")
            && svg.contains("decision-layer objective")
    );
    let out = ngmnn(&["eval", "--model", "/nonexistent", "--json"]);
    assert!(!out.status.success());
}

#[test]
fn every_subcommand_has_help_with_examples() {
    for sub in ["train", "eval", "predict", "compare"] {
        let out = ngmnn_ok(&[sub, "--help"]);
        assert!(
            stdout(&out).contains("Example"),
            "{sub} --help lacks examples"
        );
    }
}

#[test]
fn compare_prints_a_table_and_writes_report_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let (report, plot) = (dir.path().join("c.json"), dir.path().join("c.svg"));
    let out = ngmnn_ok(&[
        "compare",
        "--epochs",
        "3",
        "--gradient-epochs",
        "3",
        "--quiet",
        "--report",
        report.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    let table = stdout(&out);
    for row in [
        "| closed-form (broad) | flex | f32 | 3 |",
        "| sgd (lr 0.1",
        "| adam (lr 0.01",
    ] {
        assert!(table.contains(row), "missing {row}:\n{table}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 3);
    assert_eq!(json["runs"][1]["curve"].as_array().unwrap().len(), 3);
    assert!(std::fs::read_to_string(&plot).unwrap().contains("<svg"));
    // No test set: a one-line error, not a panic.
    let out = ngmnn(&["compare", "--test-fraction", "0", "--quiet"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("test set") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn streamed_training_from_a_csv_file_matches_the_in_memory_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = ngmnn::data::digits();
    let mut text = String::new();
    for (row, label) in data.features().chunks(data.d()).zip(data.labels()) {
        let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        text.push_str(&format!("{},{}\n", cells.join(","), data.classes()[*label]));
    }
    let csv = dir.path().join("digits.csv");
    std::fs::write(&csv, text).unwrap();
    let model = dir.path().join("model");
    let common = [
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--hidden",
        "64,16",
        "--epochs",
        "2",
        "--test-fraction",
        "0",
        "--precision",
        "f64",
        "--json",
    ];
    let memory = ngmnn_ok(&common);
    let mut args = common.to_vec();
    args.extend(["--stream-rows", "100", "--out", model.to_str().unwrap()]);
    let streamed = ngmnn_ok(&args);
    let json = |o: &Output| -> serde_json::Value { serde_json::from_slice(&o.stdout).unwrap() };
    let (m, s) = (json(&memory), json(&streamed));
    assert_eq!(s["n_train"], 1797);
    for e in 0..2 {
        assert_eq!(
            m["epochs"][e]["train_acc"], s["epochs"][e]["train_acc"],
            "epoch {e}"
        );
        let (a, b) = (
            m["epochs"][e]["decision_objective"].as_f64().unwrap(),
            s["epochs"][e]["decision_objective"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-8 * a.abs(), "{a} vs {b}");
    }
    // The saved model is usable.
    ngmnn_ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        csv.to_str().unwrap(),
    ]);
    // What cannot be streamed says so in one line.
    for bad in [
        vec!["train", "--stream-rows", "10"],
        vec![
            "train",
            "--data",
            csv.to_str().unwrap(),
            "--stream-rows",
            "10",
            "--standardize",
        ],
    ] {
        let out = ngmnn(&bad);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

/// A warning when most backward targets sit at the target map's bounds: min-max targets on two
/// classes put every target at a bound (each column holds two values, its minimum and maximum).
#[test]
fn saturated_backward_targets_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("two.csv");
    let mut text = String::new();
    for i in 0..200 {
        let c = i % 2;
        let (a, b) = ((i * 7 % 13) as f64 / 13.0, (i * 5 % 11) as f64 / 11.0);
        text += &format!("{},{},{c}\n", a + c as f64, b - c as f64);
    }
    std::fs::write(&csv, text).unwrap();
    let run = |targets: &str| {
        let out = ngmnn_ok(&[
            "train",
            "--data",
            csv.to_str().unwrap(),
            "--preset",
            "paper",
            "--hidden",
            "8,4",
            "--targets",
            targets,
            "--epochs",
            "2",
            "--quiet",
        ]);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let minmax = run("minmax");
    assert_eq!(
        minmax.matches("warning:").count(),
        1,
        "once per run: {minmax}"
    );
    assert!(minmax.contains("backward targets"), "{minmax}");
    assert!(!run("softmax").contains("warning:"));
}

/// `--resume` continues from the saved f64 parameters: 2 epochs + 1 resumed = 3 straight
/// epochs, bit for bit (CPU backend, `--precision f64`; the broad preset's default f32 keeps
/// f32 weights, so its resumed fit continues from their rounding).
#[test]
fn resume_is_exact() {
    use ngmnn::model::SavedModel;
    let dir = tempfile::tempdir().unwrap();
    let (straight, part) = (dir.path().join("straight"), dir.path().join("part"));
    let train = |out: &std::path::Path, epochs: &str| {
        ngmnn_ok(&[
            "train",
            "--hidden",
            "128,32",
            "--precision",
            "f64",
            "--epochs",
            epochs,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
    };
    train(&straight, "3");
    train(&part, "2");
    ngmnn_ok(&[
        "train",
        "--resume",
        part.to_str().unwrap(),
        "--epochs",
        "3",
        "--quiet",
    ]);
    let device = burn::tensor::Device::flex();
    let (_, a) = SavedModel::load(&straight, &device).unwrap();
    let (_, b) = SavedModel::load(&part, &device).unwrap();
    assert_eq!(a.dtype(), burn::tensor::DType::F64);
    for (p, q) in a.layer_params().into_iter().zip(b.layer_params()) {
        let (p, q) = (p.w.into_data(), q.w.into_data());
        assert_eq!(
            p.try_to_vec::<f64>().unwrap(),
            q.try_to_vec::<f64>().unwrap()
        );
    }
}

/// Prediction on new data without labels: a CSV with only the feature columns (detected, or
/// `--label-col none`) predicts what the labeled file predicts, with the saved class names
/// (string labels with spaces round-trip); `--scores` adds one unit-norm row of scores per
/// sample whose largest entry is the predicted class.
#[test]
fn predict_reads_unlabeled_data_and_writes_named_classes_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let (labeled, unlabeled, model) = (
        dir.path().join("labeled.csv"),
        dir.path().join("new.csv"),
        dir.path().join("model"),
    );
    let names = ["setosa flower", "versi, color", "virginica"];
    let (mut with, mut without) = (String::from("a,b,c,kind\n"), String::from("a,b,c\n"));
    for i in 0..150 {
        let k = i % 3;
        let row = format!(
            "{},{},{}",
            k as f64 + (i * 7 % 10) as f64 / 10.0,
            (i * 3 % 7) as f64 / 7.0 - k as f64,
            (i % 5) as f64 / 5.0
        );
        with += &format!("{row},\"{}\"\n", names[k]);
        without += &format!("{row}\n");
    }
    std::fs::write(&labeled, with).unwrap();
    std::fs::write(&unlabeled, without).unwrap();
    ngmnn_ok(&[
        "train",
        "--data",
        labeled.to_str().unwrap(),
        "--hidden",
        "64,8",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        model.to_str().unwrap(),
    ]);
    let predict = |data: &std::path::Path, extra: &[&str]| -> Vec<Vec<String>> {
        let csv = dir.path().join("p.csv");
        let mut args = vec![
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--output",
            csv.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        ngmnn_ok(&args);
        let mut reader = csv::Reader::from_path(&csv).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        std::iter::once(header)
            .chain(
                reader
                    .records()
                    .map(|r| r.unwrap().iter().map(String::from).collect()),
            )
            .collect()
    };
    let with_labels = predict(&labeled, &[]);
    assert_eq!(with_labels[0], ["index", "predicted", "actual"]);
    let without_labels = predict(&unlabeled, &[]);
    assert_eq!(
        without_labels[0],
        ["index", "predicted"],
        "no actual column"
    );
    assert_eq!(without_labels.len(), 151);
    for (a, b) in with_labels[1..].iter().zip(&without_labels[1..]) {
        assert_eq!(a[1], b[1], "same class from the unlabeled file");
        assert!(
            names.contains(&a[1].as_str()),
            "saved class names: {}",
            a[1]
        );
    }
    let explicit = predict(&unlabeled, &["--label-col", "none", "--scores"]);
    assert_eq!(explicit[0].len(), 2 + 3);
    assert_eq!(explicit[0][2], format!("score:{}", names[0]));
    for row in &explicit[1..] {
        let scores: Vec<f64> = row[2..].iter().map(|s| s.parse().unwrap()).collect();
        let norm = scores.iter().map(|s| s * s).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit norm: {norm}");
        let best = (0..3)
            .max_by(|&i, &j| scores[i].total_cmp(&scores[j]))
            .unwrap();
        assert_eq!(row[1], names[best]);
    }
    // A width that is neither the model's nor the model's plus a label column.
    let narrow = dir.path().join("narrow.csv");
    std::fs::write(&narrow, "1,2\n3,4\n").unwrap();
    let csv = dir.path().join("q.csv");
    let out = ngmnn(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        narrow.to_str().unwrap(),
        "--output",
        csv.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expects 3"));
}

/// `eval --json` carries the confusion matrix and per-class figures with the class names.
#[test]
fn eval_reports_the_confusion_matrix_and_per_class_figures() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    ngmnn_ok(&[
        "train",
        "--hidden",
        "128,16",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        model.to_str().unwrap(),
    ]);
    let out = ngmnn_ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        "builtin",
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let confusion = report["confusion"].as_array().unwrap();
    assert_eq!(confusion.len(), 10);
    let total: u64 = confusion
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert_eq!(total, 1797);
    let per_class = report["per_class"].as_array().unwrap();
    assert_eq!(per_class.len(), 10);
    assert_eq!(per_class[3]["class"], "3");
    let text = ngmnn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        "builtin",
    ]);
    assert!(stdout(&text).contains("precision"));
}

/// Features that carry nothing (constant columns) give a model that predicts one class for
/// every training row: the run says so on stderr (exit 0), and `--strict` makes it the run's
/// error (exit 1). A sound fit says nothing of the kind.
#[test]
fn a_degenerate_fit_warns_and_fails_under_strict() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("constant.csv");
    let rows: String = (0..60).map(|i| format!("1,2,3,{}\n", i % 2)).collect();
    std::fs::write(&csv, rows).unwrap();
    let args = [
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--epochs",
        "2",
        "--quiet",
    ];
    let warned = ngmnn_ok(&args);
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(
        stderr.contains("warning:") && stderr.contains("same class"),
        "{stderr}"
    );
    let strict = ngmnn(&[&args[..], &["--strict"]].concat());
    assert_eq!(strict.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(
        stderr.starts_with("error:") && stderr.contains("same class"),
        "{stderr}"
    );
    let sound = ngmnn_ok(&["train", "--epochs", "2", "--quiet", "--strict"]);
    assert!(!String::from_utf8_lossy(&sound.stderr).contains("same class"));
}
