#!/usr/bin/env bash
# Benchmark: `trackit-fixture generate --tickets N` (default 100000) in release mode, timed with /usr/bin/time -v.
# Usage: testkit/trackit-fixture/bench/generate.sh [TICKETS] [share|blob]
# Prints wall time and peak resident memory; the output goes to a temporary directory removed afterwards.
set -euo pipefail
tickets="${1:-100000}"
mode="${2:-share}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cargo build --release -p trackit-fixture --manifest-path "$root/Cargo.toml" >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release/trackit-fixture"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
/usr/bin/time -v "$bin" generate --tickets "$tickets" --seed 1 --attachments "$mode" --out "$out" 2> "$out.time" || {
    cat "$out.time" >&2
    exit 1
}
grep -E "Elapsed \(wall clock\)|Maximum resident set size|generated" "$out.time"
du -sh "$out/trackit.sqlite" "$out/attachments" 2>/dev/null || du -sh "$out/trackit.sqlite"
rm -f "$out.time"
