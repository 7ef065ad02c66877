#!/bin/sh
# Delivers the workflows in DIR (default /workflows) to n8n: imports each
# with n8n's CLI (an upsert by workflow id, so running it again changes
# nothing) and activates it. Runs in n8n's image as an init container, with
# n8n's database settings, before n8n starts and registers the webhooks of
# the active workflows. Tested against a real n8n by platform/n8n's test.
set -eu
dir=${1:-/workflows}
ids=""
for f in "$dir"/*.json; do
  [ -e "$f" ] || continue
  id=$(node -e 'const w = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (!w.id) { console.error(process.argv[1] + ": no id: every workflow in git needs a stable id"); process.exit(1) } process.stdout.write(w.id)' "$f")
  ids="$ids $id:$f"
done
[ -n "$ids" ] || { echo "no workflows in $dir" >&2; exit 1; }
# One workflow per file (--separate), upserted by id.
n8n import:workflow --separate --input="$dir"
for e in $ids; do
  n8n update:workflow --id="${e%%:*}" --active=true
  echo "delivered workflow ${e%%:*} from ${e#*:}"
done
