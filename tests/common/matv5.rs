//! A minimal MATLAB v5 writer for tests: real double matrices only.

/// Encode `vars` (name, rows, cols, column-major data) as a little-endian MAT v5 file.
pub fn mat_v5(vars: &[(&str, usize, usize, &[f64])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut text = b"MATLAB 5.0 MAT-file, written by ngmnn tests".to_vec();
    text.resize(116, b' ');
    out.extend_from_slice(&text);
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&0x0100u16.to_le_bytes());
    out.extend_from_slice(b"IM");
    for (name, rows, cols, data) in vars {
        let mut body = Vec::new();
        element(
            &mut body,
            6,
            &[6u32.to_le_bytes(), 0u32.to_le_bytes()].concat(),
        ); // flags: double
        element(
            &mut body,
            5,
            &[(*rows as i32).to_le_bytes(), (*cols as i32).to_le_bytes()].concat(),
        );
        element(&mut body, 1, name.as_bytes());
        let real: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        element(&mut body, 9, &real);
        out.extend_from_slice(&14u32.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
    }
    out
}

fn element(out: &mut Vec<u8>, ty: u32, payload: &[u8]) {
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
}
