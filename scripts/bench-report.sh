#!/usr/bin/env bash
# Regenerate BENCHMARKS.md: the machine, the commands, the benches (per-epoch times, the
# matmul rate and the share of it the Gram work reaches), the complete MNIST fit, MNIST
# time-to-accuracy of the closed form against Burn SGD/Adam, epoch time against n (in memory
# and streamed) and peak memory.
#
#   MNIST=MNIST_DIR scripts/bench-report.sh    # writes BENCHMARKS.md (about 10 minutes on 2 cores)
#   MNIST=MNIST_DIR RUNS=5 OUT=/tmp/b.md scripts/bench-report.sh
#
# Needs MNIST: a folder with the four MNIST IDX files (train-images-idx3-ubyte.gz,
# train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).
# Run on an otherwise idle machine: every figure is a wall-clock time.
# Medians are over RUNS runs (default 3) where a row says so; the 1M-sample rows are one
# run each (the median over its epochs), and the ratios of the comparison come from one run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
OUT=${OUT:-BENCHMARKS.md}
MNIST=${MNIST:?set MNIST to a folder with the four MNIST IDX files: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; gzip optional}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=$CARGO_TARGET_DIR/release
TMP=$(mktemp -d)
# The tree's state when the measurements start (the report itself does not count).
dirty=$(git status --porcelain -- . ":(exclude)$OUT" | head -1)
trap 'rm -rf "$TMP"' EXIT

echo "building..." >&2
cargo build --release --bins --examples --quiet
cargo bench --bench closed_form --no-run --quiet 2>/dev/null

# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print a[int((NR + 1) / 2)]}'; }
# column $1 (1-based, Markdown cells) of a table row on stdin
cell() { awk -F'|' -v c="$(($1 + 1))" '{gsub(/ /, "", $c); print $c}'; }

echo "benches..." >&2
NGMNN_BENCH_FULL=1 cargo bench --bench closed_form --quiet 2>/dev/null | grep -v '^$' > "$TMP/bench.txt"
frac=$(awk '/fraction_of_matmul_rate/ {print $2}' "$TMP/bench.txt")

echo "MNIST complete fit..." >&2
: > "$TMP/mnist.txt"
for shards in 1 2; do
  for _ in $(seq "$RUNS"); do
    "$BIN/examples/mnist_fit" --data "$MNIST" --preset paper --hidden 256 --shards "$shards" 2>/dev/null >> "$TMP/mnist.txt"
  done
done
: > "$TMP/broad.txt"
for hidden in 2048,64 3072,64; do
  for _ in $(seq "$RUNS"); do
    "$BIN/examples/mnist_fit" --data "$MNIST" --preset broad --hidden "$hidden" --shards 2 2>/dev/null >> "$TMP/broad.txt"
  done
done
fit1=$(grep "| \[256\] | 1 |" "$TMP/mnist.txt" | cell 7 | median)
fit2=$(grep "| \[256\] | 2 |" "$TMP/mnist.txt" | cell 7 | median)
wide_fit=$(grep "| \[3072, 64\] | 2 |" "$TMP/broad.txt" | cell 7 | median)
wide_acc=$(grep "| \[3072, 64\] | 2 |" "$TMP/broad.txt" | cell 9 | median)

echo "MNIST compare..." >&2
"$BIN/ngmnn" compare --data "$MNIST" --preset paper --hidden 256 --targets minmax --precision f32 \
  --epochs 3 --gradient-epochs 3 --quiet --report "$TMP/compare.json" > "$TMP/compare.md"

echo "MNIST compare, broad + Adam..." >&2
"$BIN/ngmnn" compare --data "$MNIST" --standardize --precision f32 --epochs 1 --gradient-epochs 5 \
  --trainers closed-form,adam,closed-form+adam --adam-lr 0.001 --refine-lr 0.0003 --quiet \
  --report "$TMP/refine.json" > /dev/null
# Adam's 5-epoch accuracy, and when each trainer first reaches it (seconds from its start).
read -r adam_acc adam_t refine_t < <(python3 - "$TMP/refine.json" <<'PYEOF'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
adam = next(r for r in runs if r["trainer"].startswith("adam"))
refine = next(r for r in runs if "+ adam" in r["trainer"])
target = adam["final_acc"]
first = lambda r: next(p["seconds"] for p in r["curve"] if p["test_acc"] >= target - 1e-12)
print(f"{target:.4f} {first(adam):.1f} {first(refine):.1f}")
PYEOF
)
refine_curve=$(python3 - "$TMP/refine.json" <<'PYEOF'
import json, sys
for r in json.load(open(sys.argv[1]))["runs"]:
    pts = " / ".join("%.4f (%.1f s)" % (p["test_acc"], p["seconds"]) for p in r["curve"])
    print("| %s | %s |" % (r["trainer"], pts))
PYEOF
)

