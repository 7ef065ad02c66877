#!/usr/bin/env bash
# Compare log-shipper's ALB ingest (gzip -> partitioned Parquet) with
# goaccess (--log-format=AWSALB, JSON report) and `zcat > /dev/null` (the
# decompression ceiling) on one generated gzip file, in one run.
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
if ! command -v goaccess >/dev/null; then
  echo "goaccess not installed; installing the Debian package" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq goaccess >/dev/null; } || echo "goaccess could not be installed: skipped" >&2
fi

IN="$DIR/alb.log.gz"
[ -f "$IN" ] || "$LOG_SHIPPER" gen --type alb --lines "$LINES" --seed 1 --out "$IN"
RAW=$(zcat "$IN" | wc -c)
GZ=$(stat -c %s "$IN")
echo "input: $LINES ALB lines, $(( RAW / 1048576 )) MiB raw, $(( GZ / 1048576 )) MiB gzip, $(nproc) cores"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
row() { # name seconds
  awk -v n="$1" -v s="$2" -v l="$LINES" -v b="$RAW" 'BEGIN { printf "%-44s %8.2f s %12.0f lines/s %8.1f MB/s\n", n, s, l/s, b/s/1e6 }'
}
printf "%-44s %10s %20s %13s\n" tool time throughput "(raw bytes)"

t0=$(now); zcat "$IN" > /dev/null; el=$(since "$t0")
row "zcat > /dev/null (ceiling)" "$el"

rm -rf "$DIR/lake"
t0=$(now); "$LOG_SHIPPER" ingest --quiet --json --type alb --out "$DIR/lake" "$IN" > "$DIR/ingest.json"; el=$(since "$t0")
row "log-shipper ingest (gzip -> Parquet, zstd)" "$el"
echo "  $(cat "$DIR/ingest.json" | head -c 200)..."
echo "  lake size: $(du -sh "$DIR/lake" | cut -f1)"

if command -v goaccess >/dev/null; then
  t0=$(now); zcat "$IN" | goaccess - --log-format=AWSALB --no-progress -o "$DIR/goaccess.json" 2>"$DIR/goaccess.err" || true; el=$(since "$t0")
  row "goaccess --log-format=AWSALB (JSON report)" "$el"
  python3 -c "import json,sys; g=json.load(open('$DIR/goaccess.json'))['general']; print('  goaccess parsed: valid', g['valid_requests'], 'failed', g['failed_requests'])" 2>/dev/null || true
fi

t0=$(now); "$LOG_SHIPPER" query --lake "$DIR/lake" --all > "$DIR/queries.txt"; el=$(since "$t0")
echo "named queries over the lake (DuckDB, all 7): ${el} s"
