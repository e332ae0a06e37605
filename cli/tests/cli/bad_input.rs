//! Bad input gives a typed error (library) or one line and a non-zero exit (CLI); never a
//! panic, a hang or a silently wrong model.

use crate::common;

/// Hostile inputs against the input budget, gzip members and exact labels (issue 24).
#[path = "bad_input/hostile.rs"]
mod hostile;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::bin::{ngmnn, ngmnn_ok};
use common::matv5::mat_v5;
use ngmnn::NgmnnError;
use ngmnn::data::{CsvOptions, LabeledData, load_csv, load_idx, load_mat, parse_csv};
use ngmnn::model::NgmnnConfig;
use ngmnn::train::ClosedFormConfig;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Run the CLI; assert failure with exactly one `error: ...` line containing `needle`.
fn cli_fails(args: &[&str], needle: &str) {
    let out = ngmnn(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{args:?}: {err}"
    );
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
}

#[test]
fn csv_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 7] = [
        ("nan.csv", b"1,2,a\nnan,3,b\n", "non-finite"),
        ("inf.csv", b"1,2,a\n1,inf,b\n", "non-finite"),
        ("ragged.csv", b"1,2,a\n1,b\n", "ragged"),
        ("text.csv", b"1,2,a\n1,x,b\n", "not a number"),
        ("empty.csv", b"", "empty file"),
        ("header.csv", b"f1,f2,label\n", "no data rows"),
        ("one_column.csv", b"1\n2\n", "column"),
    ];
    for (name, bytes, needle) in cases {
        let p = write(dir.path(), name, bytes);
        match load_csv(&p, &CsvOptions::default()) {
            Err(NgmnnError::InvalidData { reason, .. }) => {
                assert!(reason.contains(needle), "{name}: {reason}")
            }
            other => panic!("{name}: {other:?}"),
        }
        cli_fails(&["train", "--data", p.to_str().unwrap()], needle);
    }
}

#[test]
fn idx_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let header = |dims: &[u32]| {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        dims.iter()
            .for_each(|d| b.extend_from_slice(&d.to_be_bytes()));
        b
    };
    let labels = [header(&[4]), vec![0, 1, 0, 1]].concat();
    let images_ok = [header(&[4, 2, 2]), vec![7; 16]].concat();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "truncated",
            [header(&[4, 2, 2]), vec![7; 10]].concat(),
            "holds 10 bytes",
        ),
        (
            "lying",
            [header(&[4_000_000, 4_000, 4_000]), vec![7; 16]].concat(),
            "holds 16 bytes",
        ),
        (
            "magic",
            [vec![1, 2, 8, 3], images_ok[4..].to_vec()].concat(),
            "magic",
        ),
        (
            "type",
            [vec![0, 0, 0x42, 3], images_ok[4..].to_vec()].concat(),
            "element type",
        ),
        ("gz-truncated", gz(&images_ok)[..20].to_vec(), "gzip"),
    ];
    for (name, bytes, needle) in cases {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        write(&sub, "train-labels-idx1-ubyte", &labels);
        let p = write(&sub, "train-images-idx3-ubyte", &bytes);
        match load_idx(&p) {
            Err(e @ NgmnnError::Parse { .. }) => {
                assert!(e.to_string().contains(needle), "{name}: {e}")
            }
            other => panic!("{name}: {other:?}"),
        }
        cli_fails(&["train", "--data", sub.to_str().unwrap()], needle);
    }
    // Labels that disagree with the images.
    let sub = dir.path().join("count");
    std::fs::create_dir(&sub).unwrap();
    write(
        &sub,
        "train-labels-idx1-ubyte",
        &[header(&[3]), vec![0, 1, 0]].concat(),
    );
    let p = write(&sub, "train-images-idx3-ubyte", &images_ok);
    assert!(matches!(load_idx(&p), Err(NgmnnError::InvalidData { .. })));
    // Images without a labels file.
    let lonely = write(dir.path(), "lonely-images-idx3-ubyte", &images_ok);
    assert!(matches!(
        load_idx(&lonely),
        Err(NgmnnError::UnsupportedFormat { .. })
    ));
}