echo "scaling in n..." >&2
: > "$TMP/scaling.txt"
for n in 10000 100000 1000000; do
  for mode in memory stream; do
    runs=$RUNS
    [ "$n" -ge 1000000 ] && runs=1
    for _ in $(seq "$runs"); do
      "$BIN/examples/streaming_fit" --n "$n" --d 64 --mode "$mode" >> "$TMP/scaling.txt"
    done
  done
done
# One row per (mode, n): the median run by s/epoch.
scaling_rows() {
  for n in 10000 100000 1000000; do
    for mode in memory stream; do
      grep "^| $mode | $n |" "$TMP/scaling.txt" | sort -t'|' -k6 -g | awk '{a[NR]=$0} END {print a[int((NR + 1) / 2)]}'
    done
  done
}
scaling_rows > "$TMP/scaling_median.txt"
slopes() { # mode -> the epoch time's slope (us per sample) on 10k..100k and on 100k..1M, and the intercept
  grep "^| $1 |" "$TMP/scaling_median.txt" | awk -F'|' '{gsub(/ /,"",$3); gsub(/ /,"",$6); t[$3]=$6}
    END {a = (t[100000] - t[10000]) / 90000 * 1e6; b = (t[1000000] - t[100000]) / 900000 * 1e6;
         printf "slope %.2f us/sample on 10k-100k, %.2f us/sample on 100k-1M (intercept %.3f s)", a, b, t[10000] - a * 1e-6 * 10000}'
}
rss_per_row() { # mode -> (RSS at 1M - RSS at 100k) / 900k rows, in bytes
  grep "^| $1 |" "$TMP/scaling_median.txt" | awk -F'|' '{gsub(/ /,"",$3); gsub(/ /,"",$12); r[$3]=$12} END {printf "%.0f", (r[1000000] - r[100000]) * 1048576 / 900000}'
}

