//! Ctrl-C stops `train` cleanly after the current epoch, leaves a complete model and
//! checkpoint, says where it stopped; `--resume` continues from there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn interrupted_training_leaves_a_complete_model_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ngmnn"))
        .args([
            "train",
            "--epochs",
            "100000",
            "--hidden",
            "256,64",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until a few epochs are done, then interrupt.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines();
    let mut epochs_seen = 0;
    while epochs_seen < 3 {
        let line = lines.next().expect("training output").unwrap();
        if line
            .trim_start()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
        {
            epochs_seen += 1;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("interrupted after epoch"), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    assert!(
        rest.iter().any(|l| l.starts_with("final:")),
        "a summary of the completed epochs"
    );

    // The files of the last complete epoch, in the version CURRENT names.
    let version = out.join(std::fs::read_to_string(out.join("CURRENT")).unwrap().trim());
    let ckpt: serde_json::Value =
        serde_json::from_slice(&std::fs::read(version.join("checkpoint.json")).unwrap()).unwrap();
    let done = ckpt["history"]["epochs"].as_array().unwrap().len();
    assert!(done >= 3, "{done}");
    assert!(version.join("model.bpk").exists() && version.join("model.json").exists());
    for folder in [&out, &version] {
        assert!(std::fs::read_dir(folder).unwrap().all(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            !name.ends_with(".tmp") && !name.starts_with(".staging")
        }));
    }

    // The saved model evaluates, and the run resumes to two more epochs.
    let eval = Command::new(env!("CARGO_BIN_EXE_ngmnn"))
        .args(["eval", "--model", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let target = (done + 2).to_string();
    let resumed = Command::new(env!("CARGO_BIN_EXE_ngmnn"))
        .args([
            "train",
            "--resume",
            out.to_str().unwrap(),
            "--epochs",
            &target,
        ])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let text = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        text.contains(&format!("resuming after epoch {done}")),
        "{text}"
    );
    let version = out.join(std::fs::read_to_string(out.join("CURRENT")).unwrap().trim());
    let ckpt: serde_json::Value =
        serde_json::from_slice(&std::fs::read(version.join("checkpoint.json")).unwrap()).unwrap();
    let epochs: Vec<u64> = ckpt["history"]["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, (1..=done as u64 + 2).collect::<Vec<_>>());
}