#[test]
fn mat_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]; // 3 x 2
    let good = mat_v5(&[("X", 3, 2, &x), ("Y", 3, 1, &[1.0, 2.0, 1.0])]);
    let ds = load_mat(&write(dir.path(), "good.mat", &good)).unwrap();
    assert_eq!((ds.n(), ds.d()), (3, 2));
    assert_eq!(
        ds.features(),
        [0.0, 3.0, 1.0, 4.0, 2.0, 5.0],
        "column-major X"
    );

    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "nan.mat",
            mat_v5(&[
                ("X", 3, 2, &[0.0, f64::NAN, 2.0, 3.0, 4.0, 5.0]),
                ("Y", 3, 1, &[1.0, 2.0, 1.0]),
            ]),
            "non-finite",
        ),
        ("noY.mat", mat_v5(&[("X", 3, 2, &x)]), "no variable `Y`"),
        (
            "sizes.mat",
            mat_v5(&[("X", 3, 2, &x), ("Y", 4, 1, &[1.0, 2.0, 1.0, 2.0])]),
            "neither dimension",
        ),
        (
            "fraction.mat",
            mat_v5(&[("X", 3, 2, &x), ("Y", 3, 1, &[1.0, 2.5, 1.0])]),
            "not an integer",
        ),
        (
            "truncated.mat",
            good[..good.len() - 20].to_vec(),
            "cannot parse",
        ),
        ("garbage.mat", vec![0x5a; 300], "cannot parse"),
    ];
    for (name, bytes, needle) in cases {
        let p = write(dir.path(), name, &bytes);
        let err = load_mat(&p).expect_err(name).to_string();
        assert!(err.contains(needle), "{name}: {err}");
        cli_fails(&["train", "--data", p.to_str().unwrap()], needle);
    }
    // The real att40 file cut in half.
    let att = std::fs::read(common::crate_data("att40.mat")).unwrap();
    let p = write(dir.path(), "att_half.mat", &att[..att.len() / 2]);
    assert!(matches!(load_mat(&p), Err(NgmnnError::Parse { .. })));
}

#[test]
fn label_and_class_problems() {
    // Labels out of range.
    let e = LabeledData::new(
        "t",
        vec![0.0; 4],
        vec![0, 5],
        2,
        vec!["a".into(), "b".into()],
    );
    assert!(matches!(e, Err(NgmnnError::InvalidData { .. })));
    let dir = tempfile::tempdir().unwrap();
    // A single class.
    let single = write(dir.path(), "single.csv", b"1,2,a\n2,3,a\n3,4,a\n4,5,a\n");
    cli_fails(
        &["train", "--data", single.to_str().unwrap(), "--hidden", "4"],
        "at least 2 classes",
    );
    // More classes in the test set than in training.
    let train = write(
        dir.path(),
        "train.csv",
        b"1,2,a\n2,3,b\n3,4,a\n4,5,b\n5,5,a\n",
    );
    let test = write(dir.path(), "test.csv", b"1,2,a\n2,3,c\n");
    cli_fails(
        &[
            "train",
            "--data",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--hidden",
            "4",
        ],
        "not among the 2 training classes",
    );
}