cpu=$(lscpu 2>/dev/null | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
ok() { awk -v a="$1" -v b="$2" 'BEGIN {print (a + 0 < b + 0) ? "met" : "not met"}'; }
okge() { awk -v a="$1" -v b="$2" 'BEGIN {print (a + 0 >= b + 0) ? "met" : "not met"}'; }

{
cat <<EOF
# Benchmarks

Generated by \`scripts/bench-report.sh\` on $(date -u +%Y-%m-%d) from commit
\`$(git rev-parse --short HEAD)\`${dirty:+ (with uncommitted changes)}. Every number below
was measured by that run; rerun the script to regenerate this file.
\`MNIST_DIR\` in the commands stands for a folder with the four MNIST IDX files
(\`train-images-idx3-ubyte.gz\`, \`train-labels-idx1-ubyte.gz\`, \`t10k-images-idx3-ubyte.gz\`,
\`t10k-labels-idx1-ubyte.gz\`; the script's \`MNIST\`).

## Machine

| | |
|---|---|
| CPU | ${cpu:-unknown}, $(nproc) cores |
| memory | $mem |
| OS | $(uname -sr) |
| Rust | $(rustc -V) |
| Burn | 0.22.1, backend flex (CPU), f32 device computations, f64 host solves |

## Targets (issue: performance at scale)

| target | measured | |
|---|---|---|
| Gram/cross-product work of an epoch at >= 60% of the backend's matmul rate | ${frac} % (bench \`gram_fraction\`, same run, same product shape) | $(okge "$frac" 60) |
| complete MNIST fit (to the epoch where validation accuracy stops improving) < 10 s (paper preset, [256]) | ${fit2} s with 2 shards, ${fit1} s with 1 (median of $RUNS) | $(ok "$fit2" 10) |
| MNIST test accuracy >= 0.97 from a complete fit in <= 30 s (issue: beyond the paper; broad preset, [3072, 64], 2 shards) | test ${wide_acc} in ${wide_fit} s (median of $RUNS) | $(okge "$wide_acc" 0.97), $(ok "$wide_fit" 30.01) |
| \`compare\` on standardised MNIST: closed form + Adam reaches Adam's 5-epoch accuracy sooner than Adam (issue: beyond the paper; [2048, 64], f32) | Adam's 5-epoch ${adam_acc}: closed form + Adam at ${refine_t} s, Adam at ${adam_t} s | $(ok "$refine_t" "$adam_t") |
| epoch cost linear in n (d = 64; 10k, 100k, 1M) | epoch time in memory: $(slopes memory); streamed: $(slopes stream) | equal slopes: a straight line |
| streamed peak memory independent of n beyond O(n) scalars | peak RSS grows by $(rss_per_row stream) bytes per sample from 100k to 1M streamed (in memory: $(rss_per_row memory) at d = 64) | O(n) scalars; see the notes |

## Benches

\`NGMNN_BENCH_FULL=1 cargo bench --bench closed_form\` (median of 5 runs per case; synthetic
data: 10 class means plus noise; one hidden layer of 256; \`minmax\` targets; f32).

\`\`\`text
$(cat "$TMP/bench.txt")
\`\`\`

- \`gram_matmul\`: the backend's \`H^T H\` rate at n = 10000.
- \`gram_fraction\`: one epoch's Gram work (the moments of \`[H | Z]\`: per chunk of rows the
  weighted mean, the centring, one product and its host read; \`MomentsProfile\`) against
  the plain product of the same shape (one chunk) in the same run.
- \`reference_epoch\`: epochs of the reference problems as \`ngmnn train --preset paper\` runs
  them (att40, umist, waveform, digits; f64; faer on one thread), timed 10 at a time, and the
  Burn SGD epoch of the same digits model (f32, batch 64).
- \`closed_form_epoch\`: a whole epoch (decision layer, hidden layer, forward pass for the
  training accuracy); \`_shards2\`: the rows in 2 shards on 2 threads. Its \`account\` lines:
  the epoch's flops by step (forward pass through the hidden layer's class projection and the
  decision layer, the decision layer's output evaluations, the moments), the moments' rate and
  share of the matmul rate measured in the same run on the same shape, the FLOP floor (flops /
  that rate) and the epoch's multiple of it; \`passes\`: passes over the data in the last epoch
  (2 per decision-layer round).
- \`closed_form_epoch_stream\`: the same epoch reading the data from a \`DatasetBatches\`
  source (10000 rows per batch) in every pass: each pass runs the hidden layer again.
- \`solvers\`: each closed form alone (the general \`ridge\` with \`n x q\` targets; the
  trainer solves hidden layers from class-level targets instead, see below).
- \`sgd_epoch\`: one Burn SGD epoch (batch 64, autodiff) on the same model and backend.

## MNIST: a complete fit

\`cargo run --release --example mnist_fit -- --data MNIST_DIR --preset paper --hidden 256 --shards S\`: 50000 training images,
10000 held out for validation (seeded, stratified), epochs until the validation accuracy has not
improved for one epoch, the best epoch's model evaluated on the 10000 t10k images. "complete
fit s" is setup (upload, layer 1's moments and factorisation, first forward pass) plus all
epochs run; "load s" (reading the gzipped IDX files) is not part of it. All $RUNS runs per
setting:

| hidden | shards | load s | setup s | epochs run | best epoch | complete fit s | valid acc | test acc |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(cat "$TMP/mnist.txt")

Hidden [256] gave the best accuracy per second among the widths tried while writing this
(\`[512]\`, \`[1024]\`, \`[256, 128]\` were slower or less accurate).

The default \`broad\` preset (a frozen random first layer with local receptive fields, the
layers above learned in closed form; \`docs/beyond-the-paper.md\`),
\`cargo run --release --example mnist_fit -- --data MNIST_DIR --hidden H --shards 2\`, same protocol:

| hidden | shards | load s | setup s | epochs run | best epoch | complete fit s | valid acc | test acc |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(cat "$TMP/broad.txt")

## MNIST: time to accuracy, closed form vs Burn SGD / Adam

\`ngmnn compare --data MNIST_DIR --hidden 256 --targets minmax --precision f32 --epochs 3
--gradient-epochs 3\` (same 784-256-10 Burn modules, same initial weights, same backend; SGD lr 0.1
momentum 0.9, Adam lr 0.01, batch 64; test accuracy after every epoch; time to target = seconds
until the test accuracy first reaches the closed form's final accuracy). One run:

$(cat "$TMP/compare.md")

## MNIST: closed form, then Adam (broad preset)

\`ngmnn compare --data MNIST_DIR --standardize --precision f32 --epochs 1 --gradient-epochs 5
--trainers closed-form,adam,closed-form+adam --adam-lr 0.001 --refine-lr 0.0003\` (784-2048-64-10,
every trainer in f32, same initial weights; the refinement's seconds count from the start of
the closed-form fit). Test accuracy after each epoch:

| trainer | test accuracy (seconds since its start) |
|---|---|
${refine_curve}

## Epoch time against n (d = 64)

\`cargo run --release --example streaming_fit -- --n N --d 64 --mode memory|stream\`: synthetic
data (10 classes), hidden 256, f32, 3 epochs; "memory" holds the data on the device,
"stream" generates it batch by batch (10000 rows) in every pass and never holds it. s/epoch is
the median over the run's epochs; for n < 1M the row is the median of $RUNS runs (by s/epoch),
for n = 1M one run. Peak RSS is the process's \`VmHWM\`.

| mode | n | d | hidden | s/epoch (median) | passes/epoch | setup s | train acc | held-out acc | Gram GFLOP/s | peak RSS MB |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$(cat "$TMP/scaling_median.txt")

EOF
cat docs/benchmarks-notes.md
} > "$OUT"
echo "wrote $OUT" >&2
