//! Fits across machines on Burn's remote backend (feature `remote`): worker processes on
//! 127.0.0.1, started and stopped by the tests themselves, every test bounded in time.

#[path = "cli/bin.rs"]
mod bin;
#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bin::ngmnn;
use common::{device, rel_diff};
use ngmnn::NgmnnError;
use ngmnn::Precision;
use ngmnn::data::LabeledData;
use ngmnn::model::{Ngmnn, NgmnnConfig};
use ngmnn::remote::{connect, connect_workers};
use ngmnn::train::{ClosedFormConfig, ClosedFormFit, Training, Workers};

/// An `ngmnn worker` process on 127.0.0.1 (a port the system picks); killed when dropped.
struct WorkerProcess {
    child: Child,
    url: String,
}

impl WorkerProcess {
    fn start(token_file: Option<&Path>) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ngmnn"));
        cmd.args(["worker", "--listen", "127.0.0.1:0"]);
        if let Some(f) = token_file {
            cmd.arg("--token-file").arg(f);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ngmnn worker");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("ws://"))
            .unwrap_or_else(|| panic!("the worker's first line names no URL: {line:?}"))
            .to_owned();
        Self { child, url }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Run `f` on its own thread and fail if it takes longer than `secs` (a hung connection must
/// fail the test, not the CI run).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("did not finish within {secs} s"),
    }
}

fn digits() -> (LabeledData, LabeledData) {
    ngmnn::data::digits().stratified_split(0.3, 0).unwrap()
}

fn model(train: &LabeledData) -> Ngmnn {
    NgmnnConfig::new(train.d(), vec![128, 32], train.n_classes())
        .init(&device())
        .unwrap()
}

fn config(epochs: usize) -> ClosedFormConfig {
    ClosedFormConfig::new()
        .with_precision(Precision::F64)
        .with_epochs(epochs)
}

/// The digits fit of `epochs` epochs: the model, its uninterrupted single-machine result and
/// the same fit set up on `workers`.
fn single_and_on_workers(epochs: usize, workers: &Workers) -> (Ngmnn, Ngmnn, ClosedFormFit) {
    let (train, test) = digits();
    let model = model(&train);
    let cfg = config(epochs);
    let (single, _) = cfg
        .clone()
        .init()
        .unwrap()
        .fit(model.clone(), &train, Some(&test))
        .unwrap();
    let fit = (cfg.init().unwrap())
        .start(&model, Training::on_workers(&train, workers), Some(&test))
        .unwrap();
    (model, single, fit)
}

/// `fit`'s weights equal the single-machine fit's to 1e-8 relative.
fn assert_single_machine_weights(single: &Ngmnn, fit: &ClosedFormFit, model: Ngmnn, what: &str) {
    let diff = rel_diff(single, &fit.write_into(model).unwrap());
    assert!(diff < 1e-8, "{what}: weights differ by {diff:e}");
}

#[test]
fn two_workers_fit_mnist_with_the_single_machine_weights() {
    within(600, || {
        let (a, b) = (WorkerProcess::start(None), WorkerProcess::start(None));
        // The MNIST slice shipped in data/ (12000 training, 2000 test images; raw pixels:
        // the broad preset's random layer scales itself).
        let (train, test) = ngmnn::data::load_idx_dir(&common::crate_data("mnist-slice")).unwrap();
        let test = test.unwrap();
        let model = NgmnnConfig::new(train.d(), vec![512, 32], train.n_classes())
            .init(&device())
            .unwrap();
        let trainer = config(2)
            .with_image_shape(train.image_shape())
            .init()
            .unwrap();
        let (single, hs) = trainer.fit(model.clone(), &train, Some(&test)).unwrap();
        let workers = connect_workers(&[a.url.clone(), b.url.clone()], &[], None).unwrap();
        let (remote, hr) = trainer
            .fit(model, Training::on_workers(&train, &workers), Some(&test))
            .unwrap();
        let diff = rel_diff(&single, &remote);
        assert!(diff < 1e-8, "two workers: weights differ by {diff:e}");
        assert!(hr.best_valid().unwrap().valid_acc.unwrap() > 0.85);
        common::same_history(&hs, &hr);
        assert!(hr.epochs.iter().all(|r| r.recoveries.is_empty()));
        // The rows went up once (f64); an epoch sends the weights and per-row scalars only.
        let upload = hr.setup_traffic.expect("traffic with remote workers");
        assert!(
            upload.sent as usize >= train.n() * train.d() * 8,
            "{upload:?}"
        );
        for r in &hr.epochs {
            let t = r.traffic.expect("traffic with remote workers");
            assert!(
                t.sent > 0 && t.received > 0 && t.sent < upload.sent / 2,
                "{t:?}"
            );
        }
    });
}

/// Epochs 1..=4 of a fit, killing `victim` while epoch 2 runs (after half of epoch 1's
/// duration): the recovery happens in epoch 2, or in epoch 3 if epoch 2 was already done.
fn fit_killing(fit: &mut ClosedFormFit, mut victim: WorkerProcess) -> Vec<Vec<String>> {
    let first = fit.epoch().unwrap();
    let delay = Duration::from_secs_f64(first.seconds / 2.0);
    let killer = std::thread::spawn(move || {
        std::thread::sleep(delay);
        victim.kill();
    });
    let second = fit.epoch().unwrap();
    killer.join().unwrap();
    let mut notes = vec![first.recoveries, second.recoveries];
    for _ in 0..2 {
        notes.push(fit.epoch().unwrap().recoveries);
    }
    notes
}

#[test]
fn a_worker_killed_mid_fit_is_survived_with_the_same_weights() {
    within(300, || {
        let (a, b) = (WorkerProcess::start(None), WorkerProcess::start(None));
        let workers = connect_workers(&[a.url.clone(), b.url.clone()], &[], None).unwrap();
        let (model, single, mut fit) = single_and_on_workers(4, &workers);
        let lost = b.url.clone();
        let notes = fit_killing(&mut fit, b);
        assert!(notes[0].is_empty() && notes[3].is_empty(), "{notes:?}");
        let recovered: Vec<&String> = notes.iter().flatten().collect();
        assert_eq!(recovered.len(), 1, "one recovery: {notes:?}");
        assert!(
            recovered[0].contains(&lost) && recovered[0].contains(&a.url),
            "the note names the lost worker and the one taking over: {}",
            recovered[0]
        );
        assert_single_machine_weights(&single, &fit, model, "after a lost worker");
        drop(a);
    });
}

#[test]
fn a_spare_takes_over_a_lost_workers_rows() {
    within(300, || {
        let (a, mut b, s) = (
            WorkerProcess::start(None),
            WorkerProcess::start(None),
            WorkerProcess::start(None),
        );
        let workers = connect_workers(
            &[a.url.clone(), b.url.clone()],
            std::slice::from_ref(&s.url),
            None,
        )
        .unwrap();
        let (model, single, mut fit) = single_and_on_workers(3, &workers);
        assert!(fit.epoch().unwrap().recoveries.is_empty());
        b.kill();
        let second = fit.epoch().unwrap();
        assert_eq!(second.recoveries.len(), 1, "{:?}", second.recoveries);
        let note = &second.recoveries[0];
        assert!(
            note.contains(&b.url) && note.contains(&s.url) && !note.contains(&a.url),
            "{note}"
        );
        assert!(
            note.contains("epoch 2") && note.contains("epoch 1's weights"),
            "{note}"
        );
        fit.epoch().unwrap();
        assert_single_machine_weights(&single, &fit, model, "after the spare took over");
    });
}

#[test]
fn losing_the_last_worker_is_an_error_naming_it() {
    within(300, || {
        let mut a = WorkerProcess::start(None);
        let (train, _) = digits();
        let model = model(&train);
        let workers = Workers::new([connect(&a.url, None).unwrap()]);
        let mut fit = (config(2).init().unwrap())
            .start(&model, Training::on_workers(&train, &workers), None)
            .unwrap();
        fit.epoch().unwrap();
        a.kill();
        match fit.epoch() {
            Err(NgmnnError::Worker { worker, reason }) => {
                assert_eq!(worker, a.url);
                assert!(reason.contains("no worker is left"), "{reason}");
            }
            other => panic!("expected a worker error, got {other:?}"),
        }
    });
}

#[test]
fn unreachable_wrong_token_and_foreign_servers_are_one_line_each() {
    within(120, || {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "s3cret\n").unwrap();
        let w = WorkerProcess::start(Some(&token));
        // The right token (the file's contents without the newline) connects.
        connect(&w.url, Some("s3cret")).unwrap();
        let reason = |r: Result<_, NgmnnError>| match r {
            Err(NgmnnError::Worker { reason, .. }) => reason,
            Err(e) => panic!("expected a worker error, got {e}"),
            Ok(_) => panic!("expected a worker error, got a connection"),
        };
        let wrong = reason(connect(&w.url, Some("guess")));
        assert!(wrong.contains("refused the token"), "{wrong}");
        let none = reason(connect(&w.url, None));
        assert!(none.contains("requires a token"), "{none}");
        // Nothing listens on a port just released.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}", free.local_addr().unwrap());
        drop(free);
        let unreachable = reason(connect(&url, None));
        assert!(unreachable.contains("cannot be reached"), "{unreachable}");
        // A server that is not a Burn worker (it answers with plain text and closes).
        let foreign = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}", foreign.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in foreign.incoming().take(1) {
                let mut s = stream.unwrap();
                let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
            }
        });
        let foreign = reason(connect(&url, None));
        assert!(!foreign.contains('\n'), "{foreign}");
        for text in [&wrong, &none, &unreachable, &foreign] {
            assert!(!text.contains('\n'), "one line: {text}");
        }
        assert!(matches!(
            connect("http://127.0.0.1:1", None),
            Err(NgmnnError::InvalidConfig { .. })
        ));
    });
}

