#!/usr/bin/env bash
# Side by side, in one run, on one core (taskset -c 0, GOMAXPROCS=1, DuckDB
# threads=1), on one generated gzip file of ALB access logs:
#   zcat > /dev/null                       the decompression ceiling
#   log-shipper ingest                     gzip -> Delta table (Parquet, zstd)
#   DuckDB read_csv -> COPY (FORMAT parquet) the tool a user would pick instead
# then output bytes of both, and the named GROUP BY alb_top_5xx_targets on
# the lake's own files and on DuckDB's rewrite of the same rows.
#   apps/log-shipper/bench.sh [LINES]        (default 1000000)
# Env: LOG_SHIPPER (binary; built if unset), BENCH_DIR (scratch dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
LINES=${1:-1000000}
DIR=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$DIR"
if [ -z "${LOG_SHIPPER:-}" ]; then
  LOG_SHIPPER="$DIR/log-shipper"
  go build -o "$LOG_SHIPPER" ./apps/log-shipper
fi
one() { GOMAXPROCS=1 taskset -c 0 "$@"; }

IN="$DIR/alb-$LINES.log.gz"
[ -f "$IN" ] || "$LOG_SHIPPER" gen --type alb --lines "$LINES" --seed 1 --out "$IN"
RAW=$(zcat "$IN" | wc -c)
GZ=$(stat -c %s "$IN")
echo "input: $LINES ALB lines, $(( RAW / 1048576 )) MiB raw, $(( GZ / 1048576 )) MiB gzip; 1 core of $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
row() { # name seconds
  awk -v n="$1" -v s="$2" -v l="$LINES" -v b="$RAW" 'BEGIN { printf "%-46s %8.2f s %12.0f lines/s %8.1f MB/s\n", n, s, l/s, b/s/1e6 }'
}
printf "%-46s %10s %20s %13s\n" tool time throughput "(raw bytes)"

t0=$(now); one zcat "$IN" > /dev/null; zc=$(since "$t0")
row "zcat > /dev/null (ceiling)" "$zc"

rm -rf "$DIR/lake"
t0=$(now); one "$LOG_SHIPPER" ingest --quiet --json --type alb --workers 1 --out "$DIR/lake" "$IN" > "$DIR/ingest.json"; ls_s=$(since "$t0")
row "log-shipper ingest (gzip -> Delta, Parquet)" "$ls_s"

# DuckDB, through the same embedded engine log-shipper links: ALB lines as
# space-separated, double-quoted CSV; short lines padded, bad ones skipped.
mkdir -p "$DIR/empty"
rm -f "$DIR/duck.parquet"
t0=$(now)
one "$LOG_SHIPPER" query --threads 1 --lake "$DIR/empty" \
  "COPY (SELECT * FROM read_csv('$IN', delim = ' ', quote = '\"', escape = '\"', header = false, null_padding = true, ignore_errors = true)) TO '$DIR/duck.parquet' (FORMAT parquet, COMPRESSION zstd)" > /dev/null
dk_s=$(since "$t0")
row "DuckDB read_csv -> COPY parquet (zstd)" "$dk_s"

lake_bytes=$(find "$DIR/lake" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')
duck_bytes=$(stat -c %s "$DIR/duck.parquet")
awk -v z="$zc" -v l="$ls_s" -v d="$dk_s" -v a="$lake_bytes" -v b="$duck_bytes" 'BEGIN {
  printf "log-shipper at %.0f%% of zcat'"'"'s speed (target >= 50%%), %.2fx DuckDB'"'"'s (target > 1)\n", 100*z/l, d/l
  printf "output: lake %.1f MiB, DuckDB %.1f MiB (%.2fx)\n", a/1048576, b/1048576, a/b }'
echo "  $(head -c 240 "$DIR/ingest.json")..."

# The named GROUP BY, three runs each, on the lake's files and on DuckDB's
# rewrite of the lake's rows (its own writer, one file).
"$LOG_SHIPPER" query --lake "$DIR/lake" "COPY (SELECT * EXCLUDE (source, account, in_region, dt, hour) FROM alb) TO '$DIR/rewrite.parquet' (FORMAT parquet, COMPRESSION zstd)" > /dev/null
SQL=$(grep -v '^--' contracts/lake/queries/alb_top_5xx_targets.sql)
best() { # cmd...: best of 3 wall times
  local b=999999 t
  for _ in 1 2 3; do t0=$(now); "$@" > /dev/null; t=$(since "$t0"); b=$(awk -v a="$b" -v c="$t" 'BEGIN { print (c < a) ? c : a }'); done
  echo "$b"
}
q_lake=$(best one "$LOG_SHIPPER" query --threads 1 --lake "$DIR/lake" --named alb_top_5xx_targets)
FROM_REWRITE="FROM read_parquet('$DIR/rewrite.parquet')"
q_duck=$(best one "$LOG_SHIPPER" query --threads 1 --lake "$DIR/empty" "${SQL//FROM alb/$FROM_REWRITE}")
awk -v a="$q_lake" -v b="$q_duck" -v l="$LINES" 'BEGIN {
  printf "alb_top_5xx_targets over %d rows (process start included): lake %.3f s, DuckDB rewrite %.3f s (%.2fx; target <= 1.5x)\n", l, a, b, a/b }'
