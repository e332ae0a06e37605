//! Hostile inputs of issue 24: decompression within the input budget (CSV, IDX, `.mat`),
//! every gzip member read, labels kept exact, bounded CSV records and messages.

use std::io::Write;
use std::path::Path;

use super::{cli_fails, gz, write};
use ngmnn::NgmnnError;
use ngmnn::data::{CsvOptions, LabelColumn, load, load_csv, load_idx, parse_csv, parse_idx};

/// An IDX file: `ty`, big-endian `dims`, then `payload`.
fn idx(ty: u8, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, ty, dims.len() as u8];
    dims.iter()
        .for_each(|d| b.extend_from_slice(&d.to_be_bytes()));
    b.extend_from_slice(payload);
    b
}

/// A MATLAB v5 element `ty` holding `payload`, padded to 8 bytes.
fn element(out: &mut Vec<u8>, ty: u32, payload: &[u8]) {
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len().next_multiple_of(8), 0);
}

/// A MATLAB v5 array element: `name`, array `class`, `rows x cols`, data of type `data_type`.
fn array(name: &str, class: u32, rows: i32, cols: i32, data_type: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    element(
        &mut body,
        6,
        &[class.to_le_bytes(), 0u32.to_le_bytes()].concat(),
    );
    element(
        &mut body,
        5,
        &[rows.to_le_bytes(), cols.to_le_bytes()].concat(),
    );
    element(&mut body, 1, name.as_bytes());
    element(&mut body, data_type, data);
    let mut out = Vec::new();
    element(&mut out, 14, &body);
    out
}

/// A double array (class 6, miDOUBLE 9).
fn doubles(name: &str, rows: i32, cols: i32, v: &[f64]) -> Vec<u8> {
    let data: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    array(name, 6, rows, cols, 9, &data)
}

/// An element zlib-compressed into an miCOMPRESSED element.
fn compressed(element: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(element).unwrap();
    let packed = z.finish().unwrap();
    [
        15u32.to_le_bytes().to_vec(),
        (packed.len() as u32).to_le_bytes().to_vec(),
        packed,
    ]
    .concat()
}

/// A MATLAB v5 file of `elements`.
fn mat(elements: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"MATLAB 5.0 MAT-file, issue 24 test".to_vec();
    out.resize(116, b' ');
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&0x0100u16.to_le_bytes());
    out.extend_from_slice(b"IM");
    elements.iter().for_each(|e| out.extend_from_slice(e));
    out
}

fn limited(mb: u64) -> CsvOptions {
    CsvOptions::default().with_memory_limit(Some(mb << 20))
}

