#!/usr/bin/env bash
# GPU check: build with the GPU backends, run the backend suite (tests/it/backends.rs) on each,
# time an MNIST fit per backend, and print one Markdown table.
#
#   MNIST=MNIST_DIR scripts/gpu-check.sh               # wgpu (+ tch if $LIBTORCH is set)
#   MNIST=MNIST_DIR WITH_CUDA=1 scripts/gpu-check.sh   # also cuda (its build downloads LLVM:
#                                                      # needs internet)
#
# Environment: MNIST (required: a folder with the four MNIST IDX files,
# train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
# t10k-labels-idx1-ubyte.gz), EPOCHS (default 3), PRESET (default paper),
# HIDDEN (default 256 for paper, 2048,64 for broad),
# TCH_DEVICE (a CUDA index for libtorch; default: libtorch's CPU), CARGO_TARGET_DIR.
# wgpu on an NVIDIA machine needs the Vulkan loader and the NVIDIA ICD (see the README).
set -uo pipefail
cd "$(dirname "$0")/.."

FEATURES="wgpu"
[ "${WITH_CUDA:-0}" = 1 ] && FEATURES="$FEATURES,cuda"
[ -n "${LIBTORCH:-}" ] && FEATURES="$FEATURES,tch"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ngmnn-target-gpu}"
MNIST="${MNIST:?set MNIST to a folder with the four MNIST IDX files: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; gzip optional}"
EPOCHS="${EPOCHS:-3}"
PRESET="${PRESET:-paper}"
if [ "$PRESET" = broad ]; then HIDDEN="${HIDDEN:-2048,64}"; TARGETS=softmax; else HIDDEN="${HIDDEN:-256}"; TARGETS=minmax; fi

echo "building with --features $FEATURES ..." >&2
cargo build --release --features "$FEATURES" --bin ngmnn >&2 || exit 1
cargo test --release --features "$FEATURES" --test it --no-run >&2 || exit 1
BIN="$CARGO_TARGET_DIR/release/ngmnn"
"$BIN" backends

rows=()
for b in flex ${FEATURES//,/ }; do
    device=()
    [ "$b" = tch ] && [ -n "${TCH_DEVICE:-}" ] && device=(--device "$TCH_DEVICE")
    if NGMNN_TEST_BACKEND=$b cargo test --release --features "$FEATURES" --test it backends:: \
        >"/tmp/gpu-check-$b.log" 2>&1; then suite=pass; else suite="FAIL (/tmp/gpu-check-$b.log)"; fi
    report="/tmp/gpu-check-$b.json"
    if "$BIN" train --backend "$b" "${device[@]}" --data "$MNIST" --preset "$PRESET" \
        --hidden "$HIDDEN" --targets "$TARGETS" --precision f32 --epochs "$EPOCHS" --quiet \
        --report "$report" >/dev/null 2>"/tmp/gpu-check-$b.err"; then
        fit=$(python3 -c 'import json,sys
r=json.load(open(sys.argv[1])); e=r["epochs"]
print("%.2f | %.2f | %.4f" % (r["total_seconds"], sum(x["seconds"] for x in e)/len(e), r["best_test_acc"]))' "$report")
    else
        fit="failed: $(head -c 120 "/tmp/gpu-check-$b.err") | - | -"
    fi
    rows+=("| $b | $suite | $fit |")
done

echo
echo "| backend | backend suite | MNIST fit s ($EPOCHS epochs, [$HIDDEN], f32) | s/epoch | best test acc |"
echo "|---|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
