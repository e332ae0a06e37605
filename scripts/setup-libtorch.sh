#!/usr/bin/env bash
# Set up a CPU-only libtorch for the `tch` backend without downloading libtorch itself (which
# is not reachable here): take it from the PyPI torch wheel.
#
# burn-tch 0.22.1 -> tch 0.22 -> torch-sys 0.22 needs libtorch 2.9.0 exactly. PyPI's
# torch==2.9.0 for Linux x86-64 is the CUDA 12.8 build; of its CUDA dependencies,
# libtorch_cpu.so needs only libcudart.so.12 and libcupti.so.12, so this fetches the torch wheel
# (~900 MB) plus those two small wheels, keeps include/ and lib/, and drops the 1 GB CUDA part:
# torch-sys links torch_cuda only when lib/libtorch_cuda.so exists, and lib/libtorch.so (a shim
# that would pull it in) becomes an empty stub. Result: ~1.7 GB.
#
# Usage:   scripts/setup-libtorch.sh [DEST]          (default DEST: ~/.cache/ngmnn-libtorch)
# Then:    eval "$(scripts/setup-libtorch.sh --env [DEST])"
#          cargo test-tch                           # backend suite on libtorch (CPU)
#          cargo run --release --features tch -- train --backend tch
set -euo pipefail

TORCH=2.9.0
CUDA_RT=12.8.90   # the versions torch 2.9.0 pins
CUPTI=12.8.90

if [ "${1:-}" = "--env" ]; then
    DEST="${2:-$HOME/.cache/ngmnn-libtorch}"
    echo "export LIBTORCH=$DEST/libtorch"
    echo "export LD_LIBRARY_PATH=$DEST/libtorch/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
    echo "export LIBTORCH_BYPASS_VERSION_CHECK=1"
    exit 0
fi

DEST="${1:-$HOME/.cache/ngmnn-libtorch}"
LIB="$DEST/libtorch"
if [ -f "$LIB/lib/libtorch_cpu.so" ]; then
    echo "libtorch already set up in $LIB"
    exit 0
fi
command -v python3 >/dev/null || { echo "needs python3 with pip" >&2; exit 1; }
command -v cc >/dev/null || { echo "needs a C compiler (for the stub libtorch.so)" >&2; exit 1; }

mkdir -p "$DEST/wheels" "$DEST/unpacked"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$DEST/wheels" \
    "torch==$TORCH" "nvidia-cuda-runtime-cu12==$CUDA_RT" "nvidia-cuda-cupti-cu12==$CUPTI"
for w in "$DEST"/wheels/*.whl; do
    python3 -m zipfile -e "$w" "$DEST/unpacked"
done

rm -rf "$LIB" && mkdir -p "$LIB/lib"
cp -r "$DEST/unpacked/torch/include" "$LIB/include"
cp -a "$DEST"/unpacked/torch/lib/*.so* "$LIB/lib/"
cp -a "$DEST"/unpacked/nvidia/cuda_runtime/lib/libcudart.so.12 "$LIB/lib/"
cp -a "$DEST"/unpacked/nvidia/cuda_cupti/lib/libcupti.so.12 "$LIB/lib/"
# CPU only: no CUDA libtorch, and an empty libtorch.so in place of the shim.
rm -f "$LIB"/lib/libtorch_cuda*.so "$LIB"/lib/libc10_cuda.so "$LIB"/lib/libnccl* "$LIB"/lib/libcudnn*
echo "" | cc -shared -x c - -o "$LIB/lib/libtorch.so"
echo "$TORCH" > "$LIB/build-version"
rm -rf "$DEST/unpacked" "$DEST/wheels"

echo "libtorch $TORCH (CPU) in $LIB ($(du -sh "$LIB" | cut -f1))"
echo "now: eval \"\$($0 --env $DEST)\""
