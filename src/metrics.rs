//! Classification metrics on host label vectors: accuracy, macro-F1, confusion matrix.

/// Fraction of `pred[i] == truth[i]` (0 for empty input).
pub fn accuracy(pred: &[usize], truth: &[usize]) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    pred.iter().zip(truth).filter(|(p, t)| p == t).count() as f64 / truth.len() as f64
}

/// `confusion[t][p]`: samples of true class `t` predicted as `p`.
pub fn confusion(pred: &[usize], truth: &[usize], n_classes: usize) -> Vec<Vec<usize>> {
    let mut m = vec![vec![0; n_classes]; n_classes];
    for (&p, &t) in pred.iter().zip(truth) {
        m[t][p] += 1;
    }
    m
}

/// Macro-averaged F1 over the classes present in `truth` or `pred` (a class with neither is
/// skipped, as scikit-learn does with `labels` restricted to those seen).
pub fn macro_f1(pred: &[usize], truth: &[usize], n_classes: usize) -> f64 {
    let m = confusion(pred, truth, n_classes);
    let mut sum = 0.0;
    let mut count = 0;
    for k in 0..n_classes {
        let tp = m[k][k] as f64;
        let actual: usize = m[k].iter().sum();
        let predicted: usize = m.iter().map(|row| row[k]).sum();
        if actual == 0 && predicted == 0 {
            continue;
        }
        count += 1;
        let denom = actual as f64 + predicted as f64;
        sum += if denom > 0.0 { 2.0 * tp / denom } else { 0.0 };
    }
    if count == 0 { 0.0 } else { sum / count as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_matches_sklearn() {
        // sklearn.metrics.f1_score([0,0,1,1,2,2], [0,1,1,1,2,0], average="macro") = 0.6555555555555556 (scikit-learn 1.9.1)
        let truth = [0, 0, 1, 1, 2, 2];
        let pred = [0, 1, 1, 1, 2, 0];
        assert!((macro_f1(&pred, &truth, 3) - 0.655_555_555_555_555_6).abs() < 1e-12);
        assert!((accuracy(&pred, &truth) - 4.0 / 6.0).abs() < 1e-12);
    }
}
