//! Output folders under concurrent runs, crashes and hand edits: one run per folder (a lock),
//! every saved epoch one consistent unit, readers that check the set.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ngmnn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ngmnn"))
}

fn train(out: &Path, epochs: &str, seed: &str) -> Command {
    let mut cmd = ngmnn();
    cmd.args([
        "train",
        "--hidden",
        "64,16",
        "--epochs",
        epochs,
        "--seed",
        seed,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    cmd
}

/// Four runs started at once on one folder: one trains, the other three stop at once with the
/// lock message (before loading data or training) and leave the folder to the first.
#[test]
fn concurrent_runs_on_one_folder_fail_fast_but_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let children: Vec<_> = (0..4)
        .map(|_| {
            let start = Instant::now();
            let child = train(&out, "300", "0")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (start, child)
        })
        .collect();
    let results: Vec<_> = children
        .into_iter()
        .map(|(start, child)| {
            let output = child.wait_with_output().unwrap();
            (start.elapsed(), output)
        })
        .collect();
    let winners: Vec<_> = results.iter().filter(|(_, o)| o.status.success()).collect();
    assert_eq!(winners.len(), 1, "exactly one run trains");
    let slowest_loser = results
        .iter()
        .filter(|(_, o)| !o.status.success())
        .map(|(t, o)| {
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1));
            assert!(
                err.contains("is in use by another ngmnn run, pid "),
                "{err}"
            );
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
            *t
        })
        .max()
        .unwrap();
    assert!(
        slowest_loser < winners[0].0,
        "the losers stop before the winner has trained ({slowest_loser:?} vs {:?})",
        winners[0].0
    );
    let eval = ngmnn()
        .args(["eval", "--model", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(eval.status.success());
}

/// A run killed (SIGKILL) at random moments leaves a folder that `eval` either loads (a
/// complete earlier epoch) or rejects with one clear line; and the next run can resume it.
#[test]
fn a_killed_run_leaves_a_complete_epoch_or_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut state = 0x9e37_79b9_u64;
    let mut loaded = 0;
    for _ in 0..30 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let delay = Duration::from_millis(150 + (state >> 33) % 500);
        let mut child = train(&out, "100000", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let eval = ngmnn()
            .args(["eval", "--model", out.to_str().unwrap()])
            .output()
            .unwrap();
        if eval.status.success() {
            loaded += 1;
        } else {
            let err = String::from_utf8_lossy(&eval.stderr);
            assert!(
                err.starts_with("error: ") && err.trim_end().lines().count() == 1,
                "{err}"
            );
        }
    }
    assert!(
        loaded >= 20,
        "most kills leave a loadable epoch: {loaded} of 30"
    );
    // The folder is not left locked: a new run resumes it.
    let resumed = ngmnn()
        .args([
            "train",
            "--resume",
            out.to_str().unwrap(),
            "--epochs",
            "100000",
        ])
        .arg("--quiet")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut resumed = resumed;
    resumed.kill().unwrap();
    resumed.wait().unwrap();
}

/// Files mixed by hand (the description of one run beside the record of another) are
/// rejected, whether the widths differ or not.
#[test]
fn a_hand_mixed_folder_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert!(train(&a, "2", "0").status().unwrap().success());
    assert!(train(&b, "2", "1").status().unwrap().success());
    let current = |d: &Path| d.join(std::fs::read_to_string(d.join("CURRENT")).unwrap().trim());
    // Same widths, another run's record.
    std::fs::copy(current(&b).join("model.bpk"), current(&a).join("model.bpk")).unwrap();
    let eval = ngmnn()
        .args(["eval", "--model", a.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!eval.status.success());
    let err = String::from_utf8_lossy(&eval.stderr);
    assert!(err.contains("mixed or incomplete"), "{err}");
    // Other widths.
    let c = dir.path().join("c");
    let mut cmd = ngmnn();
    cmd.args([
        "train", "--hidden", "128,32", "--epochs", "1", "--quiet", "--out",
    ])
    .arg(&c);
    assert!(cmd.status().unwrap().success());
    std::fs::copy(
        current(&c).join("model.json"),
        current(&b).join("model.json"),
    )
    .unwrap();
    let eval = ngmnn()
        .args(["eval", "--model", b.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!eval.status.success());
    assert!(String::from_utf8_lossy(&eval.stderr).contains("mixed or incomplete"));
}

/// The entries of `dir`, sorted (hidden ones included).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn one_line_error(out: &std::process::Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    err
}

