//! Output files named by the user (`predict --output`, `eval --report`, `train --report /
//! --plot`): a symlink is followed and its target replaced atomically, a FIFO or `-` is written
//! through, a path inside the model folder being read is refused (issue 24, items 2 and 9).

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bin::{ngmnn, ngmnn_ok};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ngmnn"))
}

/// A one-epoch model in `dir/model`.
fn model(dir: &Path) -> PathBuf {
    crate::bin::one_epoch_model(dir, "model")
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// `--report` through a symlink: the link stays a link, its target holds the report; a
/// dangling link gets its target created.
#[test]
fn a_symlinked_output_replaces_its_target_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    std::fs::write(reports.join("eval.json"), "old").unwrap();
    let link = dir.path().join("eval.json");
    std::os::unix::fs::symlink("reports/eval.json", &link).unwrap();
    let dangling = dir.path().join("new.json");
    std::os::unix::fs::symlink(reports.join("new.json"), &dangling).unwrap();
    for path in [&link, &dangling] {
        ngmnn_ok(&[
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--report",
            path.to_str().unwrap(),
        ]);
        assert!(std::fs::symlink_metadata(path).unwrap().is_symlink());
    }
    for name in ["eval.json", "new.json"] {
        let text = std::fs::read_to_string(reports.join(name)).unwrap();
        assert!(text.contains("\"accuracy\""), "{name}: {text}");
    }
    // No temporary file was left beside the link or the target.
    let mut names: Vec<_> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["eval.json", "new.json"]);
}

/// A FIFO is written through (it stays a FIFO and its reader gets the rows); `-` is stdout,
/// and the line saying where the predictions went moves to stderr.
#[test]
fn a_fifo_or_dash_is_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let fifo = dir.path().join("rows.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = ngmnn(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--output",
        fifo.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    let rows = reader.join().unwrap();
    assert!(rows.starts_with("index,predicted,actual\n"), "{rows}");
    assert_eq!(rows.lines().count(), 1798);

    let out = bin()
        .current_dir(dir.path())
        .args(["predict", "--model"])
        .arg(&model)
        .args(["--output", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = String::from_utf8_lossy(&out.stdout);
    assert!(rows.starts_with("index,predicted,actual\n"), "{rows}");
    assert_eq!(rows.lines().count(), 1798);
    assert!(!dir.path().join("-").exists());
}

/// `/dev/stdout` is written through, not replaced (writing a temporary file in /dev failed,
/// and as root would have replaced the device's link).
#[test]
fn dev_stdout_is_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let before = std::fs::symlink_metadata("/dev/stdout")
        .unwrap()
        .file_type();
    let out = ngmnn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--report",
        "/dev/stdout",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"accuracy\""));
    assert_eq!(
        std::fs::symlink_metadata("/dev/stdout")
            .unwrap()
            .file_type(),
        before
    );
}

/// An output inside the model folder being read is refused before anything is written:
/// `predict --output MODEL/CURRENT` used to replace the model's own pointer (item 9).
#[test]
fn an_output_inside_the_model_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let current = std::fs::read(model.join("CURRENT")).unwrap();
    let link = dir.path().join("into-model.csv");
    std::os::unix::fs::symlink(model.join("v1/preds.csv"), &link).unwrap();
    let targets = [
        model.join("CURRENT"),
        model.join("v1/model.json"),
        model.join("preds.csv"),
        link,
    ];
    for target in &targets {
        let out = ngmnn(&[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--output",
            target.to_str().unwrap(),
        ]);
        assert!(!out.status.success(), "{}", target.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("inside the model folder"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    let out = ngmnn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--report",
        model.join("report.json").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert_eq!(std::fs::read(model.join("CURRENT")).unwrap(), current);
    assert!(!model.join("preds.csv").exists() && !model.join("report.json").exists());
    assert!(!model.join("v1/preds.csv").exists());
    ngmnn_ok(&["eval", "--model", model.to_str().unwrap()]);
}
