#!/usr/bin/env bash
# Transform benchmark (issue 7): wall time, CPU time and peak resident memory (GNU time) of `ti-transform run` on a
# classic extract bundle of N tickets (default 100,000), plus the bundle_id, which must not depend on the window
# size (a second run with a small window checks it on the smaller sizes).
# Usage: transform/benches/transform_bench.sh [WORKDIR] [TICKETS]
#   WORKDIR keeps the fixture and the extract between runs (generating + extracting 100,000 tickets takes minutes).
#   EXTRACT=/path/to/extract-bundle skips generation and extraction.
# Release build; figures go to docs/perf.md ("transform") by hand, with the load average printed here.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$(mktemp -d)}"
tickets="${2:-100000}"
mkdir -p "$work"
cargo build --release -p ti-transform -p ti-extract -p trackit-fixture --manifest-path "$root/Cargo.toml" >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release"
export TRACKIT_SQL_PASSWORD=fixture TRACKIT_FIXTURE_PASSWORD=fixture

extract="${EXTRACT:-$work/extract-$tickets}"
if [ ! -f "$extract/manifest.json" ]; then
  fx="$work/fx-$tickets"
  [ -f "$fx/trackit.sqlite" ] || "$bin/trackit-fixture" generate --profile classic --tickets "$tickets" --seed 1 --out "$fx" >&2
  "$bin/trackit-fixture" serve --db "$fx/trackit.sqlite" --listen 127.0.0.1:0 --log "$work/serve.log" > "$work/serve.out" &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  port="$(sed -n 's/.*listening on 127.0.0.1://p' "$work/serve.out")"
  "$bin/ti-extract" run -q --connection-string "server=tcp:127.0.0.1,$port;database=TRACKIT_DATA;user=sa;encrypt=DANGER_PLAINTEXT" \
    --out "$extract" >&2
  kill "$pid"
fi

run() { # OUT [extra args] → GNU time output in $work/time.txt
  local out="$1"; shift
  rm -rf "$out"
  # Phase timings from ti_transform's debug log only (`-v` would also turn on html5ever's, millions of lines).
  RUST_LOG=info,ti_transform=debug /usr/bin/time -v "$bin/ti-transform" run "$extract" --mapping "$root/testdata/mapping-classic.toml" --out "$out" "$@" \
    > "$work/run.txt" 2> "$work/time.txt"
}

echo "== ti-transform run, $tickets-ticket classic extract ($(git -C "$root" rev-parse --short HEAD), $(date -u +%FT%TZ))"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run "$work/load-$tickets"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E "Elapsed|User time|System time|Maximum resident set size" "$work/time.txt"
grep -E "transform: " "$work/time.txt" | sed 's/^.*DEBUG //' || true
id="$(sed -n 's/.*"bundle_id": "\(.*\)".*/\1/p' "$work/load-$tickets/manifest.json")"
echo "bundle_id $id"
if [ "$tickets" -le 20000 ]; then
  run "$work/load-$tickets-w" --window-tickets 97
  id2="$(sed -n 's/.*"bundle_id": "\(.*\)".*/\1/p' "$work/load-$tickets-w/manifest.json")"
  [ "$id" = "$id2" ] && echo "window 97: same bundle_id" || { echo "window 97: bundle_id $id2 differs"; exit 1; }
fi