/// A project folder (not written by ngmnn, not empty) is refused as `--out` with one line,
/// before anything is created in it: its `vendor/` and `videos/` survive (issue 24, item 1).
#[test]
fn out_refuses_a_folder_ngmnn_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("proj");
    for sub in ["vendor", "videos"] {
        std::fs::create_dir_all(proj.join(sub)).unwrap();
        std::fs::write(proj.join(sub).join("keep.txt"), sub).unwrap();
    }
    let out = train(&proj, "1", "0").output().unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("not an ngmnn output folder"), "{err}");
    assert_eq!(entries(&proj), ["vendor", "videos"]);
    assert_eq!(
        std::fs::read_to_string(proj.join("vendor/keep.txt")).unwrap(),
        "vendor"
    );
}

/// `--out-force` writes into such a folder but deletes nothing ngmnn did not write: the
/// user's `v9/`, `vendor/` and a stray `.staging-1` stay, ngmnn's own older versions go.
#[test]
fn out_force_writes_beside_foreign_entries_and_deletes_none_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("proj");
    for sub in ["vendor", "v9", ".staging-1"] {
        std::fs::create_dir_all(proj.join(sub)).unwrap();
        std::fs::write(proj.join(sub).join("keep.txt"), sub).unwrap();
    }
    std::fs::write(proj.join("notes.txt"), "mine").unwrap();
    let status = train(&proj, "3", "0").arg("--out-force").status().unwrap();
    assert!(status.success());
    assert_eq!(
        entries(&proj),
        [
            ".lock",
            ".ngmnn",
            ".staging-1",
            "CURRENT",
            "notes.txt",
            "v3",
            "v9",
            "vendor"
        ]
    );
    for sub in ["vendor", "v9", ".staging-1"] {
        assert_eq!(
            std::fs::read_to_string(proj.join(sub).join("keep.txt")).unwrap(),
            sub
        );
    }
    // A version name the user already holds is not replaced either.
    let taken = dir.path().join("taken");
    std::fs::create_dir_all(taken.join("v1")).unwrap();
    std::fs::write(taken.join("v1/keep.txt"), "mine").unwrap();
    let out = train(&taken, "1", "0").arg("--out-force").output().unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("v1"), "{err}");
    assert_eq!(
        std::fs::read_to_string(taken.join("v1/keep.txt")).unwrap(),
        "mine"
    );
}

/// In its own folder ngmnn removes only the versions its marker lists: a `vendor/` or `v77/`
/// added by hand survives a resumed run; a folder written before the marker existed
/// (`CURRENT` + `vN/manifest.json`) is still an ngmnn folder and resumes.
#[test]
fn an_ngmnn_folder_loses_only_the_versions_ngmnn_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    assert!(train(&run, "2", "0").status().unwrap().success());
    for sub in ["vendor", "v77", ".staging-424242"] {
        std::fs::create_dir_all(run.join(sub)).unwrap();
        std::fs::write(run.join(sub).join("keep.txt"), sub).unwrap();
    }
    // As written by the ngmnn before the marker.
    let _ = std::fs::remove_file(run.join(".ngmnn"));
    let resume = |epochs: &str| {
        ngmnn()
            .args(["train", "--quiet", "--resume"])
            .arg(&run)
            .args(["--epochs", epochs])
            .status()
            .unwrap()
    };
    assert!(resume("3").success());
    assert!(resume("4").success());
    assert_eq!(std::fs::read_to_string(run.join("CURRENT")).unwrap(), "v4");
    for sub in ["vendor", "v77", ".staging-424242"] {
        assert_eq!(
            std::fs::read_to_string(run.join(sub).join("keep.txt")).unwrap(),
            sub
        );
    }
    assert!(
        !run.join("v3").exists(),
        "an older version of ngmnn's own is removed"
    );
    // `--out` on it again (no force): an ngmnn folder.
    assert!(train(&run, "1", "0").status().unwrap().success());
    assert!(run.join("vendor/keep.txt").exists() && run.join("v77/keep.txt").exists());
}

/// A run that fails before its first epoch (a mistyped `--resume`, an invalid option) leaves
/// no folder and no `.lock` that it created (issue 24, item 11).
#[test]
fn a_failed_start_leaves_no_folder_or_lock_behind() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo");
    let out = ngmnn()
        .args(["train", "--resume"])
        .arg(&typo)
        .output()
        .unwrap();
    one_line_error(&out);
    assert!(!typo.exists());
    let fresh = dir.path().join("fresh");
    let out = train(&fresh, "1", "0")
        .args(["--image-shape", "bogus"])
        .output()
        .unwrap();
    one_line_error(&out);
    assert!(!fresh.exists());
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = train(&empty, "1", "0")
        .args(["--image-shape", "bogus"])
        .output()
        .unwrap();
    one_line_error(&out);
    assert!(entries(&empty).is_empty(), "{:?}", entries(&empty));
}
