#!/usr/bin/env bash
# Peak memory of `ngmnn predict` on large CSV files, unlabeled and labeled: it should stay flat
# from 100k to 1M rows (the files are read and the predictions written a batch at a time).
#
#   scripts/predict-memory.sh            # about 4 minutes on 2 cores
#
# Needs /usr/bin/time (Debian package `time`). Prints one line per run: rows, kind, seconds,
# peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=$CARGO_TARGET_DIR/release/ngmnn
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cargo build --release --bins --quiet

# A 3-class training set of 4 features (class means 0, 1, 2), then the model.
awk 'BEGIN { srand(1); for (i = 0; i < 3000; i++) { c = i % 3;
  printf "%.3f,%.3f,%.3f,%.3f,%d\n", c + rand(), c + rand(), c + rand(), c + rand(), c } }' \
  > "$TMP/train.csv"
"$BIN" train --data "$TMP/train.csv" --epochs 3 --quiet --out "$TMP/model" > /dev/null

for n in 100000 1000000; do
  awk -v n="$n" 'BEGIN { srand(2); for (i = 0; i < n; i++)
    printf "%.3f,%.3f,%.3f,%.3f\n", 3 * rand(), 3 * rand(), 3 * rand(), 3 * rand() }' \
    > "$TMP/new.csv"
  awk -F, '{ print $0 "," (NR % 3) }' "$TMP/new.csv" > "$TMP/labeled.csv"
  for kind in new labeled; do
    /usr/bin/time -f "$n rows, $kind: %e s, peak RSS %M KB" \
      "$BIN" predict --model "$TMP/model" --data "$TMP/$kind.csv" --output "$TMP/out.csv" \
      --scores > /dev/null
  done
done