fn out_of_memory(result: ngmnn::Result<impl std::fmt::Debug>, needle: &str) {
    match result {
        Err(e @ NgmnnError::OutOfMemory { .. }) => {
            assert!(e.to_string().contains(needle), "{e} lacks {needle:?}")
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
}

fn invalid_data(result: ngmnn::Result<impl std::fmt::Debug>, needle: &str) {
    match result {
        Err(NgmnnError::InvalidData { reason, .. }) => {
            assert!(reason.contains(needle), "{reason} lacks {needle:?}")
        }
        other => panic!("expected InvalidData ({needle}), got {other:?}"),
    }
}

/// `cat a.csv.gz b.csv.gz` (and bgzip output) is one file of several gzip members: every
/// member is read, loaded and streamed (the first member alone was read before).
#[test]
fn concatenated_gzip_members_are_all_read() {
    use ngmnn::data::{BatchSource, CsvStream};
    let dir = tempfile::tempdir().unwrap();
    let rows = |from: usize| -> String {
        (from..from + 30)
            .map(|i| format!("{},{},{}\n", i, i % 7, i % 2))
            .collect()
    };
    let both = [gz(rows(0).as_bytes()), gz(rows(30).as_bytes())].concat();
    let p = write(dir.path(), "two.csv.gz", &both);
    let ds = load_csv(&p, &CsvOptions::default()).unwrap();
    assert_eq!(ds.n(), 60);
    assert_eq!(ds.features()[59 * 2], 59.0);
    let mut stream = CsvStream::open(&p, &CsvOptions::default(), 64).unwrap();
    assert_eq!(stream.n(), 60);
    assert_eq!(stream.next_batch().unwrap().unwrap().rows(), 60);
}

/// A small gzip of many rows stops at the budget with one line naming the size, in the
/// library and on the CLI (it was inflated whole, then parsed, whatever `--memory-limit`).
#[test]
fn compressed_csv_stops_at_the_input_budget() {
    let dir = tempfile::tempdir().unwrap();
    let text = "0,0,0,1\n".repeat(1_000_000);
    let p = write(dir.path(), "rows.csv.gz", &gz(text.as_bytes()));
    out_of_memory(load_csv(&p, &limited(2)), "2 MB are available");
    let p = p.to_str().unwrap();
    out_of_memory(load(p, None, &limited(2)), "reading rows.csv.gz");
    cli_fails(
        &["train", "--data", p, "--memory-limit", "2"],
        "MB are available; raise --memory-limit",
    );
    // Within a budget it loads.
    assert_eq!(load_csv(Path::new(p), &limited(64)).unwrap().n(), 1_000_000);
}

/// An IDX images file whose inflated size passes the budget stops before it is inflated.
#[test]
fn compressed_idx_stops_at_the_input_budget() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000u32;
    write(
        dir.path(),
        "train-labels-idx1-ubyte.gz",
        &gz(&idx(0x08, &[n], &vec![1; n as usize])),
    );
    let images = idx(0x08, &[n, 28, 28], &vec![0; n as usize * 784]);
    let p = write(dir.path(), "train-images-idx3-ubyte.gz", &gz(&images));
    let p = p.to_str().unwrap();
    out_of_memory(load(p, None, &limited(8)), "would need about 60 MB but");
    out_of_memory(
        load(dir.path().to_str().unwrap(), None, &limited(8)),
        "but 7 MB are available",
    );
    assert_eq!(load(p, None, &limited(128)).unwrap().data.n(), n as usize);
}

/// Every variable of a `.mat` file counts decompressed, used or not; an unused one within the
/// budget is skipped (not inflated and kept).
#[test]
fn mat_variables_count_against_the_input_budget() {
    let dir = tempfile::tempdir().unwrap();
    let x = doubles("X", 4, 2, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    let y = doubles("Y", 4, 1, &[1.0, 2.0, 1.0, 2.0]);
    let unused = doubles("Z", 1 << 20, 1, &vec![0.0; 1 << 20]); // 8 MB of zeros
    let file = mat(&[compressed(&x), compressed(&unused), compressed(&y)]);
    assert!(file.len() < 100_000);
    let p = write(dir.path(), "unused.mat", &file);
    let p = p.to_str().unwrap();
    out_of_memory(
        load(p, None, &limited(4)),
        "unused.mat and its 3 variable(s) decompressed (used or not)",
    );
    let ds = load(p, None, &limited(64)).unwrap().data;
    assert_eq!((ds.n(), ds.d(), ds.n_classes()), (4, 2, 2));
    let six: Vec<Vec<u8>> = [x.clone(), y.clone()]
        .into_iter()
        .chain((0..6).map(|_| unused.clone()))
        .map(|e| compressed(&e))
        .collect();
    let p = write(dir.path(), "six.mat", &mat(&six));
    out_of_memory(
        load(p.to_str().unwrap(), None, &limited(16)),
        "would need about 49 MB",
    );
}

/// Integer labels stay integers: IDX int32 16777216 and 16777217 are two classes (they were
/// one through f32), `.mat` int64 2^60.. are three (one through f64).
#[test]
fn integer_labels_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let labels: Vec<u8> = [16_777_216i32, 16_777_217]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    write(
        dir.path(),
        "train-labels-idx1-ubyte",
        &idx(0x0C, &[2], &labels),
    );
    let p = write(
        dir.path(),
        "train-images-idx3-ubyte",
        &idx(0x08, &[2, 1, 1], &[3, 4]),
    );
    let ds = load_idx(&p).unwrap();
    assert_eq!(ds.classes(), ["16777216", "16777217"]);
    assert_eq!(ds.labels(), [0, 1]);

    let big = 1i64 << 60;
    let y: Vec<u8> = [big, big + 1, big + 2]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let file = mat(&[
        doubles("X", 3, 1, &[0.0, 1.0, 2.0]),
        array("Y", 14, 3, 1, 12, &y), // int64 class and data
    ]);
    let p = write(dir.path(), "int64.mat", &file);
    let ds = load(p.to_str().unwrap(), None, &CsvOptions::default())
        .unwrap()
        .data;
    assert_eq!(
        ds.classes(),
        [
            "1152921504606846976",
            "1152921504606846977",
            "1152921504606846978"
        ]
    );
}

/// Float labels that are not integers an i64 holds are a typed error naming the label (NaN
/// was class 0, 0.5 was 0, 1e300 saturated); so is a NaN label in a CSV file.
#[test]
fn labels_that_are_not_integers_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "train-images-idx3-ubyte",
        &idx(0x08, &[2, 1, 1], &[3, 4]),
    );
    for (bad, shown) in [
        (f64::NAN, "NaN"),
        (0.5, "0.5"),
        (1e300, "1e300"),
        (9.3e18, "9.3e18"),
    ] {
        let labels: Vec<u8> = [1.0, bad].iter().flat_map(|v| v.to_be_bytes()).collect();
        write(
            dir.path(),
            "train-labels-idx1-ubyte",
            &idx(0x0E, &[2], &labels),
        );
        invalid_data(
            load_idx(&dir.path().join("train-images-idx3-ubyte")),
            &format!("label {shown} of sample 1"),
        );
    }
    invalid_data(
        parse_csv(b"1,2,a\n2,3,NaN\n", "t", &CsvOptions::default()),
        "line 2, column 3: label \"NaN\"",
    );
}

/// A duplicate header name under a label chosen by name is an error naming both columns
/// (the first was taken silently).
#[test]
fn duplicate_label_header_is_named() {
    let opts = CsvOptions {
        label: LabelColumn::Name("y".into()),
        ..CsvOptions::default()
    };
    invalid_data(
        parse_csv(b"y,f,y\n1,2,3\n4,5,6\n", "t", &opts),
        "two header columns are named \"y\": columns 1 and 3",
    );
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "dup.csv", b"y,f,y\n1,2,3\n4,5,6\n");
    cli_fails(
        &["train", "--data", p.to_str().unwrap(), "--label-col", "y"],
        "columns 1 and 3",
    );
}

/// One enormous CSV line stops at the record bound the budget sets, before it is buffered
/// whole; a 255-dimension IDX header is named briefly.
#[test]
fn long_records_and_many_dimensions_are_bounded() {
    let line = format!("{}1\n", "0.5,".repeat(2_000_000)); // 8 MB, 2 million fields
    invalid_data(
        parse_csv(line.as_bytes(), "t", &limited(16)),
        "line 1: a record longer than 1 MB",
    );
    assert_eq!(
        parse_csv(line.as_bytes(), "t", &limited(512)).unwrap().d(),
        2_000_000
    );
    let bytes = idx(0x08, &[1; 255], &[1, 2]);
    let err = parse_idx(&bytes, Path::new("t")).unwrap_err().to_string();
    assert!(err.contains("[1, 1, 1, ... (255 dimensions)]"), "{err}");
    assert!(err.len() < 200, "{err}");
}
