#!/usr/bin/env bash
# Traffic and time of a fit sharded over `ngmnn worker` processes on this machine (loopback),
# against --shards threads in one process: MNIST 784-256-10, paper preset, f32, standardised.
#
#   cargo build --release --features remote
#   scripts/remote-traffic.sh MNIST_DIR > remote-traffic.txt
#
# MNIST_DIR (or the environment variable MNIST): a folder with the four MNIST IDX files
# (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
# t10k-labels-idx1-ubyte.gz).
#
# Prints one line per run: workers or shards, n, setup bytes, bytes per epoch (sent and
# received by the controlling process, from TCP_INFO), median seconds per epoch.
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST="${1:-${MNIST:?usage: scripts/remote-traffic.sh MNIST_DIR, or set MNIST; MNIST_DIR is a folder with the four MNIST IDX files: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; gzip optional}}"
BIN="${CARGO_TARGET_DIR:-target}/release/ngmnn"
EPOCHS="${EPOCHS:-4}"
TRAIN="$MNIST/train-images.idx3-ubyte.gz"
[ -f "$TRAIN" ] || TRAIN="$MNIST/train-images-idx3-ubyte.gz"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

start_worker() { # NAME -> appends the worker's URL to $urls (in this shell, not a subshell,
                  # so that its pid is recorded and it is stopped)
    "$BIN" worker --listen 127.0.0.1:0 > "$tmp/w$1.log" 2>/dev/null &
    pids+=($!)
    for _ in $(seq 100); do
        url=$(grep -o 'ws://[0-9.:]*' "$tmp/w$1.log" || true)
        [ -n "$url" ] && { urls+=("$url"); return; }
        sleep 0.1
    done
    echo "worker $1 did not start" >&2; exit 1
}
stop_workers() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; pids=(); urls=(); }

summary() { # report.json label
    python3 - "$1" "$2" <<'PY'
import json, sys, statistics
r = json.load(open(sys.argv[1]))
h = r
ep = r["epochs"]
secs = statistics.median(e["seconds"] for e in ep)
setup = h.get("setup_traffic") or {}
t = [e.get("traffic") or {} for e in ep]
sent = statistics.median(x.get("sent", 0) for x in t)
recv = statistics.median(x.get("received", 0) for x in t)
passes = statistics.median(e["passes"] for e in ep)
print(f"{sys.argv[2]:<28} n={r['n_train']:>6}  setup sent {setup.get('sent',0)/1e6:9.1f} MB  "
      f"recv {setup.get('received',0)/1e6:7.3f} MB | per epoch sent {sent/1e6:8.3f} MB  recv {recv/1e6:8.3f} MB  "
      f"({passes:.0f} passes) | {secs:.3f} s/epoch")
PY
}

run() { # label fraction extra-args...
    local label=$1 frac=$2; shift 2
    "$BIN" train --data "$TRAIN" --test-fraction "$frac" --preset paper --hidden 256 \
        --precision f32 --standardize --epochs "$EPOCHS" --quiet --report "$tmp/r.json" "$@" > /dev/null
    summary "$tmp/r.json" "$label"
}

# n = 60000 * (1 - fraction): 10000, 30000, 50000.
urls=()
for frac in 0.8333333 0.5 0.1666667; do
    start_worker a; start_worker b
    run "2 workers" "$frac" --workers "$(IFS=,; echo "${urls[*]}")"
    stop_workers
done
frac=0.1666667
for k in 1 2 4; do
    for i in $(seq "$k"); do start_worker "$k-$i"; done
    run "$k workers (loopback)" "$frac" --workers "$(IFS=,; echo "${urls[*]}")"
    stop_workers
    run "--shards $k (one process)" "$frac" --shards "$k"
done
