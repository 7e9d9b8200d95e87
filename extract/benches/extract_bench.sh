#!/usr/bin/env bash
# Extract benchmark (issue 6): rows/s for dbo.TASKS and dbo.TaskNote of a 100,000-ticket classic fixture over
# loopback, and peak resident memory (GNU time) of the whole run and of tables holding 50 MB image cells (integer,
# composite and no key).
# Usage: extract/benches/extract_bench.sh [WORKDIR]   (release build; figures go to docs/perf.md by hand)
# Runs use RUST_LOG=warn rather than -q: -q also hides the summary table the figures are read from.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
cargo build --release -p ti-extract -p trackit-fixture --manifest-path "$root/Cargo.toml" >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release"
export TRACKIT_SQL_PASSWORD=fixture TRACKIT_FIXTURE_PASSWORD=fixture

serve() { # DB → sets $port and $pid
  "$bin/trackit-fixture" serve --db "$1" --listen 127.0.0.1:0 --log "$work/serve.log" > "$work/serve.out" &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  port="$(sed -n 's/.*listening on 127.0.0.1://p' "$work/serve.out")"
}
conn() { echo "server=tcp:127.0.0.1,$port;database=TRACKIT_DATA;user=sa;encrypt=DANGER_PLAINTEXT"; }

# 1. 100,000-ticket classic fixture.
[ -f "$work/fx100k/trackit.sqlite" ] || "$bin/trackit-fixture" generate --profile classic --tickets 100000 --seed 1 --out "$work/fx100k" >&2
serve "$work/fx100k/trackit.sqlite"
rm -rf "$work/b100k"
RUST_LOG=warn /usr/bin/time -v "$bin/ti-extract" run --connection-string "$(conn)" --tables 'dbo.TASKS' --tables 'dbo.TaskNote' \
  --out "$work/b100k" > "$work/run100k.txt" 2> "$work/time100k.txt"
kill "$pid"
echo "== 100,000-ticket classic fixture (TASKS, TaskNote)"
cat "$work/run100k.txt"
awk '/^dbo\./ { printf "%s: %d rows in %.2f s = %.0f rows/s\n", $1, $3, $7, $3 / $7 }' "$work/run100k.txt"
grep -E "Maximum resident set size|Elapsed" "$work/time100k.txt"

# 1b. dbo.TASKS alone, three times (the issue's figure: ≥ 50,000 rows/s), with the load average: on a shared
# machine only a low load gives a meaningful figure.
serve "$work/fx100k/trackit.sqlite"
echo "== dbo.TASKS alone, 3 runs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1 2 3; do
  rm -rf "$work/btasks"
  RUST_LOG=warn "$bin/ti-extract" run --connection-string "$(conn)" --tables 'dbo.TASKS' --out "$work/btasks" > "$work/runtasks.txt" 2>/dev/null
  awk -v i="$i" '/^dbo\.TASKS/ { printf "run %d: %d rows in %.2f s = %.0f rows/s\n", i, $2, $7, $2 / $7 }' "$work/runtasks.txt"
done
grep '^OK' "$work/runtasks.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$pid"

# 2. A table with three 50 MB image cells.
if [ ! -f "$work/big2.sqlite" ]; then
python3 - "$work/big2.sqlite" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript('''
CREATE TABLE _ti_database (database_name TEXT NOT NULL, collation_name TEXT NOT NULL, server_version TEXT NOT NULL, product_version TEXT NOT NULL, time_zone TEXT, utc_offset_minutes INTEGER NOT NULL);
INSERT INTO _ti_database VALUES ('TRACKIT_DATA','SQL_Latin1_General_CP1_CI_AS','Microsoft SQL Server 2008 R2','10.50.6000.34',NULL,-300);
CREATE TABLE _ti_objects (schema_name TEXT NOT NULL, object_name TEXT NOT NULL, object_type TEXT NOT NULL, PRIMARY KEY (schema_name, object_name));
CREATE TABLE _ti_columns (schema_name TEXT NOT NULL, object_name TEXT NOT NULL, ordinal INTEGER NOT NULL, column_name TEXT NOT NULL, data_type TEXT NOT NULL, max_length INTEGER, precision INTEGER, scale INTEGER, is_nullable INTEGER NOT NULL, collation_name TEXT, pk_ordinal INTEGER, PRIMARY KEY (schema_name, object_name, ordinal));
CREATE TABLE "dbo.Files" ("Id", "Name", "Content");
INSERT INTO _ti_objects VALUES ('dbo','Files','BASE TABLE');
INSERT INTO _ti_columns VALUES ('dbo','Files',1,'Id','int',NULL,NULL,NULL,0,NULL,1),('dbo','Files',2,'Name','varchar',50,NULL,NULL,1,NULL,NULL),('dbo','Files',3,'Content','image',2147483647,NULL,NULL,1,NULL,NULL);
''')
for i in range(1, 4):
    c.execute('INSERT INTO "dbo.Files" VALUES (?,?,?)', (i, 'f%d' % i, os.urandom(50 * 1024 * 1024)))
# Composite key (windows by both key columns after the Q13 pre-pass) and a keyless table (read whole up to the
# 32 MiB keyless cap: the 20 MB cell is read whole, the 50 MB one is not read and is reported).
c.executescript('''
CREATE TABLE "dbo.FileParts" ("FileId", "Part", "Content");
INSERT INTO _ti_objects VALUES ('dbo','FileParts','BASE TABLE');
INSERT INTO _ti_columns VALUES ('dbo','FileParts',1,'FileId','int',NULL,NULL,NULL,0,NULL,1),('dbo','FileParts',2,'Part','smallint',NULL,NULL,NULL,0,NULL,2),('dbo','FileParts',3,'Content','image',2147483647,NULL,NULL,1,NULL,NULL);
CREATE TABLE "dbo.FileDump" ("Line", "Content");
INSERT INTO _ti_objects VALUES ('dbo','FileDump','BASE TABLE');
INSERT INTO _ti_columns VALUES ('dbo','FileDump',1,'Line','int',NULL,NULL,NULL,1,NULL,NULL),('dbo','FileDump',2,'Content','image',2147483647,NULL,NULL,1,NULL,NULL);
''')
c.execute('INSERT INTO "dbo.FileParts" VALUES (?,?,?)', (1, 1, os.urandom(50 * 1024 * 1024)))
c.execute('INSERT INTO "dbo.FileParts" VALUES (?,?,?)', (1, 2, b'small'))
c.execute('INSERT INTO "dbo.FileDump" VALUES (?,?)', (1, os.urandom(20 * 1024 * 1024)))
c.execute('INSERT INTO "dbo.FileDump" VALUES (?,?)', (2, os.urandom(50 * 1024 * 1024)))
c.commit()
PY
fi
serve "$work/big2.sqlite"
rm -rf "$work/bbig"
RUST_LOG=warn /usr/bin/time -v "$bin/ti-extract" run --connection-string "$(conn)" --out "$work/bbig" > "$work/runbig.txt" 2> "$work/timebig.txt"
kill "$pid"
echo "== 3 × 50 MB image cells (dbo.Files, int key), 50 MB in dbo.FileParts (composite key), 20 + 50 MB in dbo.FileDump (keyless)"
cat "$work/runbig.txt"
grep -E "Maximum resident set size|Elapsed" "$work/timebig.txt"
python3 - "$work/bbig/report/extract.json" <<'PY'
import json, sys
for t in json.load(open(sys.argv[1]))["tables"]:
    print("%s: %d rows, %d blob cells, %d omitted cells" % (t["name"], t["rows_written"], t["blob_cells"], t.get("omitted_cells", 0)))
PY