#[test]
fn the_cli_trains_on_workers_and_reports_a_busy_port() {
    within(300, || {
        let (a, b) = (WorkerProcess::start(None), WorkerProcess::start(None));
        let workers = format!("{},{}", a.url, b.url);
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("r.json");
        let out = bin::ngmnn_ok(&[
            "train",
            "--epochs",
            "2",
            "--hidden",
            "128,32",
            "--workers",
            &workers,
            "--report",
            report.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("best test acc"), "{stdout}");
        // A second worker on a port in use: one line, non-zero exit.
        let port = a.url.trim_start_matches("ws://");
        let busy = ngmnn(&["worker", "--listen", port]);
        assert!(!busy.status.success());
        let err = String::from_utf8_lossy(&busy.stderr);
        assert!(
            err.contains("in use") && err.trim().lines().count() == 1,
            "{err}"
        );
        // An unreachable worker: one line before any training.
        let gone = ngmnn(&["train", "--workers", "ws://127.0.0.1:1"]);
        assert!(!gone.status.success());
        let err = String::from_utf8_lossy(&gone.stderr);
        assert!(
            err.contains("cannot be reached") && err.trim().lines().count() == 1,
            "{err}"
        );
    });
}

#[test]
fn a_frozen_worker_is_cut_off_after_the_timeout() {
    within(300, || {
        let (a, b) = (WorkerProcess::start(None), WorkerProcess::start(None));
        let workers = connect_workers(&[a.url.clone(), b.url.clone()], &[], None)
            .unwrap()
            .with_timeout(Duration::from_secs(3));
        let (model, single, mut fit) = single_and_on_workers(3, &workers);
        fit.epoch().unwrap();
        // Stopped, not dead: its connection stays open and its kernel answers TCP.
        let pid = b.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-STOP", &pid])
                .status()
                .unwrap()
                .success()
        );
        let second = fit.epoch().unwrap();
        assert_eq!(second.recoveries.len(), 1, "{:?}", second.recoveries);
        let note = &second.recoveries[0];
        assert!(
            note.contains(&b.url) && note.contains("within 3 s"),
            "{note}"
        );
        fit.epoch().unwrap();
        assert_single_machine_weights(&single, &fit, model, "after a frozen worker");
    });
}