#[test]
fn too_few_samples_for_the_decision_layer() {
    let device = common::device();
    let ds = parse_csv(b"1,2,a\n2,3,b\n", "two", &CsvOptions::default()).unwrap();
    let model = NgmnnConfig::new(2, vec![4], 2).init(&device).unwrap();
    let trainer = ClosedFormConfig::paper().with_epochs(1).init().unwrap();
    match trainer.fit(model, &ds, None) {
        Err(NgmnnError::InvalidData { reason, .. }) => {
            assert!(reason.contains("at least 3"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_hyper_parameters_and_architectures_on_the_cli() {
    cli_fails(&["train", "--hidden", "4"], "d_(L-1) >= c");
    cli_fails(&["train", "--hidden", "0"], "width 0");
    cli_fails(&["train", "--gamma=-1"], "gamma");
    cli_fails(&["train", "--gamma", "NaN"], "gamma");
    cli_fails(&["train", "--test-fraction", "1.5"], "test_fraction");
    cli_fails(&["train", "--epochs", "0"], "epochs");
}

#[test]
fn eval_and_predict_refuse_mismatched_models_and_broken_directories() {
    let dir = tempfile::tempdir().unwrap();
    let model = crate::bin::one_epoch_model(dir.path(), "m");
    let narrow = write(dir.path(), "narrow.csv", b"1,2,3,0\n4,5,6,1\n");
    cli_fails(
        &[
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--data",
            narrow.to_str().unwrap(),
        ],
        "expects 64",
    );
    let preds = dir.path().join("p.csv");
    cli_fails(
        &[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--data",
            narrow.to_str().unwrap(),
            "--output",
            preds.to_str().unwrap(),
        ],
        "expects 64",
    );
    assert!(!preds.exists(), "no output for a failed prediction");
    // A model directory missing its record; one whose config disagrees with the record.
    // (A run's folder keeps its files in the version CURRENT names.)
    let model = model.join(
        std::fs::read_to_string(model.join("CURRENT"))
            .unwrap()
            .trim(),
    );
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::copy(model.join("model.json"), broken.join("model.json")).unwrap();
    cli_fails(&["eval", "--model", broken.to_str().unwrap()], "model.bpk");
    let json = std::fs::read_to_string(model.join("model.json"))
        .unwrap()
        .replace(
            "\"hidden\": [\n      64,\n      16\n    ]",
            "\"hidden\": [\n      64,\n      17\n    ]",
        );
    std::fs::write(broken.join("model.json"), json).unwrap();
    std::fs::copy(model.join("model.bpk"), broken.join("model.bpk")).unwrap();
    cli_fails(&["eval", "--model", broken.to_str().unwrap()], "record");
    // An absurd width in model.json: a typed error before anything of that size is allocated
    // (it was a capacity-overflow panic or an allocation abort).
    for absurd in ["2000000000", "18446744073709551615"] {
        let json = std::fs::read_to_string(model.join("model.json"))
            .unwrap()
            .replace(
                "\"hidden\": [\n      64,\n      16\n    ]",
                &format!("\"hidden\": [\n      {absurd},\n      16\n    ]"),
            );
        assert!(json.contains(absurd));
        std::fs::write(broken.join("model.json"), json).unwrap();
        cli_fails(
            &["eval", "--model", broken.to_str().unwrap()],
            "do not belong together",
        );
    }
}

/// Wide data: the paper preset's d x d moments are estimated before they are allocated and a
/// fit that would not fit stops with one line naming the size and the remedies; the broad
/// preset (random first layer, O(d r) memory) trains the same file.
#[test]
fn wide_data_is_checked_against_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let table = |name: &str, rows: usize, cols: usize| {
        let mut text = String::new();
        for i in 0..rows {
            let row: Vec<String> = (0..cols)
                .map(|j| format!("{}", (i * 31 + j * 7) % 17))
                .collect();
            text += &format!("{},{}\n", row.join(","), i % 3);
        }
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    // Wide: 30 rows of 3000 features. The paper preset's learned first layer is solved in dual
    // form (21 x 21; about 1.2 MB in all), so 10 MB suffice and 1 MB is a clear error.
    let path = &table("wide.csv", 30, 3000);
    let paper = |limit: &'static str| {
        [
            "train",
            "--data",
            path,
            "--preset",
            "paper",
            "--hidden",
            "4",
            "--epochs",
            "2",
            "--memory-limit",
            limit,
            "--quiet",
        ]
    };
    ngmnn_ok(&paper("10"));
    cli_fails(
        &paper("1"),
        "the dual system of layer 1's 3000 inputs over 21 rows",
    );
    // Tall: 400 rows of 250 features (0.4 MB, within the 1 MB that the loader may hold too),
    // primal moments of about 2.8 MB.
    let tall = &table("tall.csv", 400, 250);
    let args = [
        "train",
        "--data",
        tall,
        "--preset",
        "paper",
        "--memory-limit",
        "1",
    ];
    for needle in ["would need about", "broad preset"] {
        cli_fails(&args, needle);
    }
    // A model too wide for the limit is refused before it is built.
    cli_fails(
        &[
            "train",
            "--data",
            path,
            "--hidden",
            "20000,64",
            "--memory-limit",
            "10",
        ],
        "a model of 61300259 parameters",
    );
    // The broad preset's learned layer reads the 256 random units, not the 3000 features.
    ngmnn_ok(&[
        "train",
        "--data",
        path,
        "--hidden",
        "256,16",
        "--epochs",
        "2",
        "--memory-limit",
        "20",
        "--quiet",
    ]);
}
